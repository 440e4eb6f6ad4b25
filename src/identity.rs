//! What a build is, whoever made it: the receipt in every installed prefix
//! ([`crate::layout::RECEIPT_FILE`]: what was installed, from which verified sources, with which
//! options, by which strap, when), the platform it runs on, and its cache key, which hashes
//! everything that decides its content. Packs, binary mirrors and the install
//! pipeline all name a build by these.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::layout::RECEIPT_FILE;

/// One source archive a build was made from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceArchive {
    pub file: String,
    pub sha256: String,
}

/// What an install records about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    pub kind: String,
    pub name: String,
    pub sources: Vec<SourceArchive>,
    pub options: Vec<String>,
    /// Kind-specific facts (an artifact's details in the install pipeline).
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub details: serde_json::Value,
    pub strap_version: String,
    /// When it was built (UTC, RFC 3339).
    pub date: String,
    /// The build cache key (of what the install pipeline built, see [`key`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// The packed build it was installed from, when it was not built here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_pack: Option<SourceArchive>,
}

/// A receipt that is there but cannot be used: the file, and what is wrong with it.
#[derive(Debug, thiserror::Error)]
#[error("corrupt receipt {}: {why}", path.display())]
pub struct CorruptReceipt {
    pub path: PathBuf,
    pub why: String,
}

impl Receipt {
    /// The receipt of the install at `prefix`: `None` when it has none; an error when the file
    /// is there but is not a receipt strap wrote (not a readable regular file of JSON, or a
    /// kind, name or key no build has).
    pub fn read(prefix: &Path) -> Result<Option<Receipt>, CorruptReceipt> {
        let path = prefix.join(RECEIPT_FILE);
        let corrupt = |why: String| CorruptReceipt {
            path: path.clone(),
            why,
        };
        let text = match crate::bounded::read_text(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(corrupt(e.to_string())),
        };
        let receipt: Receipt = serde_json::from_str(&text).map_err(|e| corrupt(e.to_string()))?;
        receipt.check().map_err(corrupt)?;
        Ok(Some(receipt))
    }

    /// Why this receipt names no build strap makes, if it does not.
    fn check(&self) -> Result<(), String> {
        let id = crate::layout::artifact_id(&self.kind, &self.name);
        if crate::layout::artifact_of(&id) != Some((self.kind.as_str(), self.name.as_str())) {
            return Err(format!(
                "its kind and name ({} {}) are not those of a build strap makes",
                self.kind, self.name
            ));
        }
        match &self.key {
            Some(key) if !is_key(key) => Err(format!("its key '{key}' is not 64 hex digits")),
            _ => Ok(()),
        }
    }

    /// Writes it into `prefix`, whole, and never through a link (an unpacked build may bring
    /// one; see [`crate::atomic_file`]).
    pub fn write(&self, prefix: &Path) -> std::io::Result<()> {
        let text = serde_json::to_string_pretty(self).map_err(std::io::Error::other)?;
        crate::atomic_file::write(&prefix.join(RECEIPT_FILE), (text + "\n").as_bytes())
    }

    /// The cache key of the build: the one it records, else computed (see [`key`]) from its
    /// sources' sha256, options, details and strap version.
    pub fn key(&self, platform: &Platform) -> String {
        if let Some(key) = &self.key {
            return key.clone();
        }
        let shas = self.sources.iter().map(|s| s.sha256.clone()).collect();
        key(
            &self.kind,
            &self.name,
            shas,
            &self.options,
            &self.details,
            platform,
            &self.strap_version,
        )
    }
}

/// True for a cache key as [`key`] makes them: 64 lowercase hex digits.
fn is_key(text: &str) -> bool {
    text.len() == 64
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The cache key of a build: a sha256 over what decides its content — kind, name, sources,
/// options, details, the platform's architecture, OS and C library family, and the strap
/// version (which decides how it builds). The C library's version is a requirement checked on
/// install, not part of the key.
pub fn key(
    kind: &str,
    name: &str,
    mut source_shas: Vec<String>,
    options: &[String],
    details: &serde_json::Value,
    platform: &Platform,
    strap_version: &str,
) -> String {
    source_shas.sort();
    source_shas.dedup();
    let decided_by = serde_json::json!({
        "kind": kind,
        "name": name,
        "sources": source_shas,
        "options": options,
        "details": details,
        "arch": platform.arch,
        "os": platform.os,
        "libc": platform.libc,
        "strap_version": strap_version,
    });
    let digest = Sha256::digest(decided_by.to_string().as_bytes());
    hex::encode(digest)
}

/// The machine a build runs on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Platform {
    /// `x86_64`, `aarch64`.
    pub arch: String,
    /// `linux`, `macos`.
    pub os: String,
    /// `glibc`, `musl` or `unknown`.
    pub libc: String,
    /// The C library's version (`2.36`), when known: a build needs at least this one.
    pub libc_version: Option<String>,
}

impl Platform {
    /// This machine.
    pub fn current() -> Platform {
        let libc = machine_libc();
        Platform {
            arch: std::env::consts::ARCH.to_owned(),
            os: std::env::consts::OS.to_owned(),
            libc: libc.to_owned(),
            libc_version: (libc == "glibc").then(glibc_version).flatten(),
        }
    }
}

/// This machine's C library, which what is built here links to (whatever strap itself was
/// built against): on Linux `musl` when its programs load musl's dynamic loader (the one
/// `/bin/sh` names, in its first pages, where ELF keeps it), else `glibc`; `unknown`
/// elsewhere. Read once.
pub fn machine_libc() -> &'static str {
    static LIBC: std::sync::OnceLock<&'static str> = std::sync::OnceLock::new();
    LIBC.get_or_init(|| {
        use std::io::Read;
        if !cfg!(target_os = "linux") {
            return "unknown";
        }
        let mut head = Vec::new();
        let read = std::fs::File::open("/bin/sh").and_then(|f| f.take(8192).read_to_end(&mut head));
        if read.is_ok() && head.windows(8).any(|w| w == b"/ld-musl") {
            "musl"
        } else {
            "glibc"
        }
    })
}

/// The version of the glibc strap runs with, when it was built against glibc.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn glibc_version() -> Option<String> {
    // SAFETY: gnu_get_libc_version returns a pointer to a static NUL-terminated string.
    let version = unsafe { std::ffi::CStr::from_ptr(libc::gnu_get_libc_version()) };
    Some(version.to_string_lossy().into_owned())
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn glibc_version() -> Option<String> {
    None
}

impl std::fmt::Display for Platform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} {}", self.arch, self.os, self.libc)?;
        match &self.libc_version {
            Some(version) => write!(f, " {version}"),
            None => Ok(()),
        }
    }
}

/// True when a build made on `built` runs on `here`: same architecture, OS and C library, and
/// a C library at least as new.
pub fn runs_here(built: &Platform, here: &Platform) -> bool {
    let newer_or_same = match (&built.libc_version, &here.libc_version) {
        (Some(needed), Some(have)) => {
            crate::dotted::lenient::<u64>(needed) <= crate::dotted::lenient::<u64>(have)
        }
        (None, _) => true,
        (Some(_), None) => false,
    };
    built.arch == here.arch && built.os == here.os && built.libc == here.libc && newer_or_same
}

#[cfg(test)]
mod tests {
    use super::*;

    fn receipt(options: &[&str]) -> Receipt {
        Receipt {
            kind: "python".into(),
            name: "3.11.2".into(),
            sources: vec![SourceArchive {
                file: "Python-3.11.2.tgz".into(),
                sha256: "a".repeat(64),
            }],
            options: options.iter().map(|o| o.to_string()).collect(),
            details: serde_json::Value::Null,
            strap_version: "0.1.0".into(),
            date: "2026-11-27T00:00:00Z".into(),
            key: None,
            from_pack: None,
        }
    }

    #[test]
    fn the_key_changes_with_what_decides_the_build_and_not_with_the_date() {
        let platform = Platform::current();
        let base = receipt(&["--enable-shared"]).key(&platform);
        assert_eq!(base.len(), 64);
        let mut later = receipt(&["--enable-shared"]);
        later.date = "2027-01-01T00:00:00Z".into();
        assert_eq!(later.key(&platform), base);
        assert_ne!(receipt(&["--with-pydebug"]).key(&platform), base);
        let other_arch = Platform {
            arch: "riscv64".into(),
            ..platform.clone()
        };
        assert_ne!(receipt(&["--enable-shared"]).key(&other_arch), base);
        let newer_libc = Platform {
            libc_version: Some("9.99".into()),
            ..platform
        };
        assert_eq!(
            receipt(&["--enable-shared"]).key(&newer_libc),
            base,
            "the libc version is a requirement, not part of the key"
        );
    }

    #[test]
    fn a_receipt_is_absent_usable_or_corrupt() {
        let dir = tempfile::tempdir().unwrap();
        assert!(Receipt::read(dir.path()).unwrap().is_none());
        let mut good = receipt(&[]);
        good.key = Some(good.key(&Platform::current()));
        good.write(dir.path()).unwrap();
        assert_eq!(Receipt::read(dir.path()).unwrap(), Some(good.clone()));
        let bad = [
            (
                Receipt {
                    key: Some("abc".into()),
                    ..good.clone()
                },
                "its key 'abc'",
            ),
            (
                Receipt {
                    key: Some("é".repeat(32)),
                    ..good.clone()
                },
                "is not 64 hex digits",
            ),
            (
                Receipt {
                    name: "../x".into(),
                    ..good.clone()
                },
                "kind and name",
            ),
            (
                Receipt {
                    kind: "perl".into(),
                    ..good.clone()
                },
                "kind and name",
            ),
        ];
        for (receipt, expected) in bad {
            receipt.write(dir.path()).unwrap();
            let error = Receipt::read(dir.path()).unwrap_err().to_string();
            assert!(error.starts_with("corrupt receipt "), "{error}");
            assert!(error.contains(expected), "{error}");
        }
        std::fs::write(dir.path().join(RECEIPT_FILE), "{").unwrap();
        assert!(Receipt::read(dir.path()).is_err());
    }

    #[test]
    fn this_machine_is_described() {
        let platform = Platform::current();
        assert_eq!(platform.os, std::env::consts::OS);
        if cfg!(all(target_os = "linux", target_env = "gnu")) {
            assert_eq!(platform.libc, "glibc");
            assert!(platform.libc_version.unwrap().starts_with("2."));
        }
    }

    #[test]
    fn a_build_runs_where_the_c_library_is_as_new_or_newer() {
        let platform = |arch: &str, libc: &str, version: Option<&str>| Platform {
            arch: arch.into(),
            os: "linux".into(),
            libc: libc.into(),
            libc_version: version.map(str::to_owned),
        };
        let here = platform("x86_64", "glibc", Some("2.36"));
        assert!(runs_here(&platform("x86_64", "glibc", Some("2.31")), &here));
        assert!(runs_here(&platform("x86_64", "glibc", Some("2.36")), &here));
        assert!(!runs_here(
            &platform("x86_64", "glibc", Some("2.39")),
            &here
        ));
        assert!(!runs_here(
            &platform("x86_64", "glibc", Some("2.100")),
            &here
        ));
        assert!(!runs_here(
            &platform("aarch64", "glibc", Some("2.31")),
            &here
        ));
        assert!(!runs_here(&platform("x86_64", "musl", None), &here));
    }
}

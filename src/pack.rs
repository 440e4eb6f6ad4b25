//! Packing an install for other machines: a `.tar.zst` of its prefix and a manifest that says
//! what it is (kind, name, the verified sources and options it was built from, the platform,
//! the strap that built it, the prefix it was built for, the archive's sha256) and its cache key,
//! which hashes everything that decides the build's content.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::atomic_file::{self, AtomicFile};
use crate::error::{Io, IoContext};
use crate::process::{Cancel, Interruptible};
use crate::stage::Receipt;
#[cfg(test)]
use crate::stage::SourceArchive;

/// The zstd level packs are written with: fast (a pack is made after every build), still about
/// a quarter of the install's size.
const LEVEL: i32 = 1;

/// The manifest format written by this strap.
pub const MANIFEST_FORMAT: u32 = 1;

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
        let (libc, libc_version) = libc_of_this_build();
        Platform {
            arch: std::env::consts::ARCH.to_owned(),
            os: std::env::consts::OS.to_owned(),
            libc: libc.to_owned(),
            libc_version,
        }
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn libc_of_this_build() -> (&'static str, Option<String>) {
    // SAFETY: gnu_get_libc_version returns a pointer to a static NUL-terminated string.
    let version = unsafe { std::ffi::CStr::from_ptr(libc::gnu_get_libc_version()) };
    ("glibc", Some(version.to_string_lossy().into_owned()))
}

#[cfg(all(target_os = "linux", target_env = "musl"))]
fn libc_of_this_build() -> (&'static str, Option<String>) {
    ("musl", None)
}

#[cfg(not(all(target_os = "linux", any(target_env = "gnu", target_env = "musl"))))]
fn libc_of_this_build() -> (&'static str, Option<String>) {
    ("unknown", None)
}

/// The packed archive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackedArchive {
    pub file: String,
    pub sha256: String,
    pub size: u64,
}

/// What a packed build is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub kind: String,
    pub name: String,
    /// The verified source archives it was built from.
    pub sources: Vec<crate::stage::SourceArchive>,
    /// The options that shaped the build.
    pub options: Vec<String>,
    /// Kind-specific facts from the receipt (Boost: libraries, the Python…).
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub details: serde_json::Value,
    pub platform: Platform,
    pub strap_version: String,
    /// The prefix it was built for (rewritten when it is installed elsewhere).
    pub prefix: PathBuf,
    /// The cache key: equal keys mean interchangeable builds.
    pub key: String,
    pub archive: PackedArchive,
}

impl Manifest {
    /// Why this packed build cannot be installed here as `kind` `name` with `key`, if it
    /// cannot: another build, a newer manifest format, another platform, a C library newer
    /// than this machine's, or an archive name that is not a plain `.tar.zst` file name.
    pub fn refusal(&self, kind: &str, name: &str, key: &str, here: &Platform) -> Option<String> {
        let digest_ok = self.archive.sha256.len() == 64
            && self.archive.sha256.bytes().all(|b| b.is_ascii_hexdigit());
        let file = &self.archive.file;
        let file_ok =
            file.ends_with(".tar.zst") && !file.starts_with('.') && !file.contains(['/', '\\']);
        if self.format > MANIFEST_FORMAT {
            Some(format!(
                "its manifest format {} is newer than this strap's ({MANIFEST_FORMAT})",
                self.format
            ))
        } else if self.key != key || self.kind != kind || self.name != name {
            Some(format!(
                "it is {} {} with key {}, not {kind} {name} with key {key}",
                self.kind, self.name, self.key
            ))
        } else if !runs_here(&self.platform, here) {
            Some(format!(
                "it was built for {}; this machine is {}",
                self.platform, here
            ))
        } else if !digest_ok || !file_ok {
            Some(format!(
                "its archive entry ({file}, sha256 {}) is not a .tar.zst file name with a sha256",
                self.archive.sha256
            ))
        } else {
            None
        }
    }
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
        (Some(needed), Some(have)) => version_parts(needed) <= version_parts(have),
        (None, _) => true,
        (Some(_), None) => false,
    };
    built.arch == here.arch && built.os == here.os && built.libc == here.libc && newer_or_same
}

fn version_parts(version: &str) -> Vec<u64> {
    version.split('.').map(|p| p.parse().unwrap_or(0)).collect()
}

/// Why an install could not be packed.
#[derive(Debug, thiserror::Error)]
pub enum PackError {
    #[error("{} has no strap receipt (strap-receipt.json): only installs strap built can be packed, since the manifest names their sources and options", .0.display())]
    NoReceipt(PathBuf),
    #[error(transparent)]
    Io(#[from] Io),
    #[error("packing {} was interrupted; nothing was written", .0.display())]
    Interrupted(PathBuf),
}

impl crate::error::Explain for PackError {
    fn exit_code(&self) -> i32 {
        match self {
            PackError::Interrupted(_) => crate::error::EXIT_INTERRUPTED,
            _ => crate::error::EXIT_FAILURE,
        }
    }
}

/// The cache key of a build: a sha256 over what decides its content — kind, name, sources,
/// options, details, the platform's architecture, OS and C library family, and the strap
/// version (which decides how it builds). The C library's version is a requirement checked on
/// install, not part of the key.
pub fn cache_key(receipt: &Receipt, platform: &Platform) -> String {
    if let Some(key) = &receipt.key {
        return key.clone();
    }
    let shas = receipt.sources.iter().map(|s| s.sha256.clone()).collect();
    key_of(
        &receipt.kind,
        &receipt.name,
        shas,
        &receipt.options,
        &receipt.details,
        platform,
        &receipt.strap_version,
    )
}

/// The cache key of what `artifact` builds here, known before anything is fetched: its
/// sources count by the sha256 of every archive it accepts (a `.tar.xz` and a `.tgz` of the
/// same release build the same thing), and paths in its options and details count relative to
/// its own prefix (`{prefix}`) and strap root (`{root}`: a Boost.Python build against a strap
/// Python), since a build is relocatable: the same build for another root is the same build.
pub fn artifact_key(artifact: &dyn crate::stage::Artifact, platform: &Platform) -> String {
    let shas = artifact
        .sources()
        .iter()
        .flat_map(|s| s.candidates.iter().map(|w| w.sha256.clone()))
        .collect();
    let prefix = artifact.prefix().display().to_string();
    let relative = prefix.trim_start_matches('/').to_owned();
    let root = artifact
        .prefix()
        .parent()
        .and_then(Path::parent)
        .map(|root| format!("{}/", root.display()))
        .filter(|root| root != "//");
    let abstracted = |text: &str| {
        let text = text
            .replace(&prefix, "{prefix}")
            .replace(&relative, "{prefix}");
        match &root {
            Some(root) => text.replace(root, "{root}/"),
            None => text,
        }
    };
    let options: Vec<String> = artifact.options().iter().map(|o| abstracted(o)).collect();
    let details = serde_json::from_str(&abstracted(&artifact.details().to_string()))
        .unwrap_or(serde_json::Value::Null);
    key_of(
        artifact.kind(),
        artifact.name(),
        shas,
        &options,
        &details,
        platform,
        env!("CARGO_PKG_VERSION"),
    )
}

fn key_of(
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
    crate::fetch::hex(&digest)
}

/// Packs the install at `prefix` into `archive` (a `.tar.zst`), writing the manifest to
/// `manifest`. Links are kept as links; the user's directories (a Python's `envs/`, see
/// [`crate::layout::user_dirs`]) are left out. Both files appear complete or not at all, and neither
/// replaces anything but a regular file (see [`crate::atomic_file`]). When `cancel` turns true,
/// it stops and leaves nothing behind.
pub fn pack(
    prefix: &Path,
    archive: &Path,
    manifest: &Path,
    cancel: &Cancel,
) -> Result<Manifest, PackError> {
    let receipt = Receipt::read(prefix).ok_or_else(|| PackError::NoReceipt(prefix.to_owned()))?;
    for path in [archive, manifest] {
        atomic_file::check_replaceable(path).io_context("write", path)?;
    }
    let platform = Platform::current();
    let key = cache_key(&receipt, &platform);
    let mut partial = AtomicFile::create(archive).io_context("write", archive)?;
    let left_out = crate::layout::user_dirs(&receipt.kind);
    let written = write_archive(prefix, left_out, partial.file(), archive, cancel);
    let (sha256, size) = written.map_err(|e| match cancel.is_cancelled() {
        true => PackError::Interrupted(archive.to_owned()),
        false => e,
    })?;
    partial.commit().io_context("write", archive)?;
    let packed = Manifest {
        format: MANIFEST_FORMAT,
        kind: receipt.kind,
        name: receipt.name,
        sources: receipt.sources,
        options: receipt.options,
        details: receipt.details,
        platform,
        strap_version: env!("CARGO_PKG_VERSION").to_owned(),
        prefix: prefix.to_owned(),
        key,
        archive: PackedArchive {
            file: archive
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned(),
            sha256,
            size,
        },
    };
    let text = serde_json::to_string_pretty(&packed).map_err(io::Error::other);
    text.and_then(|t| atomic_file::write(manifest, (t + "\n").as_bytes()))
        .io_context("write", manifest)?;
    Ok(packed)
}

/// Writes the tar.zst of `prefix`, without its top-level `left_out` directories, into `file` (the
/// one for `path`); returns its sha256 and size. Fails at the next file write once `cancel`
/// turns true.
fn write_archive(
    prefix: &Path,
    left_out: &[crate::layout::UserDir],
    file: &File,
    path: &Path,
    cancel: &Cancel,
) -> Result<(String, u64), PackError> {
    let hashing = HashingWriter {
        inner: BufWriter::new(file),
        hasher: Sha256::new(),
        written: 0,
    };
    let mut encoder =
        zstd::stream::write::Encoder::new(hashing, LEVEL).io_context("compress", path)?;
    // Compression runs on the other cores while this thread reads the files.
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get() as u32);
    encoder.multithread(workers).io_context("compress", path)?;
    let mut tar = tar::Builder::new(Interruptible {
        inner: encoder,
        cancel: cancel.clone(),
    });
    tar.follow_symlinks(false);
    append_prefix(&mut tar, prefix, left_out).io_context("pack", prefix)?;
    let encoder = tar.into_inner().io_context("write", path)?.inner;
    let mut hashing = encoder.finish().io_context("write", path)?;
    hashing.inner.flush().io_context("write", path)?;
    let digest = hashing.hasher.finalize();
    Ok((crate::fetch::hex(&digest), hashing.written))
}

/// Appends `prefix` as `.`, with everything in it but its top-level `left_out` directories.
fn append_prefix<W: Write>(
    tar: &mut tar::Builder<W>,
    prefix: &Path,
    left_out: &[crate::layout::UserDir],
) -> io::Result<()> {
    tar.append_dir(".", prefix)?;
    let mut entries: Vec<_> = std::fs::read_dir(prefix)?.collect::<io::Result<_>>()?;
    entries.sort_by_key(|entry| entry.file_name());
    for entry in entries {
        let name = entry.file_name();
        if left_out.iter().any(|dir| name == dir.name) {
            continue;
        }
        let packed = Path::new(".").join(&name);
        if entry.file_type()?.is_dir() {
            tar.append_dir_all(&packed, entry.path())?;
        } else {
            tar.append_path_with_name(entry.path(), &packed)?;
        }
    }
    Ok(())
}

/// Hashes and counts what passes through.
struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    written: u64,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
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
        let base = cache_key(&receipt(&["--enable-shared"]), &platform);
        assert_eq!(base.len(), 64);
        let mut later = receipt(&["--enable-shared"]);
        later.date = "2027-01-01T00:00:00Z".into();
        assert_eq!(cache_key(&later, &platform), base);
        assert_ne!(cache_key(&receipt(&["--with-pydebug"]), &platform), base);
        let other_arch = Platform {
            arch: "riscv64".into(),
            ..platform.clone()
        };
        assert_ne!(cache_key(&receipt(&["--enable-shared"]), &other_arch), base);
        let newer_libc = Platform {
            libc_version: Some("9.99".into()),
            ..platform
        };
        assert_eq!(
            cache_key(&receipt(&["--enable-shared"]), &newer_libc),
            base,
            "the libc version is a requirement, not part of the key"
        );
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

    #[test]
    fn a_manifest_is_refused_for_another_build_platform_or_a_bad_archive_entry() {
        let here = Platform::current();
        let manifest = Manifest {
            format: MANIFEST_FORMAT,
            kind: "python".into(),
            name: "3.11.2".into(),
            sources: Vec::new(),
            options: Vec::new(),
            details: serde_json::Value::Null,
            platform: here.clone(),
            strap_version: "0.1.0".into(),
            prefix: "/old/versions/3.11.2".into(),
            key: "k".repeat(64),
            archive: PackedArchive {
                file: "python-3.11.2-kkkk.tar.zst".into(),
                sha256: "a".repeat(64),
                size: 1,
            },
        };
        let key = "k".repeat(64);
        let refusal = |m: &Manifest| m.refusal("python", "3.11.2", &key, &here);
        assert_eq!(refusal(&manifest), None);
        let cases: [(Manifest, &str); 5] = [
            (
                Manifest {
                    format: MANIFEST_FORMAT + 1,
                    ..manifest.clone()
                },
                "newer than this strap's",
            ),
            (
                Manifest {
                    name: "3.11.3".into(),
                    ..manifest.clone()
                },
                "it is python 3.11.3 with key",
            ),
            (
                Manifest {
                    platform: Platform {
                        arch: "riscv64".into(),
                        ..here.clone()
                    },
                    ..manifest.clone()
                },
                "it was built for riscv64",
            ),
            (
                Manifest {
                    archive: PackedArchive {
                        file: "../../etc/x.tar.zst".into(),
                        ..manifest.archive.clone()
                    },
                    ..manifest.clone()
                },
                "is not a .tar.zst file name",
            ),
            (
                Manifest {
                    archive: PackedArchive {
                        sha256: "not-hex".into(),
                        ..manifest.archive.clone()
                    },
                    ..manifest.clone()
                },
                "is not a .tar.zst file name with a sha256",
            ),
        ];
        for (bad, expected) in cases {
            let why = refusal(&bad).expect("refused");
            assert!(why.contains(expected), "{why}");
        }
    }
}

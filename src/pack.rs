//! Packing an install for other machines: a `.tar.zst` of its prefix and a manifest that says
//! what it is (kind, name, the verified sources and options it was built from, the platform,
//! the strap that built it, the prefix it was built for, the archive's sha256) and its cache key
//! (see [`crate::identity`]). The manifest's one serializer and parser live here too.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::atomic_file::{self, AtomicFile};
use crate::error::{Io, IoContext};
use crate::identity::{runs_here, CorruptReceipt, Platform, Receipt, SourceArchive};
use crate::process::{Cancel, Interruptible};

/// The zstd level packs are written with: fast (a pack is made after every build), still about
/// a quarter of the install's size.
const LEVEL: i32 = 1;

/// The manifest format written by this strap.
pub const MANIFEST_FORMAT: u32 = 1;

/// The packed archive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackedArchive {
    pub file: String,
    /// Lower case, whatever case the manifest has ([`crate::sha256`]).
    #[serde(deserialize_with = "crate::sha256::deserialize")]
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
    pub sources: Vec<SourceArchive>,
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
    /// The manifest as its file (and a registry's config blob) holds it: pretty JSON, one
    /// trailing newline.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a manifest serializes") + "\n"
    }

    /// A manifest read from its JSON.
    pub fn from_json(bytes: &[u8]) -> serde_json::Result<Manifest> {
        serde_json::from_slice(bytes)
    }

    /// Writes the manifest file `path` whole or not at all (see [`crate::atomic_file`]).
    pub fn write(&self, path: &Path) -> io::Result<()> {
        atomic_file::write(path, self.to_json().as_bytes())
    }

    /// Why this packed build cannot be installed here as `kind` `name` with `key`, if it
    /// cannot: another build, a newer manifest format, another platform, a C library newer
    /// than this machine's, or an archive name that is not a plain `.tar.zst` file name.
    pub fn refusal(&self, kind: &str, name: &str, key: &str, here: &Platform) -> Option<String> {
        let digest_ok = crate::sha256::parse(&self.archive.sha256).is_some();
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

/// Why an install could not be packed.
#[derive(Debug, thiserror::Error)]
pub enum PackError {
    #[error("{} has no strap receipt (strap-receipt.json): only installs strap built can be packed, since the manifest names their sources and options", .0.display())]
    NoReceipt(PathBuf),
    #[error(transparent)]
    CorruptReceipt(#[from] CorruptReceipt),
    #[error(transparent)]
    Io(#[from] Io),
    #[error("packing {} was interrupted; nothing was written", .0.display())]
    Interrupted(PathBuf),
}

impl crate::error::Explain for PackError {
    fn hint(&self) -> Option<String> {
        match self {
            PackError::CorruptReceipt(_) => Some(
                "reinstall the build with --force to write a new receipt, then pack it".to_owned(),
            ),
            _ => None,
        }
    }

    fn exit_code(&self) -> i32 {
        match self {
            PackError::Interrupted(_) => crate::error::EXIT_INTERRUPTED,
            _ => crate::error::EXIT_FAILURE,
        }
    }
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
    pack_tree(prefix, prefix, archive, manifest, cancel)?.commit()
}

/// A pack written but not yet in place: [`PendingPack::commit`] puts its archive and manifest
/// where they go; dropped, it leaves nothing behind.
pub struct PendingPack {
    archive: AtomicFile,
    archive_path: PathBuf,
    manifest: Manifest,
    manifest_path: PathBuf,
}

impl PendingPack {
    /// Puts the archive, then its manifest, in place.
    pub fn commit(self) -> Result<Manifest, PackError> {
        let PendingPack {
            archive,
            archive_path,
            manifest,
            manifest_path,
        } = self;
        archive.commit().io_context("write", &archive_path)?;
        manifest
            .write(&manifest_path)
            .io_context("write", &manifest_path)?;
        Ok(manifest)
    }
}

/// [`pack`] of the install staged in `tree` that will be at `prefix` (the receipt in `tree`
/// says what it is), not yet put in place.
pub fn pack_tree(
    tree: &Path,
    prefix: &Path,
    archive: &Path,
    manifest: &Path,
    cancel: &Cancel,
) -> Result<PendingPack, PackError> {
    let receipt = receipt(tree)?;
    for path in [archive, manifest] {
        atomic_file::check_replaceable(path).io_context("write", path)?;
    }
    let platform = Platform::current();
    let key = receipt.key(&platform);
    let mut partial = AtomicFile::create(archive).io_context("write", archive)?;
    let left_out = crate::layout::user_dirs(&receipt.kind);
    let written = write_archive(tree, left_out, partial.file(), archive, cancel);
    let (sha256, size) = written.map_err(|e| match cancel.is_cancelled() {
        true => PackError::Interrupted(archive.to_owned()),
        false => e,
    })?;
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
    Ok(PendingPack {
        archive: partial,
        archive_path: archive.to_owned(),
        manifest: packed,
        manifest_path: manifest.to_owned(),
    })
}

/// The receipt of the install at `prefix`, which only a build strap made has.
pub fn receipt(prefix: &Path) -> Result<Receipt, PackError> {
    Receipt::read(prefix)?.ok_or_else(|| PackError::NoReceipt(prefix.to_owned()))
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
    Ok((hex::encode(digest), hashing.written))
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
        let json = manifest.to_json();
        assert!(json.ends_with("}\n"), "{json}");
        assert_eq!(Manifest::from_json(json.as_bytes()).unwrap(), manifest);
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

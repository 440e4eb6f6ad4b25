//! Safe unpacking of source archives (`.tar.xz`, `.tgz`/`.tar.gz`, `.tar.bz2`): absolute paths,
//! `..` components, links that escape the tree and device files are refused.

use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Component, Path, PathBuf};

use tar::EntryType;

/// Why an archive could not be unpacked.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("{}: not a compressed tar archive (expected xz, gzip or bzip2 data)", .0.display())]
    UnknownFormat(PathBuf),
    #[error("{}: refusing entry '{entry}': {why}", archive.display())]
    Unsafe {
        archive: PathBuf,
        entry: String,
        why: &'static str,
    },
    #[error("{}: corrupt or unreadable archive: {source}", archive.display())]
    Corrupt { archive: PathBuf, source: io::Error },
}

/// Unpacks `archive` into `dest` (which must be empty or absent) and returns the source tree:
/// the single top-level directory when there is one, else `dest`.
pub fn unpack(archive: &Path, dest: &Path) -> Result<PathBuf, ArchiveError> {
    let corrupt = |source| ArchiveError::Corrupt {
        archive: archive.to_owned(),
        source,
    };
    let mut file = BufReader::new(File::open(archive).map_err(corrupt)?);
    // By content, not by name: a checksum-addressed mirror serves files without extensions.
    let magic = file.fill_buf().map_err(corrupt)?;
    let reader: Box<dyn Read> = if magic.starts_with(b"\xFD7zXZ\x00") {
        Box::new(xz2::read::XzDecoder::new(file))
    } else if magic.starts_with(b"\x1F\x8B") {
        Box::new(flate2::read::GzDecoder::new(file))
    } else if magic.starts_with(b"BZh") {
        Box::new(bzip2::read::BzDecoder::new(file))
    } else {
        return Err(ArchiveError::UnknownFormat(archive.to_owned()));
    };
    fs::create_dir_all(dest).map_err(corrupt)?;
    let mut tar = tar::Archive::new(reader);
    tar.set_preserve_permissions(true);
    tar.set_preserve_mtime(true);
    tar.set_overwrite(true);
    for entry in tar.entries().map_err(corrupt)? {
        let mut entry = entry.map_err(corrupt)?;
        let path = entry.path().map_err(corrupt)?.into_owned();
        let unsafe_entry = |why| ArchiveError::Unsafe {
            archive: archive.to_owned(),
            entry: path.display().to_string(),
            why,
        };
        check_relative(&path).map_err(unsafe_entry)?;
        match entry.header().entry_type() {
            EntryType::Regular
            | EntryType::Directory
            | EntryType::Continuous
            | EntryType::GNUSparse => {}
            EntryType::Symlink => {
                let target = entry
                    .link_name()
                    .map_err(corrupt)?
                    .unwrap_or_default()
                    .into_owned();
                let base = path.parent().unwrap_or(Path::new(""));
                check_link(base, &target).map_err(unsafe_entry)?;
            }
            EntryType::Link => {
                let target = entry
                    .link_name()
                    .map_err(corrupt)?
                    .unwrap_or_default()
                    .into_owned();
                check_relative(&target).map_err(unsafe_entry)?;
            }
            EntryType::Char | EntryType::Block | EntryType::Fifo => {
                return Err(unsafe_entry(
                    "device and FIFO entries are not allowed in a source archive",
                ))
            }
            // PAX and GNU long-name headers are consumed by the reader; anything else is skipped.
            _ => continue,
        }
        if !entry.unpack_in(dest).map_err(corrupt)? {
            return Err(unsafe_entry("it would be written outside the destination"));
        }
    }
    Ok(single_top_dir(dest).unwrap_or_else(|| dest.to_owned()))
}

/// A path inside the tree: relative, no `..`.
fn check_relative(path: &Path) -> Result<(), &'static str> {
    for component in path.components() {
        match component {
            Component::Normal(_) | Component::CurDir => {}
            Component::ParentDir => return Err("its path contains '..'"),
            Component::RootDir | Component::Prefix(_) => return Err("its path is absolute"),
        }
    }
    Ok(())
}

/// A symlink in directory `base` (relative to the tree's top) pointing at `target` must stay inside.
fn check_link(base: &Path, target: &Path) -> Result<(), &'static str> {
    if target.has_root() {
        return Err("it is a link to an absolute path");
    }
    let mut depth: usize = base
        .components()
        .filter(|c| matches!(c, Component::Normal(_)))
        .count();
    for component in target.components() {
        match component {
            Component::Normal(_) => depth += 1,
            Component::ParentDir => {
                depth = depth
                    .checked_sub(1)
                    .ok_or("it is a link that points outside the tree")?;
            }
            _ => {}
        }
    }
    Ok(())
}

fn single_top_dir(dest: &Path) -> Option<PathBuf> {
    let mut entries = fs::read_dir(dest).ok()?.filter_map(Result::ok);
    let first = entries.next()?;
    (entries.next().is_none() && first.file_type().ok()?.is_dir()).then(|| first.path())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_checked_against_their_directory() {
        assert!(check_link(Path::new("top/sub"), Path::new("../file")).is_ok());
        assert!(check_link(Path::new("top"), Path::new("../../etc/passwd")).is_err());
        assert!(check_link(Path::new(""), Path::new("..")).is_err());
        assert!(check_link(Path::new("top"), Path::new("/etc/passwd")).is_err());
        assert!(check_link(Path::new("top"), Path::new("a/../../b")).is_ok());
        assert!(check_link(Path::new("top"), Path::new("a/../../../b")).is_err());
    }

    fn tar_bytes() -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        let mut header = tar::Header::new_gnu();
        header.set_size(5);
        header.set_mode(0o755);
        header.set_cksum();
        builder
            .append_data(&mut header, "Python-9.9.9/configure", &b"echo\n"[..])
            .unwrap();
        builder.into_inner().unwrap()
    }

    #[test]
    fn xz_gzip_and_bzip2_archives_unpack_to_their_top_directory() {
        use std::io::Write;
        let tar = tar_bytes();
        let mut xz = xz2::write::XzEncoder::new(Vec::new(), 1);
        xz.write_all(&tar).unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&tar).unwrap();
        let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
        bz.write_all(&tar).unwrap();
        let dir = tempfile::tempdir().unwrap();
        for (name, bytes) in [
            ("a.tar.xz", xz.finish().unwrap()),
            ("a.tgz", gz.finish().unwrap()),
            ("a.tar.bz2", bz.finish().unwrap()),
        ] {
            let archive = dir.path().join(name);
            fs::write(&archive, bytes).unwrap();
            let dest = dir.path().join(format!("out-{name}"));
            let top = unpack(&archive, &dest).unwrap();
            assert_eq!(top, dest.join("Python-9.9.9"));
            let configure = top.join("configure");
            assert_eq!(fs::read(&configure).unwrap(), b"echo\n");
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                fs::metadata(&configure).unwrap().permissions().mode() & 0o777,
                0o755
            );
        }
        let plain = dir.path().join("plain.tar");
        fs::write(&plain, tar_bytes()).unwrap();
        assert!(matches!(
            unpack(&plain, &dir.path().join("x")),
            Err(ArchiveError::UnknownFormat(_))
        ));
    }

    #[test]
    fn relative_paths_only() {
        assert!(check_relative(Path::new("top/./a")).is_ok());
        assert!(check_relative(Path::new("/abs")).is_err());
        assert!(check_relative(Path::new("top/../../x")).is_err());
    }
}

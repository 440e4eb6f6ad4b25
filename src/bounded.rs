//! Reading what strap is pointed at, bounded: only regular files (a FIFO, a device or a socket
//! named like a config file, a manifest or an archive is refused at once, never waited on), and
//! a small file (config, manifest, recipe, version file, catalog, receipt) only up to a limit.

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// The most bytes strap reads from a small text file it is pointed at (and from a pack manifest
/// on a binary mirror, or an OCI manifest or config): real ones have a few KiB.
pub const SMALL_FILE_LIMIT: u64 = 1 << 20;

/// Why a file is not read.
#[derive(Debug, Clone, Copy, thiserror::Error)]
pub enum Refusal {
    #[error("it is {0}, not a regular file")]
    NotRegular(&'static str),
    #[error("it is larger than {}", size_text(*.0))]
    TooLarge(u64),
}

impl From<Refusal> for io::Error {
    fn from(refusal: Refusal) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, refusal)
    }
}

/// The refusal inside `error`, when the error is one.
pub fn refusal(error: &io::Error) -> Option<&Refusal> {
    error.get_ref()?.downcast_ref::<Refusal>()
}

/// Opens `path` for reading when it is a regular file (following links). The open never blocks
/// (`O_NONBLOCK`: a FIFO without a writer opens at once), and what was opened is checked, so
/// nothing can be swapped in between.
pub fn open_regular(path: &Path) -> io::Result<File> {
    open_with_len(path).map(|(file, _)| file)
}

/// The bytes of the regular file `path`, refused when it has more than `limit`.
pub fn read(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    let (file, len) = open_with_len(path)?;
    let mut bytes = Vec::with_capacity(usize::try_from(len.min(limit)).unwrap_or(0));
    read_at_most(file, limit, &mut bytes)?;
    Ok(bytes)
}

/// [`open_regular`], with the file's length.
fn open_with_len(path: &Path) -> io::Result<(File, u64)> {
    // O_NONBLOCK changes nothing for reading a regular file, the only kind kept.
    let file = File::options()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    let len = regular_len(&file)?;
    Ok((file, len))
}

/// The length of an open file, refused unless it is a regular file.
pub fn regular_len(file: &File) -> io::Result<u64> {
    let meta = file.metadata()?;
    let kind = meta.file_type();
    if kind.is_file() {
        return Ok(meta.len());
    }
    let what = if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_dir() {
        "a directory"
    } else {
        "a special file"
    };
    Err(Refusal::NotRegular(what).into())
}

/// The text of the small regular file `path` (at most [`SMALL_FILE_LIMIT`] bytes of UTF-8).
pub fn read_text(path: &Path) -> io::Result<String> {
    String::from_utf8(read(path, SMALL_FILE_LIMIT)?)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "it is not UTF-8 text"))
}

/// Appends what `source` gives to `bytes`, refused when it is more than `limit` bytes (a file
/// that grows while it is read, an HTTP body).
pub fn read_at_most(source: impl Read, limit: u64, bytes: &mut Vec<u8>) -> io::Result<()> {
    source.take(limit.saturating_add(1)).read_to_end(bytes)?;
    if bytes.len() as u64 > limit {
        return Err(Refusal::TooLarge(limit).into());
    }
    Ok(())
}

/// `1 MiB`, `64 KiB`, `100 bytes`.
fn size_text(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 && b % (1 << 10) == 0 => format!("{} KiB", b >> 10),
        b => format!("{b} bytes"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_files_are_read_and_large_ones_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, b"3.12\n").unwrap();
        assert_eq!(read(&file, 5).unwrap(), b"3.12\n");
        let err = read(&file, 4).unwrap_err();
        assert_eq!(err.to_string(), "it is larger than 4 bytes");
        assert!(matches!(refusal(&err), Some(Refusal::TooLarge(4))));
        assert_eq!(size_text(SMALL_FILE_LIMIT), "1 MiB");
        assert_eq!(size_text(64 << 10), "64 KiB");
    }

    #[test]
    fn only_regular_files_are_opened() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let c_path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: mkfifo with a NUL-terminated path we own.
        assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) }, 0);
        for (path, what) in [
            (fifo.as_path(), "a FIFO"),
            (Path::new("/dev/zero"), "a character device"),
            (dir.path(), "a directory"),
        ] {
            let err = read_text(path).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("it is {what}, not a regular file"),
                "{}",
                path.display()
            );
        }
    }
}

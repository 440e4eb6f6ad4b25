//! Files strap writes next to where they go: written whole under an unpredictable name (created
//! with `O_CREAT|O_EXCL|O_NOFOLLOW`, so nothing planted there is ever opened), then renamed onto
//! the destination. Files strap makes ([`AtomicFile::commit`]: packs, manifests, receipts) go
//! only where nothing or a regular file is; files a user asks strap to manage
//! ([`AtomicFile::replace`]: recipe files, version files) replace a link in their place. Nothing
//! is ever written through a link. Every file strap replaces goes through here (write, fsync,
//! rename), and so do links it replaces ([`symlink`]: shims, pyenv's command links).

use std::ffi::{OsStr, OsString};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// The most bytes of the destination's name a temporary name keeps, so that it stays within
/// the 255 bytes a file name may have.
const NAME_KEPT: usize = 200;

/// A file being written for `dest`; removed when dropped before [`AtomicFile::commit`].
pub struct AtomicFile {
    temp: tempfile::NamedTempFile,
    dest: PathBuf,
}

impl AtomicFile {
    /// A new empty file next to `dest`, named `.<name>.<random>.part` after `dest`'s name (its
    /// first [`NAME_KEPT`] bytes), with mode 0666 less the umask.
    pub fn create(dest: &Path) -> io::Result<AtomicFile> {
        let temp = make_next_to(dest, |path| {
            OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o666)
                .custom_flags(libc::O_NOFOLLOW)
                .open(path)
        })?;
        Ok(AtomicFile {
            temp,
            dest: dest.to_owned(),
        })
    }

    /// The temporary file's path (for a program that writes into it).
    pub fn path(&self) -> &Path {
        self.temp.path()
    }

    /// The file to write into.
    pub fn file(&mut self) -> &mut File {
        self.temp.as_file_mut()
    }

    /// Syncs the file and renames it onto its destination, unless something other than a
    /// regular file is there (see [`check_replaceable`]); the file is removed when that fails.
    pub fn commit(self) -> io::Result<()> {
        check_replaceable(&self.dest)?;
        self.replace()
    }

    /// Syncs the file and renames it onto its destination whatever is there: a link there is
    /// replaced, not followed (as `install` and Ansible's `copy` do), a directory is an error.
    /// For files a user asked strap to manage (recipe files, version files); the file is
    /// removed when it fails.
    pub fn replace(self) -> io::Result<()> {
        self.temp.as_file().sync_all()?;
        self.temp
            .persist(&self.dest)
            .map(drop)
            .map_err(|failed| failed.error)
    }
}

/// Makes something new with `make` under a temporary name next to `dest`:
/// `.<name>.<random>.part` after `dest`'s name (its first [`NAME_KEPT`] bytes); it is removed
/// when dropped before it is persisted.
fn make_next_to<R>(
    dest: &Path,
    make: impl FnMut(&Path) -> io::Result<R>,
) -> io::Result<tempfile::NamedTempFile<R>> {
    let name = dest.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "it does not end in a file name",
        )
    })?;
    let dir = match dest.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let kept = &name.as_bytes()[..name.len().min(NAME_KEPT)];
    let mut prefix = OsString::from(".");
    prefix.push(OsStr::from_bytes(kept));
    prefix.push(".");
    tempfile::Builder::new()
        .prefix(&prefix)
        .suffix(".part")
        .rand_bytes(crate::layout::TEMP_RANDOM_LEN)
        .make_in(dir, make)
}

/// Makes `link` a symbolic link to `target` in one step: a new link under a temporary name
/// next to it (see [`AtomicFile::create`]), renamed over whatever is at `link` (a link or a
/// file, not a directory), so `link` is never missing, even for a moment.
pub fn symlink(target: &Path, link: &Path) -> io::Result<()> {
    make_next_to(link, |path| std::os::unix::fs::symlink(target, path))?
        .persist(link)
        .map(drop)
        .map_err(|failed| failed.error)
}

/// Writes `bytes` to `dest` whole or not at all (see [`AtomicFile`]).
pub fn write(dest: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = AtomicFile::create(dest)?;
    file.file().write_all(bytes)?;
    file.commit()
}

/// Fails, saying what is there, unless `path` is absent or a regular file (a link at `path`
/// is looked at, not followed).
pub fn check_replaceable(path: &Path) -> io::Result<()> {
    let kind = match fs::symlink_metadata(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
        Ok(metadata) => metadata.file_type(),
    };
    let what = if kind.is_file() {
        return Ok(());
    } else if kind.is_symlink() {
        "a symbolic link"
    } else if kind.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    };
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        format!(
            "it is {what}, which strap neither replaces nor writes through; move it away or \
             use another path"
        ),
    ))
}

/// Creates `path` afresh for writing, for files whose fixed name matters (a download resumed
/// later): whatever had the name (an older partial file, or a link or a FIFO planted there) is
/// removed first, and the new file is never opened through a link.
pub fn create_fresh(path: &Path) -> io::Result<File> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
        _ => {}
    }
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
}

/// Opens the regular file `path` to read what it holds and append to it (a partial download
/// resumed): never through a link, never blocking on a FIFO.
pub fn open_to_append(path: &Path) -> io::Result<File> {
    let file = OpenOptions::new()
        .read(true)
        .append(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)?;
    regular(file, path)
}

/// Opens the regular file `path` for reading, never through a link and never blocking on a
/// FIFO (anything else is refused with the error of [`check_replaceable`]).
pub fn open_regular(path: &Path) -> io::Result<File> {
    check_replaceable(path)?;
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)?;
    regular(file, path)
}

/// `file` when it is a regular file; else the refusal of [`check_replaceable`] for `path`
/// (something else took its place between the look and the open).
fn regular(file: File, path: &Path) -> io::Result<File> {
    if file.metadata()?.is_file() {
        return Ok(file);
    }
    Err(check_replaceable(path)
        .err()
        .unwrap_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "it is not a regular file")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{symlink, PermissionsExt};

    #[test]
    fn a_file_appears_whole_and_its_temporary_name_is_gone() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("out.json");
        write(&dest, b"{}\n").unwrap();
        assert_eq!(fs::read(&dest).unwrap(), b"{}\n");
        let names: Vec<_> = fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1);
        let mode = fs::metadata(&dest).unwrap().permissions().mode();
        assert_eq!(mode & 0o600, 0o600, "{mode:o}");
    }

    #[test]
    fn a_file_with_the_longest_name_is_written_too() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("x".repeat(255));
        write(&dest, b"long").unwrap();
        assert_eq!(fs::read(&dest).unwrap(), b"long");
    }

    #[test]
    fn an_uncommitted_file_is_removed() {
        let dir = tempfile::tempdir().unwrap();
        let mut file = AtomicFile::create(&dir.path().join("x")).unwrap();
        file.file().write_all(b"half").unwrap();
        drop(file);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn links_directories_and_fifos_are_neither_replaced_nor_opened() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        fs::write(&victim, "precious").unwrap();
        let link = dir.path().join("link");
        symlink(&victim, &link).unwrap();
        let sub = dir.path().join("sub");
        fs::create_dir(&sub).unwrap();
        let fifo = dir.path().join("fifo");
        let c_path = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: c_path is a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o644) }, 0);
        for (path, what) in [
            (&link, "a symbolic link"),
            (&sub, "a directory"),
            (&fifo, "not a regular file"),
        ] {
            let err = write(path, b"x").unwrap_err();
            assert!(
                err.to_string().starts_with(&format!("it is {what}")),
                "{err}"
            );
            assert!(open_to_append(path).is_err());
            assert!(open_regular(path).is_err());
        }
        assert_eq!(fs::read_to_string(&victim).unwrap(), "precious");
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(fs::read_dir(&sub).unwrap().count(), 0);
    }

    #[test]
    fn a_link_is_replaced_by_a_new_one_in_one_step() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("python");
        super::symlink(Path::new("/old/strap"), &link).unwrap();
        super::symlink(Path::new("/new/strap"), &link).unwrap();
        assert_eq!(fs::read_link(&link).unwrap(), Path::new("/new/strap"));
        fs::remove_file(&link).unwrap();
        fs::write(&link, "a file").unwrap();
        super::symlink(Path::new("/new/strap"), &link).unwrap();
        assert_eq!(fs::read_link(&link).unwrap(), Path::new("/new/strap"));
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
        let sub = dir.path().join("sub");
        fs::create_dir(&sub).unwrap();
        assert!(super::symlink(Path::new("/new/strap"), &sub).is_err());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 2);
    }

    #[test]
    fn a_fixed_name_is_created_afresh_or_appended_to() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        fs::write(&victim, "precious").unwrap();
        let part = dir.path().join("a.part");
        std::os::unix::fs::symlink(&victim, &part).unwrap();
        create_fresh(&part).unwrap().write_all(b"ab").unwrap();
        open_to_append(&part).unwrap().write_all(b"cd").unwrap();
        assert_eq!(fs::read(&part).unwrap(), b"abcd");
        assert_eq!(fs::read_to_string(&victim).unwrap(), "precious");
        create_fresh(&part).unwrap();
        assert_eq!(fs::read(&part).unwrap(), b"");
    }
}

//! Advisory file locks that serialize work on the same root (rehash, installs, downloads).
//!
//! Lock files may be removed by `strap cache clean` while nobody holds them. To make that safe,
//! the cleaner unlinks a lock file only while holding its lock ([`FileLock::remove`]), and every
//! taker checks, once it holds the lock, that the path still names the file it locked; when it does
//! not (the file was removed, or removed and created again, while this process waited), it starts
//! over with the file now at the path. So two processes never both "hold" one lock through two
//! different files.

use std::fs::{self, File};
use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use crate::error::{Io, IoContext};
use crate::process::Cancel;

/// An exclusive lock held until dropped.
#[derive(Debug)]
pub struct FileLock {
    file: File,
    path: PathBuf,
}

impl FileLock {
    /// Takes the exclusive lock at `path`, creating the file and its directory if needed.
    /// When another process holds it, `on_wait` is called once and the call blocks until it is free.
    pub fn acquire(path: &Path, on_wait: impl FnOnce(&Path)) -> Result<Self, Io> {
        let mut on_wait = Some(on_wait);
        loop {
            let file = open(path)?;
            match file.try_lock() {
                Ok(()) => {}
                Err(fs::TryLockError::WouldBlock) => {
                    if let Some(on_wait) = on_wait.take() {
                        on_wait(path);
                    }
                    file.lock().io_context("lock", path)?;
                }
                Err(fs::TryLockError::Error(e)) => return Err(Io::new("lock", path, e)),
            }
            if still_at(&file, path) {
                return Ok(FileLock::held(file, path));
            }
        }
    }

    /// Like [`FileLock::acquire`], but the wait ends when `cancel` turns true (Ctrl-C while
    /// another strap process holds the lock): then `None`.
    pub fn acquire_unless_cancelled(
        path: &Path,
        on_wait: impl FnOnce(&Path),
        cancel: &Cancel,
    ) -> Result<Option<Self>, Io> {
        let mut file = open(path)?;
        let mut on_wait = Some(on_wait);
        loop {
            match file.try_lock() {
                Ok(()) if still_at(&file, path) => return Ok(Some(FileLock::held(file, path))),
                Ok(()) => file = open(path)?,
                Err(fs::TryLockError::WouldBlock) => {
                    if let Some(on_wait) = on_wait.take() {
                        on_wait(path);
                    }
                    if cancel.is_cancelled() {
                        return Ok(None);
                    }
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                Err(fs::TryLockError::Error(e)) => return Err(Io::new("lock", path, e)),
            }
        }
    }

    /// Takes the lock at `path` only if nobody holds it; never waits. `Busy` carries the pid the
    /// holder recorded in the file, when it can be read. With `create` false, a missing file is
    /// [`TryLock::Missing`] (nothing to lock, nothing created). Unlike the other ways to lock, this
    /// one leaves the file unchanged (no pid is recorded), so its modification time still says
    /// when it was last used.
    pub fn try_acquire(path: &Path, create: bool) -> Result<TryLock, Io> {
        loop {
            let file = if create {
                open(path)?
            } else {
                match File::options()
                    .read(true)
                    .write(true)
                    .custom_flags(libc::O_NOFOLLOW)
                    .open(path)
                {
                    Ok(file) => regular(file, path)?,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                        return Ok(TryLock::Missing)
                    }
                    Err(e) => return Err(open_error(path, e)),
                }
            };
            match file.try_lock() {
                Ok(()) if still_at(&file, path) => {
                    return Ok(TryLock::Acquired(FileLock {
                        file,
                        path: path.to_owned(),
                    }))
                }
                Ok(()) if !create && fs::symlink_metadata(path).is_err() => {
                    return Ok(TryLock::Missing)
                }
                Ok(()) => continue,
                Err(fs::TryLockError::WouldBlock) => {
                    return Ok(TryLock::Busy {
                        holder: recorded_holder(path),
                    })
                }
                Err(fs::TryLockError::Error(e)) => return Err(Io::new("lock", path, e)),
            }
        }
    }

    /// Removes the lock file while still holding it, then releases it. Processes waiting on the
    /// removed file notice and start over with a new one (see the module documentation).
    pub fn remove(self) -> Result<(), Io> {
        if !still_at(&self.file, &self.path) {
            return Ok(());
        }
        fs::remove_file(&self.path).io_context("remove", &self.path)
    }

    /// Records the holder for whoever inspects a stuck lock; failing to is harmless.
    fn held(mut file: File, path: &Path) -> FileLock {
        let _ = file.set_len(0);
        let _ = writeln!(file, "{}", std::process::id());
        FileLock {
            file,
            path: path.to_owned(),
        }
    }
}

/// The outcome of [`FileLock::try_acquire`].
#[derive(Debug)]
pub enum TryLock {
    Acquired(FileLock),
    /// Another process holds the lock; `holder` is the pid it recorded.
    Busy {
        holder: Option<u32>,
    },
    /// The lock file does not exist (only without `create`).
    Missing,
}

/// The pid the last holder wrote into the lock file (its first line; a pid is short).
fn recorded_holder(path: &Path) -> Option<u32> {
    crate::bounded::read_text(path).ok()?.trim().parse().ok()
}

/// True when `path` still names the open `file` (it was not removed or replaced meanwhile).
fn still_at(file: &File, path: &Path) -> bool {
    match (file.metadata(), fs::metadata(path)) {
        (Ok(open), Ok(named)) => open.dev() == named.dev() && open.ino() == named.ino(),
        _ => false,
    }
}

/// Opens (creating) the lock file and its directory; never through a link.
fn open(path: &Path) -> Result<File, Io> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).io_context("create directory", dir)?;
    }
    File::options()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .map_err(|e| open_error(path, e))
        .and_then(|file| regular(file, path))
}

/// `file` when it is a regular file (not a FIFO or a device someone put in its place).
fn regular(file: File, path: &Path) -> Result<File, Io> {
    match file.metadata() {
        Ok(meta) if meta.is_file() => Ok(file),
        Ok(_) => Err(Io::new(
            "lock",
            path,
            std::io::Error::other("not a regular file; remove it"),
        )),
        Err(e) => Err(Io::new("open lock file", path, e)),
    }
}

/// A lock file that cannot be opened; a link in its place is named as such.
fn open_error(path: &Path, e: std::io::Error) -> Io {
    let action = if e.raw_os_error() == Some(libc::ELOOP) {
        "lock through the link"
    } else {
        "open lock file"
    };
    Io::new(action, path, e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_removed_lock_file_is_not_locked_through_its_old_inode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.lock");
        let held = FileLock::acquire(&path, |_| {}).unwrap();
        // Someone opened the old file before it was removed…
        let stale = File::options().read(true).write(true).open(&path).unwrap();
        held.remove().unwrap();
        stale.lock().unwrap();
        assert!(!still_at(&stale, &path));
        // …a new taker gets a new file, and so does the stale opener once it starts over.
        let fresh = FileLock::acquire(&path, |_| {}).unwrap();
        assert!(still_at(&fresh.file, &path));
        assert!(matches!(
            FileLock::try_acquire(&path, false).unwrap(),
            TryLock::Busy { holder: Some(pid) } if pid == std::process::id()
        ));
        drop(fresh);
        assert!(matches!(
            FileLock::try_acquire(&path, false).unwrap(),
            TryLock::Acquired(_)
        ));
        std::fs::remove_file(&path).unwrap();
        assert!(matches!(
            FileLock::try_acquire(&path, false).unwrap(),
            TryLock::Missing
        ));
    }

    #[test]
    fn a_waiter_on_a_removed_lock_file_starts_over_with_a_new_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.lock");
        let cleaner = match FileLock::try_acquire(&path, true).unwrap() {
            TryLock::Acquired(lock) => lock,
            other => panic!("{other:?}"),
        };
        let (tx, rx) = std::sync::mpsc::channel();
        let waiter = {
            let path = path.clone();
            std::thread::spawn(move || {
                let lock = FileLock::acquire(&path, |_| tx.send(()).unwrap()).unwrap();
                // Held through the file now at the path, which others see as taken.
                assert!(still_at(&lock.file, &path));
                assert!(matches!(
                    FileLock::try_acquire(&path, false).unwrap(),
                    TryLock::Busy { .. }
                ));
            })
        };
        rx.recv().unwrap(); // the waiter opened the old file and waits on it
        cleaner.remove().unwrap();
        waiter.join().unwrap();
        assert!(path.exists());
    }
}

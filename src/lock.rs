//! Advisory file locks that serialize work on the same root (rehash, installs).

use std::fs::{self, File};
use std::io::Write;
use std::path::Path;

use crate::error::{Error, Result};
use crate::process::Cancel;

/// An exclusive lock held until dropped.
#[derive(Debug)]
pub struct FileLock {
    _file: File,
}

impl FileLock {
    /// Takes the exclusive lock at `path`, creating the file and its directory if needed.
    /// When another process holds it, `on_wait` is called once and the call blocks until it is free.
    pub fn acquire(path: &Path, on_wait: impl FnOnce(&Path)) -> Result<Self> {
        let file = open(path)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                on_wait(path);
                file.lock().map_err(|e| Error::io("lock", path, e))?;
            }
            Err(fs::TryLockError::Error(e)) => return Err(Error::io("lock", path, e)),
        }
        Ok(FileLock::held(file))
    }

    /// Like [`FileLock::acquire`], but the wait ends when `cancel` turns true (Ctrl-C while
    /// another strap process holds the lock): then `None`.
    pub fn acquire_unless_cancelled(
        path: &Path,
        on_wait: impl FnOnce(&Path),
        cancel: &Cancel,
    ) -> Result<Option<Self>> {
        let file = open(path)?;
        let mut on_wait = Some(on_wait);
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(Some(FileLock::held(file))),
                Err(fs::TryLockError::WouldBlock) => {
                    if let Some(on_wait) = on_wait.take() {
                        on_wait(path);
                    }
                    if cancel.is_cancelled() {
                        return Ok(None);
                    }
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                Err(fs::TryLockError::Error(e)) => return Err(Error::io("lock", path, e)),
            }
        }
    }

    /// Records the holder for whoever inspects a stuck lock; failing to is harmless.
    fn held(mut file: File) -> FileLock {
        let _ = file.set_len(0);
        let _ = writeln!(file, "{}", std::process::id());
        FileLock { _file: file }
    }
}

/// Opens (creating) the lock file and its directory.
fn open(path: &Path) -> Result<File> {
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(|e| Error::io("create directory", dir, e))?;
    }
    File::options()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(path)
        .map_err(|e| Error::io("open lock file", path, e))
}

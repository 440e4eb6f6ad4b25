//! Advisory file locks that serialize work on the same root (rehash, installs).

use std::fs::{self, File};
use std::io::Write;
use std::path::Path;

use crate::error::{Error, Result};

/// An exclusive lock held until dropped.
#[derive(Debug)]
pub struct FileLock {
    _file: File,
}

impl FileLock {
    /// Takes the exclusive lock at `path`, creating the file and its directory if needed.
    /// When another process holds it, `on_wait` is called once and the call blocks until it is free.
    pub fn acquire(path: &Path, on_wait: impl FnOnce(&Path)) -> Result<Self> {
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(|e| Error::io("create directory", dir, e))?;
        }
        let mut file = File::options()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(path)
            .map_err(|e| Error::io("open lock file", path, e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                on_wait(path);
                file.lock().map_err(|e| Error::io("lock", path, e))?;
            }
            Err(fs::TryLockError::Error(e)) => return Err(Error::io("lock", path, e)),
        }
        // Record the holder for whoever inspects a stuck lock; failure to do so is harmless.
        let _ = file.set_len(0);
        let _ = writeln!(file, "{}", std::process::id());
        Ok(FileLock { _file: file })
    }
}

//! Every path under the strap root, computed in one place.

use std::ffi::{CStr, OsStr};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use crate::env_vars;

/// The strap root and the fixed paths inside it.
#[derive(Debug, Clone)]
pub struct Layout {
    root: PathBuf,
    flavor: Flavor,
}

/// Whose rules a root follows for the environment: strap's own (`STRAP_PYTHON_VERSION`), or
/// pyenv's when the root is pyenv's (`$PYENV_ROOT`, default `~/.pyenv`): `PYENV_VERSION` (then
/// `STRAP_PYTHON_VERSION`) selects, `PYENV_DIR` starts the version-file lookup, and shims speak
/// pyenv's words — whether strap runs as `strap`, as `pyenv` or as a shim, so all three agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavor {
    Strap,
    Pyenv,
}

impl Layout {
    /// A layout rooted at `root` (which need not exist yet); pyenv's flavor when it is pyenv's
    /// root.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        let root = root.into();
        let flavor = if is_pyenv_root(&root) {
            Flavor::Pyenv
        } else {
            Flavor::Strap
        };
        Layout { root, flavor }
    }

    /// The root of strap started as `pyenv`: `PYENV_ROOT` (a trailing `/` dropped), else
    /// `~/.pyenv`.
    pub fn pyenv_from_env() -> Self {
        Layout {
            root: pyenv_root(),
            flavor: Flavor::Pyenv,
        }
    }

    /// Whose environment rules apply to this root.
    pub fn flavor(&self) -> Flavor {
        self.flavor
    }

    /// The variables that select versions for one process or shell (`strap shell`, `pyenv
    /// shell`), the first set one wins.
    pub fn version_vars(&self) -> &'static [&'static str] {
        match self.flavor {
            Flavor::Strap => &[env_vars::STRAP_PYTHON_VERSION],
            Flavor::Pyenv => &[env_vars::PYENV_VERSION, env_vars::STRAP_PYTHON_VERSION],
        }
    }

    /// The root from `STRAP_ROOT`, else `$XDG_DATA_HOME/strap` (`~/.local/share/strap`).
    pub fn from_env() -> Self {
        match std::env::var_os(env_vars::STRAP_ROOT) {
            Some(root) if !root.is_empty() => Layout::new(root),
            _ => Layout::new(default_root()),
        }
    }

    /// The root for a shim: a shim belongs to the root it lives in. Started through a path
    /// `<R>/shims/<name>` (the path given to `execve`, relative ones resolved against the current
    /// directory; the link itself is not followed, it points at the strap binary), the root is
    /// `<R>`, whatever `STRAP_ROOT` says, so a shim run by an IDE, cron or a service without it
    /// still runs its own root's version. Started through a link to a shim elsewhere
    /// (`~/bin/python3 -> <R>/shims/python3`), that one link is followed. Started through any
    /// other path: [`Layout::from_env`].
    pub fn for_shim() -> Self {
        let cwd = || std::env::current_dir().ok();
        let root = exec_path().and_then(|path| {
            root_of_shim(path, cwd).or_else(|| {
                let target = std::fs::read_link(path).ok()?;
                root_of_shim(&path.parent()?.join(target), cwd)
            })
        });
        match root {
            Some(root) => Layout::new(root),
            None => Layout::from_env(),
        }
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `versions/`: one directory per installed Python.
    pub fn versions_dir(&self) -> PathBuf {
        self.root.join("versions")
    }

    /// The directory of one installed version.
    pub fn version_dir(&self, name: &str) -> PathBuf {
        self.versions_dir().join(name)
    }

    /// `boost/`: one directory per installed Boost build.
    pub fn boost_root(&self) -> PathBuf {
        self.root.join("boost")
    }

    /// The directory of one Boost build (`1.86.0` or `1.86.0-py3.12`).
    pub fn boost_dir(&self, name: &str) -> PathBuf {
        self.boost_root().join(name)
    }

    /// `shims/`: one link per executable name.
    pub fn shims_dir(&self) -> PathBuf {
        self.root.join("shims")
    }

    /// The global version file (pyenv format).
    pub fn global_version_file(&self) -> PathBuf {
        self.root.join("version")
    }

    /// `tmp/`: build trees and staging areas (same file system as `versions/`).
    pub fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    /// `cache/`: verified downloads, unless `STRAP_CACHE_DIR` says otherwise.
    pub fn cache_dir(&self) -> PathBuf {
        match std::env::var_os(env_vars::STRAP_CACHE_DIR) {
            Some(dir) if !dir.is_empty() => PathBuf::from(dir),
            _ => self.root.join("cache"),
        }
    }

    /// `logs/`: one log per build and per recipe run.
    pub fn logs_dir(&self) -> PathBuf {
        self.root.join("logs")
    }

    /// A new log file under `logs/` for `what` (e.g. `python-3.12.7`), unique per process and
    /// second: `<what>-<secs>-<pid>.log` (see [`log_owner`]).
    pub fn log_file(&self, what: &str) -> PathBuf {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        self.logs_dir()
            .join(format!("{what}-{secs}-{}.log", std::process::id()))
    }

    /// `locks/`: lock files that serialize rehashes and installs.
    pub fn locks_dir(&self) -> PathBuf {
        self.root.join("locks")
    }

    /// The lock that serializes installs and removals of one artifact (`python`, `3.12.7`).
    pub fn install_lock(&self, kind: &str, name: &str) -> PathBuf {
        self.locks_dir().join(format!("{kind}-{name}.lock"))
    }

    /// The scratch directory of one install by this process, `tmp/<kind>-<name>.<pid>`; see
    /// [`Layout::work_dir_prefix`] for finding those of earlier processes.
    pub fn work_dir(&self, kind: &str, name: &str) -> PathBuf {
        self.tmp_dir().join(format!(
            "{}{}",
            self.work_dir_prefix(kind, name),
            std::process::id()
        ))
    }

    /// The file-name prefix of every scratch directory of one artifact under `tmp/`.
    pub fn work_dir_prefix(&self, kind: &str, name: &str) -> String {
        format!("{kind}-{name}.")
    }
}

/// The pid of the process that writes a log named by [`Layout::log_file`] (`…-<secs>-<pid>.log`).
pub fn log_owner(file_name: &str) -> Option<u32> {
    let stem = file_name.strip_suffix(".log")?;
    let (rest, pid) = stem.rsplit_once('-')?;
    let (_, secs) = rest.rsplit_once('-')?;
    secs.parse::<u64>().ok()?;
    pid.parse().ok().filter(|pid| *pid > 0)
}

/// The pid of the process a scratch directory belongs to: `python-3.12.7.4242` (see
/// [`Layout::work_dir`]) and `.3.12.7.removing.4242` (an uninstall's doomed directory) end with it.
pub fn work_dir_owner(file_name: &str) -> Option<u32> {
    let (_, pid) = file_name.rsplit_once('.')?;
    pid.parse().ok().filter(|pid| *pid > 0)
}

/// The path this process was executed through (`execve`'s first argument, the kernel's
/// `AT_EXECFN`), if the auxiliary vector has it.
fn exec_path() -> Option<&'static Path> {
    // SAFETY: getauxval only reads the auxiliary vector; 0 means the entry is absent.
    let addr = unsafe { libc::getauxval(libc::AT_EXECFN) };
    if addr == 0 {
        return None;
    }
    let ptr = std::ptr::with_exposed_provenance::<libc::c_char>(addr as usize);
    // SAFETY: AT_EXECFN points at the NUL-terminated path the kernel copied to the top of the
    // initial stack, which stays in place, unchanged, for the life of the process.
    let bytes = unsafe { CStr::from_ptr(ptr) }.to_bytes();
    Some(Path::new(OsStr::from_bytes(bytes)))
}

/// `<R>` when `path` is `<R>/shims/<name>`; a relative `path` is taken from the directory `cwd`
/// returns (called only then).
fn root_of_shim(path: &Path, cwd: impl FnOnce() -> Option<PathBuf>) -> Option<PathBuf> {
    fn shims_parent(path: &Path) -> Option<&Path> {
        let shims = path.parent()?;
        if shims.file_name()? == "shims" {
            shims.parent()
        } else {
            None
        }
    }
    if path.is_absolute() {
        shims_parent(path).map(Path::to_path_buf)
    } else {
        shims_parent(&cwd()?.join(path)).map(Path::to_path_buf)
    }
}

/// True when `root` is pyenv's root: spelled as `PYENV_ROOT` (or `~/.pyenv`) is, or — when
/// `PYENV_ROOT` is set — the same directory reached another way (a link).
fn is_pyenv_root(root: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let pyenv = pyenv_root();
    if root == pyenv {
        return true;
    }
    let identity = |path: &Path| std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()));
    std::env::var_os(env_vars::PYENV_ROOT).is_some_and(|v| !v.is_empty())
        && identity(root).is_some_and(|id| identity(&pyenv) == Some(id))
}

/// `PYENV_ROOT` without a trailing `/`, else `~/.pyenv` (as pyenv computes it).
fn pyenv_root() -> PathBuf {
    match std::env::var_os(env_vars::PYENV_ROOT) {
        Some(root) if !root.is_empty() => {
            let bytes = root.as_bytes();
            let trimmed = bytes
                .strip_suffix(b"/")
                .filter(|t| !t.is_empty())
                .unwrap_or(bytes);
            PathBuf::from(OsStr::from_bytes(trimmed))
        }
        _ => PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".pyenv"),
    }
}

fn default_root() -> PathBuf {
    dirs::data_dir()
        .unwrap_or_else(|| PathBuf::from(".local/share"))
        .join("strap")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root(path: &str, cwd: &str) -> Option<PathBuf> {
        root_of_shim(Path::new(path), || Some(PathBuf::from(cwd)))
    }

    #[test]
    fn a_shim_path_names_its_root() {
        let r = Some(PathBuf::from("/r"));
        assert_eq!(root("/r/shims/python3", "/elsewhere"), r);
        assert_eq!(root("./python3", "/r/shims"), r);
        assert_eq!(root("python3", "/r/shims"), r);
        assert_eq!(root("shims/python3", "/r"), r);
        assert_eq!(root("/shims/python3", "/x"), Some(PathBuf::from("/")));
        assert_eq!(
            root("../r/shims/python3", "/x"),
            Some(PathBuf::from("/x/../r"))
        );
    }

    #[test]
    fn owners_from_file_names() {
        assert_eq!(log_owner("python-3.12.7-1700000000-4242.log"), Some(4242));
        assert_eq!(log_owner("recipe-can-1700000000-7.log"), Some(7));
        assert_eq!(log_owner("notes.log"), None);
        assert_eq!(log_owner("python-3.12.7-4242.txt"), None);
        assert_eq!(work_dir_owner("python-3.12.7-debug.4242"), Some(4242));
        assert_eq!(work_dir_owner(".3.12.7.removing.99"), Some(99));
        assert_eq!(work_dir_owner("python-3.12.7.x"), None);
    }

    #[test]
    fn other_paths_name_no_root() {
        assert_eq!(root("/usr/bin/python3", "/r/shims"), None);
        assert_eq!(root("./python3", "/r/bin"), None);
        assert_eq!(root("target/debug/strap", "/r"), None);
        assert_eq!(root("/shims", "/"), None);
        assert_eq!(root_of_shim(Path::new("./python3"), || None), None);
    }
}

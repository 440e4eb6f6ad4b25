//! Virtualenvs where pyenv-virtualenv puts them: `versions/<python>/envs/<name>`, made by that
//! Python's `venv`, with `versions/<name>` a link to it, so `<name>` is selected and run through
//! the shims like any version.
//!
//! strap touches only those two names, each checked by [`check_name`] to be one safe path
//! component, and never through a link it did not make: the virtualenv directory is created
//! fresh by this process (an existing one is refused, never replaced) and removed only when this
//! process made it, and a `versions/<name>` link is removed only when it is a virtualenv's link.
//! Every change to `versions/<name>` holds [`lock_entry`], so two processes never work on one
//! name at once.

use std::fs;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Explain, Io, IoContext};
use crate::layout::{Layout, ENVS_DIR};
use crate::lock::FileLock;
use crate::process::{Cancel, Log, RunError, Runner};

/// One virtualenv.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Virtualenv {
    /// Its name (`proj`).
    pub name: String,
    /// The installed version it was made from (`3.11.2`).
    pub python: String,
    /// `versions/<python>/envs/<name>`.
    pub path: PathBuf,
    /// Its interpreter runs (false: the environment is broken, e.g. its files were damaged).
    pub python_found: bool,
}

/// A `versions/<name>` link to a virtualenv whose directory is gone (its Python was
/// uninstalled).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dangling {
    pub name: String,
    pub target: PathBuf,
}

/// What `strap virtualenv` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Created {
    /// It made the virtualenv.
    Made(Virtualenv),
    /// The virtualenv was there already, made from the same Python (by an earlier or a
    /// concurrent run); only the requirements, if any, were installed into it.
    Existing(Virtualenv),
}

/// What already holds `versions/<name>` when a virtualenv of that name is asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Taken {
    /// An installed version (a directory).
    Version,
    /// The link of a virtualenv made from `python` (whose directory may be gone).
    Virtualenv { python: String },
    /// Anything else (a link strap did not make, a file).
    Other,
}

/// A virtualenv as `virtualenv-delete` and `uninstall` name it: `NAME`, or pyenv-virtualenv's
/// long form `PYTHON/envs/NAME` (as `versions --bare` lists it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvName {
    /// The Python of the long form.
    pub python: Option<String>,
    /// The virtualenv's own name.
    pub name: String,
}

impl EnvName {
    /// Parses `NAME` or `PYTHON/envs/NAME`; each part must pass [`check_name`], so the result
    /// never names anything outside `versions/`.
    pub fn parse(text: &str) -> Result<EnvName, VirtualenvError> {
        let (python, name) = match text.split_once("/envs/") {
            Some((python, name)) => (Some(python), name),
            None => (None, text),
        };
        let safe = |part: &str| check_name(part).is_ok();
        if !safe(name) || !python.is_none_or(safe) {
            return Err(VirtualenvError::BadName(text.to_owned()));
        }
        Ok(EnvName {
            python: python.map(str::to_owned),
            name: name.to_owned(),
        })
    }
}

/// A virtualenv that is about to be (or was) removed: its directory, when there is one, and its
/// `versions/<name>` link, when that link is this virtualenv's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Doomed {
    pub name: String,
    /// `versions/<python>/envs/<name>`, when that directory exists.
    pub dir: Option<PathBuf>,
    /// `versions/<name>`, when it links to this virtualenv (possibly dangling).
    pub link: Option<PathBuf>,
}

impl Doomed {
    /// Where it is: its directory, else (when the directory is gone) its link.
    pub fn path(&self) -> Option<&Path> {
        self.dir.as_deref().or(self.link.as_deref())
    }
}

/// Why a virtualenv could not be made or removed.
#[derive(Debug, thiserror::Error)]
pub enum VirtualenvError {
    #[error("'{0}' is not a virtualenv name: use letters, digits, '.', '_' and '-', not starting with '.' or '-'")]
    BadName(String),
    /// The root cannot hold a virtualenv ([`Layout::unquotable`]).
    #[error("{0}")]
    Root(String),
    #[error("{}", exists_message(.name, .taken))]
    Exists { name: String, taken: Taken },
    #[error("{} already exists, but {} does not link to it", .path.display(), .link.display())]
    DirExists {
        python: String,
        name: String,
        path: PathBuf,
        link: PathBuf,
    },
    #[error("'{0}' is a link, not a version installed under versions/: virtualenvs are made from an installed version")]
    NotAVersion(String),
    #[error("{} is a link or not a directory: virtualenvs are made only in a real directory under versions/", .0.display())]
    NotOwned(PathBuf),
    #[error("no virtualenv named '{0}'")]
    NotFound(String),
    #[error("the requirements file {} cannot be read: {source}", path.display())]
    Requirements {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Run(#[from] RunError),
    #[error(transparent)]
    Io(#[from] Io),
}

fn exists_message(name: &str, taken: &Taken) -> String {
    match taken {
        Taken::Version => format!("'{name}' is already an installed version"),
        Taken::Virtualenv { python } => {
            format!("'{name}' is already a virtualenv (made from {python})")
        }
        Taken::Other => format!("'{name}' already exists in versions/ and is not a virtualenv"),
    }
}

impl Explain for VirtualenvError {
    fn hint(&self) -> Option<String> {
        match self {
            VirtualenvError::NotFound(_) => {
                Some("`strap virtualenvs` lists the virtualenvs".to_owned())
            }
            VirtualenvError::Exists {
                name,
                taken: Taken::Virtualenv { .. },
            } => Some(format!(
                "pick another name, or remove it first (strap virtualenv-delete {name})"
            )),
            VirtualenvError::Exists { .. } => Some("pick another name".to_owned()),
            VirtualenvError::DirExists { python, name, .. } => Some(format!(
                "strap does not reuse a directory it did not just make: pick another name, or \
                 remove it (strap virtualenv-delete {python}/envs/{name})"
            )),
            VirtualenvError::NotAVersion(_) => {
                Some("`strap versions --skip-envs` lists the installed versions".to_owned())
            }
            _ => None,
        }
    }

    fn exit_code(&self) -> i32 {
        match self {
            VirtualenvError::BadName(_) | VirtualenvError::Root(_) => crate::error::EXIT_USAGE,
            VirtualenvError::Run(RunError::Interrupted) => crate::error::EXIT_INTERRUPTED,
            _ => crate::error::EXIT_FAILURE,
        }
    }
}

/// Checks a virtualenv name (it becomes a directory name under `versions/`).
pub fn check_name(name: &str) -> Result<(), VirtualenvError> {
    let ok = !name.is_empty()
        && name != "system"
        && !name.starts_with(['.', '-'])
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(VirtualenvError::BadName(name.to_owned()))
    }
}

/// Takes the lock that serializes every change to `versions/<name>` — installing or
/// uninstalling a version, making or removing a virtualenv — whatever it is; `on_wait` is
/// called when another process holds it.
pub fn lock_entry(
    layout: &Layout,
    name: &str,
    on_wait: impl FnOnce(&Path),
) -> Result<FileLock, Io> {
    FileLock::acquire(&entry_lock(layout, name), on_wait)
}

/// The lock file of `versions/<name>`: the one installs of a version of that name take.
fn entry_lock(layout: &Layout, name: &str) -> PathBuf {
    layout.install_lock(crate::python::KIND, name)
}

/// Makes the virtualenv `name` from the installed version `python` (a virtualenv stands for
/// the version it was made from, as in pyenv-virtualenv) and installs `requirements` into it.
/// When the same virtualenv is already there, only the requirements are installed. A step that
/// fails or is cancelled leaves nothing of what this call made.
pub fn create(
    layout: &Layout,
    python: &str,
    name: &str,
    requirements: Option<&Path>,
    cancel: &Cancel,
    on_wait: impl FnOnce(&Path),
) -> Result<Created, VirtualenvError> {
    check_name(name)?;
    if let Some(why) = layout.unquotable() {
        return Err(VirtualenvError::Root(why));
    }
    let python = base_python(layout, python)?;
    if let Some(file) = requirements {
        check_requirements(file)?;
    }
    let Some(_lock) =
        FileLock::acquire_unless_cancelled(&entry_lock(layout, name), on_wait, cancel)?
    else {
        return Err(VirtualenvError::Run(RunError::Interrupted));
    };
    let env = Virtualenv {
        name: name.to_owned(),
        python_found: true,
        path: env_path(layout, &python, name),
        python,
    };
    if let Some(existing) = existing(layout, &env)? {
        if let Some(file) = requirements {
            install_requirements(layout, &existing, file, cancel)?;
        }
        return Ok(Created::Existing(existing));
    }
    make_new(layout, &env, requirements, cancel)?;
    Ok(Created::Made(env))
}

/// A requirements file must be a regular file that exists (pip reads it; never a FIFO or a
/// device such as `/dev/zero`).
fn check_requirements(file: &Path) -> Result<(), VirtualenvError> {
    crate::bounded::open_regular(file)
        .map(drop)
        .map_err(|source| VirtualenvError::Requirements {
            path: file.to_owned(),
            source,
        })
}

/// The version a virtualenv made from `python` is made from: `python` when it is a version
/// installed under `versions/`, the Python of a virtualenv; an error for any other link.
fn base_python(layout: &Layout, python: &str) -> Result<String, VirtualenvError> {
    if is_real_dir(&layout.version_dir(python)) {
        return Ok(python.to_owned());
    }
    linked_python(layout, python)
        .filter(|base| is_real_dir(&layout.version_dir(base)))
        .ok_or_else(|| VirtualenvError::NotAVersion(python.to_owned()))
}

/// `versions/<python>/envs/<name>`, absolute (the link to it is absolute, as pyenv-virtualenv
/// makes it, so it works from anywhere).
fn env_path(layout: &Layout, python: &str, name: &str) -> PathBuf {
    crate::version::logical_absolute(&layout.version_dir(python))
        .join(ENVS_DIR)
        .join(name)
}

/// What holds `versions/<name>`, if anything.
pub fn taken(layout: &Layout, name: &str) -> Option<Taken> {
    let link = layout.version_dir(name);
    fs::symlink_metadata(&link).ok()?;
    Some(match linked_python(layout, name) {
        Some(python) => Taken::Virtualenv { python },
        None if is_real_dir(&link) => Taken::Version,
        None => Taken::Other,
    })
}

/// `env` as it already is, when `versions/<name>` is its link and it works; an error when the
/// name or the directory is taken by anything else.
fn existing(layout: &Layout, env: &Virtualenv) -> Result<Option<Virtualenv>, VirtualenvError> {
    let taken = match taken(layout, &env.name) {
        None if fs::symlink_metadata(&env.path).is_ok() => {
            return Err(dir_exists(env, layout.version_dir(&env.name)))
        }
        None => return Ok(None),
        Some(Taken::Virtualenv { python }) if python == env.python => {
            match find_env(layout, &python, &env.name) {
                Some(found) if found.python_found => return Ok(Some(found)),
                _ => Taken::Virtualenv { python },
            }
        }
        Some(taken) => taken,
    };
    Err(VirtualenvError::Exists {
        name: env.name.clone(),
        taken,
    })
}

fn dir_exists(env: &Virtualenv, link: PathBuf) -> VirtualenvError {
    VirtualenvError::DirExists {
        python: env.python.clone(),
        name: env.name.clone(),
        path: env.path.clone(),
        link,
    }
}

/// Creates `env`'s directory (it must not exist), fills it, then links `versions/<name>` to
/// it; on any failure the directory this call created is removed again.
fn make_new(
    layout: &Layout,
    env: &Virtualenv,
    requirements: Option<&Path>,
    cancel: &Cancel,
) -> Result<(), VirtualenvError> {
    let envs = env.path.parent().expect("envs/<name> has a parent");
    fs::create_dir_all(envs).io_context("create", envs)?;
    if !is_real_dir(envs) {
        return Err(VirtualenvError::NotOwned(envs.to_owned()));
    }
    let link = layout.version_dir(&env.name);
    fs::create_dir(&env.path).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => dir_exists(env, link.clone()),
        _ => Io::new("create", &env.path, e).into(),
    })?;
    let made = fill(layout, env, requirements, cancel)
        .and_then(|()| Ok(std::os::unix::fs::symlink(&env.path, &link).io_context("link", &link)?));
    if made.is_err() {
        let _ = fs::remove_dir_all(&env.path);
    }
    made
}

/// `python -m venv PATH` (into the empty directory), then `pip install -r requirements`; logged
/// under `logs/`, stopped when `cancel` turns true.
fn fill(
    layout: &Layout,
    env: &Virtualenv,
    requirements: Option<&Path>,
    cancel: &Cancel,
) -> Result<(), VirtualenvError> {
    let runner = runner(layout, &env.name, cancel)?;
    let python = interpreter(&layout.version_dir(&env.python));
    runner.check(python_command(&python).args(["-m", "venv"]).arg(&env.path))?;
    match requirements {
        Some(file) => pip_install(&runner, env, file),
        None => Ok(()),
    }
}

/// `pip install -r requirements` into an existing virtualenv.
fn install_requirements(
    layout: &Layout,
    env: &Virtualenv,
    requirements: &Path,
    cancel: &Cancel,
) -> Result<(), VirtualenvError> {
    pip_install(&runner(layout, &env.name, cancel)?, env, requirements)
}

fn pip_install(
    runner: &Runner,
    env: &Virtualenv,
    requirements: &Path,
) -> Result<(), VirtualenvError> {
    runner.check(
        python_command(&env.path.join("bin/python"))
            .args(["-m", "pip", "install", "--disable-pip-version-check", "-r"])
            .arg(requirements),
    )?;
    Ok(())
}

/// A runner logging to a new `logs/virtualenv-<name>-…` file.
fn runner(layout: &Layout, name: &str, cancel: &Cancel) -> Result<Runner, VirtualenvError> {
    let log = Log::create(&layout.log_file(&format!("virtualenv-{name}")))?;
    Ok(Runner::new(log, cancel.clone()))
}

/// A Python command that ignores the environment of the one strap was started from.
fn python_command(program: &Path) -> std::process::Command {
    let mut command = std::process::Command::new(program);
    command.env_remove("PYTHONHOME").env_remove("VIRTUAL_ENV");
    command
}

/// The interpreter of an installed version: `bin/python3`, else `bin/python`.
pub fn interpreter(prefix: &Path) -> PathBuf {
    let python3 = prefix.join("bin/python3");
    if python3.exists() {
        python3
    } else {
        prefix.join("bin/python")
    }
}

/// Every virtualenv (`versions/*/envs/*`, real directories only), by Python then name.
pub fn list(layout: &Layout) -> Vec<Virtualenv> {
    let mut found = Vec::new();
    for python in real_subdirs(&layout.versions_dir()) {
        found.extend(of_python(layout, &python));
    }
    found
}

/// The virtualenvs made from the installed version `python`, by name.
pub fn of_python(layout: &Layout, python: &str) -> Vec<Virtualenv> {
    let base = layout.version_dir(python);
    if !is_real_dir(&base) {
        return Vec::new();
    }
    real_subdirs(&base.join(ENVS_DIR))
        .into_iter()
        .filter_map(|name| find_env(layout, python, &name))
        .collect()
}

/// The virtualenv `versions/<python>/envs/<name>`, when each of those is a real directory.
fn find_env(layout: &Layout, python: &str, name: &str) -> Option<Virtualenv> {
    let base = layout.version_dir(python);
    let path = base.join(ENVS_DIR).join(name);
    let real = is_real_dir(&base) && is_real_dir(&base.join(ENVS_DIR)) && is_real_dir(&path);
    real.then(|| Virtualenv {
        python_found: path.join("bin/python").exists(),
        python: python.to_owned(),
        name: name.to_owned(),
        path,
    })
}

/// The Python of the virtualenv `versions/<name>` links to: the link's target is
/// `versions/<python>/envs/<name>` of this root, as strap and pyenv-virtualenv make it (whether
/// or not that directory still exists). `None` for anything else.
pub fn linked_python(layout: &Layout, name: &str) -> Option<String> {
    let versions = layout.versions_dir();
    let target = versions.join(fs::read_link(versions.join(name)).ok()?);
    let envs = target.parent()?;
    let python_dir = envs.parent()?;
    let python = python_dir.file_name()?.to_str()?;
    let shaped = target.file_name()? == name
        && envs.file_name()? == ENVS_DIR
        && check_name(python).is_ok()
        && same_dir(python_dir.parent()?, &versions);
    shaped.then(|| python.to_owned())
}

/// True when two paths name the same directory (as written, or once resolved).
fn same_dir(a: &Path, b: &Path) -> bool {
    a == b || matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
}

/// Virtualenv links (see [`linked_python`]) whose virtualenv is gone.
pub fn dangling(layout: &Layout) -> Vec<Dangling> {
    let Ok(entries) = fs::read_dir(layout.versions_dir()) else {
        return Vec::new();
    };
    let mut found: Vec<Dangling> = entries
        .filter_map(Result::ok)
        .filter(|e| !e.path().exists())
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            linked_python(layout, &name)?;
            Some(Dangling {
                target: fs::read_link(e.path()).ok()?,
                name,
            })
        })
        .collect();
    found.sort_by(|a, b| a.name.cmp(&b.name));
    found
}

/// True when `text` names a virtualenv: `PYTHON/envs/NAME`, or a virtualenv's link.
pub fn is_virtualenv_name(layout: &Layout, text: &str) -> bool {
    text.contains("/envs/") || linked_python(layout, text).is_some()
}

/// What removing the virtualenv `text` (`NAME` or `PYTHON/envs/NAME`) would remove: its
/// directory and, when it is this virtualenv's, the `versions/<NAME>` link (also when the
/// directory is gone: the link of a virtualenv whose Python was uninstalled).
pub fn find(layout: &Layout, text: &str) -> Result<Doomed, VirtualenvError> {
    let wanted = EnvName::parse(text)?;
    let linked = linked_python(layout, &wanted.name);
    let python = wanted.python.as_ref().or(linked.as_ref());
    let dir = python
        .and_then(|python| find_env(layout, python, &wanted.name))
        .map(|env| env.path);
    let link = (linked.is_some() && (wanted.python.is_none() || linked == wanted.python))
        .then(|| layout.version_dir(&wanted.name));
    if dir.is_none() && link.is_none() {
        return Err(VirtualenvError::NotFound(text.to_owned()));
    }
    Ok(Doomed {
        name: wanted.name,
        dir,
        link,
    })
}

/// Removes the virtualenv `text` (see [`find`]) under its name's lock.
pub fn delete(
    layout: &Layout,
    text: &str,
    on_wait: impl FnOnce(&Path),
) -> Result<Doomed, VirtualenvError> {
    let name = EnvName::parse(text)?.name;
    let _lock = lock_entry(layout, &name, on_wait)?;
    let doomed = find(layout, text)?;
    if let Some(link) = &doomed.link {
        fs::remove_file(link).io_context("remove", link)?;
    }
    if let Some(dir) = &doomed.dir {
        fs::remove_dir_all(dir).io_context("remove", dir)?;
    }
    Ok(doomed)
}

/// After its Python was uninstalled: removes `env`'s `versions/<name>` link, under the name's
/// lock, if it is still that virtualenv's link.
pub fn unlink(
    layout: &Layout,
    env: &Virtualenv,
    on_wait: impl FnOnce(&Path),
) -> Result<(), VirtualenvError> {
    let _lock = lock_entry(layout, &env.name, on_wait)?;
    if linked_python(layout, &env.name).as_ref() != Some(&env.python) {
        return Ok(());
    }
    let link = layout.version_dir(&env.name);
    Ok(fs::remove_file(&link).io_context("remove", &link)?)
}

/// True for a directory that is not a link.
fn is_real_dir(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.is_dir())
}

/// The real directories (not links) in `dir`, without dot names, version-sorted; none when
/// `dir` is not a real directory itself.
fn real_subdirs(dir: &Path) -> Vec<String> {
    if !is_real_dir(dir) {
        return Vec::new();
    }
    let mut names: Vec<String> = fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| !n.starts_with('.'))
                .collect()
        })
        .unwrap_or_default();
    names.sort_by(|a, b| crate::version::compare_names(a, b));
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_single_safe_path_components() {
        for good in ["proj", "my-env", "py3.12_tools"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in ["", ".hidden", "-x", "a/b", "../x", "system", "a b"] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_long_name_has_two_safe_parts() {
        assert_eq!(
            EnvName::parse("3.11.2/envs/u2").unwrap(),
            EnvName {
                python: Some("3.11.2".to_owned()),
                name: "u2".to_owned()
            }
        );
        for bad in [
            "/tmp/x/dl",
            "../../x/dl",
            "../envs/x",
            "3.11.2/envs/../x",
            "3.11.2/envs/a/b",
            "/envs/x",
            "a/b",
        ] {
            assert!(EnvName::parse(bad).is_err(), "{bad}");
        }
    }
}

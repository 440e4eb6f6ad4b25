//! Virtualenvs where pyenv-virtualenv puts them: `versions/<python>/envs/<name>`, made by that
//! Python's `venv`, with `versions/<name>` a link to it, so `<name>` is selected and run through
//! the shims like any version.

use std::fs;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::layout::Layout;

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

/// Why a virtualenv could not be made or removed.
#[derive(Debug, thiserror::Error)]
pub enum VirtualenvError {
    #[error("'{0}' is not a virtualenv name: use letters, digits, '.', '_' and '-', not starting with '.' or '-'")]
    BadName(String),
    #[error("'{0}' is already an installed version or virtualenv")]
    Exists(String),
    #[error("no virtualenv named '{0}'")]
    NotFound(String),
    #[error("the requirements file {} cannot be read: {source}", path.display())]
    Requirements {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{what} failed ({status}):\n{output}")]
    Command {
        what: String,
        status: String,
        output: String,
    },
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
}

impl crate::error::Explain for VirtualenvError {
    fn hint(&self) -> Option<String> {
        match self {
            VirtualenvError::NotFound(_) => {
                Some("`strap virtualenvs` lists the virtualenvs".to_owned())
            }
            VirtualenvError::Exists(name) => Some(format!(
                "pick another name, or remove it first (strap virtualenv-delete {name})"
            )),
            _ => None,
        }
    }
}

fn io_err<'a>(
    action: &'static str,
    path: &'a Path,
) -> impl FnOnce(std::io::Error) -> VirtualenvError + 'a {
    move |source| VirtualenvError::Io {
        action,
        path: path.to_owned(),
        source,
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

/// Creates the virtualenv `name` from the installed version `python` (at `python_prefix`) and
/// installs `requirements` into it; nothing is left when a step fails.
pub fn create(
    layout: &Layout,
    python: &str,
    python_prefix: &Path,
    name: &str,
    requirements: Option<&Path>,
) -> Result<Virtualenv, VirtualenvError> {
    check_name(name)?;
    let link = layout.version_dir(name);
    if link.exists() || link.is_symlink() {
        return Err(VirtualenvError::Exists(name.to_owned()));
    }
    if let Some(file) = requirements {
        crate::bounded::open_regular(file).map_err(|source| VirtualenvError::Requirements {
            path: file.to_owned(),
            source,
        })?;
    }
    let path = layout.version_dir(python).join("envs").join(name);
    let envs = path.parent().expect("envs/<name> has a parent");
    fs::create_dir_all(envs).map_err(io_err("create", envs))?;
    let made = make(python_prefix, &path, requirements)
        .and_then(|()| std::os::unix::fs::symlink(&path, &link).map_err(io_err("link", &link)));
    if let Err(e) = made {
        let _ = fs::remove_dir_all(&path);
        return Err(e);
    }
    Ok(Virtualenv {
        name: name.to_owned(),
        python: python.to_owned(),
        python_found: true,
        path,
    })
}

/// `python -m venv PATH`, then `pip install -r requirements`.
fn make(
    python_prefix: &Path,
    path: &Path,
    requirements: Option<&Path>,
) -> Result<(), VirtualenvError> {
    let python = interpreter(python_prefix);
    run(
        std::process::Command::new(&python)
            .args(["-m", "venv"])
            .arg(path),
        &format!("{} -m venv", python.display()),
    )?;
    if let Some(file) = requirements {
        run(
            std::process::Command::new(path.join("bin/python"))
                .args(["-m", "pip", "install", "--disable-pip-version-check", "-r"])
                .arg(file),
            &format!("pip install -r {}", file.display()),
        )?;
    }
    Ok(())
}

fn run(command: &mut std::process::Command, what: &str) -> Result<(), VirtualenvError> {
    let output = command
        .env_remove("PYTHONHOME")
        .env_remove("VIRTUAL_ENV")
        .output()
        .map_err(|source| VirtualenvError::Command {
            what: what.to_owned(),
            status: "did not start".to_owned(),
            output: source.to_string(),
        })?;
    if output.status.success() {
        return Ok(());
    }
    let text = String::from_utf8_lossy(&output.stderr) + String::from_utf8_lossy(&output.stdout);
    let tail: Vec<&str> = text
        .lines()
        .rev()
        .take(crate::process::TAIL_LINES)
        .collect();
    Err(VirtualenvError::Command {
        what: what.to_owned(),
        status: output.status.to_string(),
        output: tail.into_iter().rev().collect::<Vec<_>>().join("\n"),
    })
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

/// Every virtualenv (`versions/*/envs/*`), by Python then name.
pub fn list(layout: &Layout) -> Vec<Virtualenv> {
    let mut found = Vec::new();
    for python in dir_names(&layout.versions_dir()) {
        let base = layout.version_dir(&python);
        if base.is_symlink() {
            continue;
        }
        for name in dir_names(&base.join("envs")) {
            let path = base.join("envs").join(&name);
            found.push(Virtualenv {
                python_found: path.join("bin/python").exists(),
                python: python.clone(),
                name,
                path,
            });
        }
    }
    found
}

/// `versions/<name>` links whose target is gone.
pub fn dangling(layout: &Layout) -> Vec<Dangling> {
    let Ok(entries) = fs::read_dir(layout.versions_dir()) else {
        return Vec::new();
    };
    let mut found: Vec<Dangling> = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().is_symlink() && !e.path().exists())
        .filter_map(|e| {
            Some(Dangling {
                name: e.file_name().into_string().ok()?,
                target: fs::read_link(e.path()).ok()?,
            })
        })
        .collect();
    found.sort_by(|a, b| a.name.cmp(&b.name));
    found
}

/// Removes the virtualenv `name` (or `<python>/envs/<name>`) and its link; a link left by an
/// uninstalled Python is removed too.
pub fn delete(layout: &Layout, name: &str) -> Result<Virtualenv, VirtualenvError> {
    let short = name.rsplit("/envs/").next().unwrap_or(name);
    let all = list(layout);
    let env = all.iter().find(|e| {
        e.name == short && (name == short || name == format!("{}/envs/{}", e.python, e.name))
    });
    let link = layout.version_dir(short);
    let link_is_ours = |env_path: Option<&Path>| {
        link.is_symlink()
            && match env_path {
                Some(path) => fs::read_link(&link).is_ok_and(|t| t == path),
                None => !link.exists(),
            }
    };
    match env {
        Some(env) => {
            if link_is_ours(Some(&env.path)) {
                fs::remove_file(&link).map_err(io_err("remove", &link))?;
            }
            fs::remove_dir_all(&env.path).map_err(io_err("remove", &env.path))?;
            Ok(env.clone())
        }
        None if name == short && link_is_ours(None) => {
            let target = fs::read_link(&link).unwrap_or_default();
            fs::remove_file(&link).map_err(io_err("remove", &link))?;
            Ok(Virtualenv {
                name: short.to_owned(),
                python: String::new(),
                path: target,
                python_found: false,
            })
        }
        None => Err(VirtualenvError::NotFound(name.to_owned())),
    }
}

fn dir_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|e| e.path().is_dir())
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
}

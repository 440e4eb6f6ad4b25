//! Installed Boost builds under `<root>/boost/`: what each receipt says about it, finding one
//! by name, and the environment that makes a build system use it.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::plan::{Libraries, Plan};
use crate::identity::Receipt;
use crate::layout::Layout;

/// What a Boost receipt records beyond the common fields (its `details`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Details {
    pub version: String,
    /// The libraries asked for by name (with `all`, every one the release builds).
    pub libraries: Vec<String>,
    pub all: bool,
    pub variant: Vec<String>,
    pub link: Vec<String>,
    pub cxxstd: Option<String>,
    /// The Python Boost.Python was built against.
    pub python: Option<PythonDetails>,
    /// Boost.NumPy was built too.
    pub numpy: bool,
}

/// The Python of a Boost.Python build.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PythonDetails {
    /// `3.11`.
    pub version: String,
    /// How it was chosen: an installed version name or `system`.
    pub name: String,
    pub executable: PathBuf,
}

impl Details {
    /// The details of `plan`.
    pub fn of(plan: &Plan) -> Details {
        Details {
            version: plan.version.to_string(),
            libraries: plan.listed().to_vec(),
            all: plan.libraries == Libraries::All,
            variant: plan.shape.variants.clone(),
            link: plan.shape.links.clone(),
            cxxstd: plan.shape.cxxstd.clone(),
            python: plan.python.as_ref().map(|p| PythonDetails {
                version: p.info.version.clone(),
                name: p.label.clone(),
                executable: p.info.executable.clone(),
            }),
            numpy: plan.numpy,
        }
    }
}

/// One installed Boost.
#[derive(Debug, Clone, Serialize)]
pub struct Installed {
    /// The directory name: `1.86.0` or `1.86.0-py3.12`.
    pub name: String,
    pub prefix: PathBuf,
    /// `None` when the receipt is missing or unreadable (not installed by this strap).
    pub details: Option<Details>,
    /// Bytes on disk.
    pub size: u64,
}

/// Every installed Boost, oldest version first.
pub fn installed(layout: &Layout) -> std::io::Result<Vec<Installed>> {
    let dir = layout.boost_root();
    let entries = match fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut found: Vec<Installed> = entries
        .filter_map(Result::ok)
        .filter(|e| e.path().is_dir())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|name| !name.starts_with('.'))
        .map(|name| {
            let prefix = dir.join(&name);
            let details = Receipt::read(&prefix)
                .ok()
                .flatten()
                .and_then(|r| serde_json::from_value::<Details>(r.details).ok());
            Installed {
                size: disk_usage(&prefix),
                name,
                prefix,
                details,
            }
        })
        .collect();
    found.sort_by_key(|i| sort_key(&i.name));
    Ok(found)
}

/// Orders `1.9.0` before `1.81.0-py3.11`.
fn sort_key(name: &str) -> (Vec<u32>, String) {
    let (version, rest) = name.split_once('-').unwrap_or((name, ""));
    (crate::dotted::lenient(version), rest.to_owned())
}

/// Bytes in the files under `dir` (links not followed).
fn disk_usage(dir: &Path) -> u64 {
    let mut total = 0;
    let mut pending = vec![dir.to_owned()];
    while let Some(dir) = pending.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.filter_map(Result::ok) {
            match entry.metadata() {
                Ok(m) if m.is_dir() => pending.push(entry.path()),
                Ok(m) => total += m.len(),
                Err(_) => {}
            }
        }
    }
    total
}

/// Why a name does not pick one installed Boost.
#[derive(Debug, thiserror::Error)]
pub enum FindError {
    #[error("Boost '{0}' is not installed")]
    NotInstalled(String, Vec<String>),
    #[error("'{0}' matches several installed Boost builds: {list}", list = .1.join(", "))]
    Ambiguous(String, Vec<String>),
    #[error("invalid Boost name '{0}': give a name `strap boost list` shows")]
    Invalid(String),
}

impl crate::error::Explain for FindError {
    fn hint(&self) -> Option<String> {
        match self {
            FindError::NotInstalled(_, installed) if installed.is_empty() => Some(
                "no Boost is installed; `strap boost install 1.86 --python 3.12` builds one"
                    .to_owned(),
            ),
            FindError::NotInstalled(_, installed) => {
                Some(format!("installed: {}", installed.join(", ")))
            }
            FindError::Ambiguous(_, several) => Some(format!(
                "name one of them, e.g. `{}`",
                several.last().map_or("", String::as_str)
            )),
            FindError::Invalid(_) => None,
        }
    }

    fn exit_code(&self) -> i32 {
        match self {
            FindError::Invalid(_) => crate::error::EXIT_USAGE,
            _ => crate::error::EXIT_FAILURE,
        }
    }
}

/// The installed Boost `request` names: the exact directory name, else the one install whose
/// name starts with it at a component boundary (`1.81` or `1.81.0` → `1.81.0-py3.11`).
pub fn find(layout: &Layout, request: &str) -> Result<Installed, FindError> {
    if request.is_empty() || request.contains('/') || request.starts_with('.') {
        return Err(FindError::Invalid(request.to_owned()));
    }
    let all = installed(layout).unwrap_or_default();
    if let Some(exact) = all.iter().find(|i| i.name == request) {
        return Ok(exact.clone());
    }
    let matches: Vec<&Installed> = all
        .iter()
        .filter(|i| crate::dotted::is_under(request, &i.name, &['.', '-']))
        .collect();
    match matches.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(FindError::NotInstalled(
            request.to_owned(),
            all.iter().map(|i| i.name.clone()).collect(),
        )),
        several => Err(FindError::Ambiguous(
            request.to_owned(),
            several.iter().map(|i| i.name.clone()).collect(),
        )),
    }
}

/// The variables that make compilers and build systems find `prefix`, in order:
/// `BOOST_ROOT`, `CMAKE_PREFIX_PATH`, `LD_LIBRARY_PATH` (each a path to prepend, except
/// `BOOST_ROOT`, which is set).
pub fn env_vars(prefix: &Path) -> [(&'static str, PathBuf); 3] {
    [
        ("BOOST_ROOT", prefix.to_owned()),
        ("CMAKE_PREFIX_PATH", prefix.to_owned()),
        ("LD_LIBRARY_PATH", prefix.join("lib")),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_sort_by_version_then_python() {
        let mut names = vec!["1.81.0-py3.11", "1.9.0", "1.81.0", "1.100.0"];
        names.sort_by_key(|n| sort_key(n));
        assert_eq!(names, ["1.9.0", "1.81.0", "1.81.0-py3.11", "1.100.0"]);
    }

    #[test]
    fn find_by_exact_name_or_unique_prefix() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::new(dir.path());
        for name in ["1.81.0-py3.11", "1.86.0", "1.86.0-py3.12"] {
            fs::create_dir_all(layout.boost_dir(name)).unwrap();
        }
        assert_eq!(find(&layout, "1.81").unwrap().name, "1.81.0-py3.11");
        assert_eq!(find(&layout, "1.86.0").unwrap().name, "1.86.0");
        assert!(matches!(
            find(&layout, "1.86"),
            Err(FindError::Ambiguous(_, v)) if v.len() == 2
        ));
        assert!(matches!(
            find(&layout, "1.8"),
            Err(FindError::NotInstalled(..))
        ));
        assert!(matches!(find(&layout, "../x"), Err(FindError::Invalid(_))));
    }
}

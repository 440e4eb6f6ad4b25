//! Checking a freshly built interpreter before it is installed: required modules import,
//! optional ones are listed when missing, pip works.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Modules without which an interpreter counts as broken.
pub const REQUIRED: &[&str] = &["ssl", "zlib", "ctypes", "bz2", "lzma", "sqlite3"];
/// Modules that may be missing (each listed with the package that provides it).
pub const OPTIONAL: &[&str] = &["readline", "curses", "dbm", "uuid", "tkinter"];

/// Runs the interpreter, importing each module; prints `{"module": true|false, ...}`.
/// Written for Python 2.7 and 3.x alike.
const PROBE: &str = "import importlib, json, sys\n\
r = {}\n\
for name in sys.argv[1:]:\n    try:\n        importlib.import_module(name)\n        r[name] = True\n    except Exception:\n        r[name] = False\n\
print(json.dumps(r))\n";

/// An interpreter inside a staging tree, runnable before it is moved into place.
pub struct Staged {
    pub python: PathBuf,
    /// Directories with the shared libraries it needs (`lib/`, a private OpenSSL's `lib/`).
    pub library_path: Vec<PathBuf>,
}

impl Staged {
    /// The staged interpreter under `prefix` (`bin/python3`, or `bin/python` for 2.x).
    pub fn find(prefix: &Path, library_path: Vec<PathBuf>) -> Option<Staged> {
        ["python3", "python"]
            .iter()
            .map(|name| prefix.join("bin").join(name))
            .find(|p| p.exists())
            .map(|python| Staged {
                python,
                library_path,
            })
    }

    /// A command running the staged interpreter, isolated from the user's Python settings.
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(&self.python);
        let joined = std::env::join_paths(&self.library_path).unwrap_or_default();
        cmd.env("LD_LIBRARY_PATH", joined)
            .env_remove("PYTHONPATH")
            .env_remove("PYTHONHOME")
            .env_remove("PYTHONSTARTUP")
            .env_remove("PYTHONUSERBASE");
        cmd
    }
}

/// Why the staged interpreter could not be checked.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("cannot run {}: {source}", python.display())]
    Run {
        python: PathBuf,
        source: std::io::Error,
    },
    #[error("{} does not run: {stderr}", python.display())]
    Broken { python: PathBuf, stderr: String },
    #[error("unexpected output from {}: {reason}", python.display())]
    Output { python: PathBuf, reason: String },
}

/// The result of the module probe.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ModuleReport {
    pub missing_required: Vec<String>,
    pub missing_optional: Vec<String>,
}

/// Imports every required and optional module (names adjusted for Python 2).
pub fn probe_modules(staged: &Staged, python2: bool) -> Result<ModuleReport, VerifyError> {
    let names: Vec<&str> = REQUIRED
        .iter()
        .chain(OPTIONAL)
        .copied()
        .filter(|m| !(python2 && *m == "lzma"))
        .collect();
    let import_names: Vec<&str> = names
        .iter()
        .map(|m| match (*m, python2) {
            ("tkinter", true) => "Tkinter",
            ("uuid", false) => "_uuid",
            (m, _) => m,
        })
        .collect();
    let output = staged
        .command()
        .arg("-c")
        .arg(PROBE)
        .args(&import_names)
        .output()
        .map_err(|source| VerifyError::Run {
            python: staged.python.clone(),
            source,
        })?;
    if !output.status.success() {
        return Err(VerifyError::Broken {
            python: staged.python.clone(),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        });
    }
    let results: BTreeMap<String, bool> =
        serde_json::from_slice(&output.stdout).map_err(|e| VerifyError::Output {
            python: staged.python.clone(),
            reason: e.to_string(),
        })?;
    let mut report = ModuleReport::default();
    for (name, import_name) in names.iter().zip(&import_names) {
        if results.get(*import_name) == Some(&true) {
            continue;
        }
        if REQUIRED.contains(name) {
            report.missing_required.push((*name).to_owned());
        } else {
            report.missing_optional.push((*name).to_owned());
        }
    }
    Ok(report)
}

/// Checks that `python -m pip --version` works in the staged interpreter.
pub fn check_pip(staged: &Staged) -> Result<(), VerifyError> {
    let output = staged
        .command()
        .args(["-m", "pip", "--version"])
        .output()
        .map_err(|source| VerifyError::Run {
            python: staged.python.clone(),
            source,
        })?;
    if output.status.success() {
        Ok(())
    } else {
        Err(VerifyError::Broken {
            python: staged.python.clone(),
            stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        })
    }
}

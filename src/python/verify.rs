//! Checking a freshly built interpreter before it is installed: required modules import,
//! optional ones are listed when missing, pip works.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::modules::{Module, MODULES};
use crate::process::{Limits, RunError, Runner};

/// Runs the interpreter, importing each module; prints `strap-probe: {"module": true, ...}`, the
/// error instead of `true` for one that fails (marked, since the module imports may print too).
/// Written for Python 2.7 and 3.x alike.
const PROBE: &str = "import importlib, json, sys\n\
r = {}\n\
for name in sys.argv[1:]:\n    try:\n        importlib.import_module(name)\n        r[name] = True\n    except Exception as e:\n        r[name] = '%s: %s' % (type(e).__name__, e)\n\
print('strap-probe: ' + json.dumps(r))\n";

/// The marker of the probe's result line.
const PROBE_MARK: &str = "strap-probe: ";

/// How long one check of the staged interpreter may take.
const CHECK_TIMEOUT: Duration = Duration::from_secs(300);

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

    /// Runs `cmd` (made by [`Staged::command`]) through the build's runner: logged, supervised,
    /// cancellable, bounded in time; its output when it succeeds.
    pub fn run(&self, runner: &Runner, cmd: &mut Command) -> Result<String, VerifyError> {
        let limits = Limits {
            timeout: Some(CHECK_TIMEOUT),
            capture: true,
        };
        let run_error = |source| VerifyError::Run {
            python: self.python.clone(),
            source,
        };
        let finished = runner.run(cmd, limits).map_err(run_error)?;
        if finished.success() {
            Ok(finished.output)
        } else {
            Err(VerifyError::Broken {
                python: self.python.clone(),
                stderr: finished.output.trim().to_owned(),
            })
        }
    }

    /// A command running the staged interpreter, isolated from the user's Python settings,
    /// writing no bytecode into the tree it checks (which is packed meanwhile).
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(&self.python);
        let joined = std::env::join_paths(&self.library_path).unwrap_or_default();
        cmd.env("LD_LIBRARY_PATH", joined)
            .env("PYTHONDONTWRITEBYTECODE", "1")
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
    Run { python: PathBuf, source: RunError },
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

/// Imports every module of [`MODULES`] (as Python 2 names them, for 2.x).
pub fn probe_modules(
    runner: &Runner,
    staged: &Staged,
    python2: bool,
) -> Result<ModuleReport, VerifyError> {
    let (modules, import_names): (Vec<&Module>, Vec<&str>) = MODULES
        .iter()
        .filter_map(|m| {
            let import = if python2 { m.import2 } else { Some(m.import) };
            import.map(|import| (m, import))
        })
        .unzip();
    let results = import_each(runner, staged, &import_names)?;
    let mut report = ModuleReport::default();
    for (module, import_name) in modules.iter().zip(&import_names) {
        if results.get(*import_name) == Some(&None) {
            continue;
        }
        if module.required {
            report.missing_required.push(module.name.to_owned());
        } else {
            report.missing_optional.push(module.name.to_owned());
        }
    }
    Ok(report)
}

/// Imports each of `names` in the staged interpreter: `None` for one that imports, else the
/// error it raised (`ImportError: libssl.so.1.0.0: cannot open shared object file…`).
pub fn import_each(
    runner: &Runner,
    staged: &Staged,
    names: &[&str],
) -> Result<BTreeMap<String, Option<String>>, VerifyError> {
    let output = staged.run(runner, staged.command().arg("-c").arg(PROBE).args(names))?;
    let line = output
        .lines()
        .find_map(|l| l.strip_prefix(PROBE_MARK))
        .unwrap_or_default();
    let results: BTreeMap<String, serde_json::Value> =
        serde_json::from_str(line).map_err(|e| VerifyError::Output {
            python: staged.python.clone(),
            reason: e.to_string(),
        })?;
    Ok(results
        .into_iter()
        .map(|(name, result)| {
            let error = match result {
                serde_json::Value::Bool(true) => None,
                serde_json::Value::String(error) => Some(error),
                other => Some(format!("the probe answered {other}")),
            };
            (name, error)
        })
        .collect())
}

/// Checks that `python -m pip --version` works in the staged interpreter.
pub fn check_pip(runner: &Runner, staged: &Staged) -> Result<(), VerifyError> {
    staged
        .run(runner, staged.command().args(["-m", "pip", "--version"]))
        .map(drop)
}

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
            return Ok(finished.output);
        }
        // The kernel refuses another machine's binary, and the C library's `execvp` then
        // hands it to `/bin/sh`, whose complaint would say nothing useful.
        if let Some((built_for, here)) = foreign_machine(&self.python) {
            return Err(VerifyError::Foreign {
                python: self.python.clone(),
                built_for,
                here,
            });
        }
        Err(VerifyError::Broken {
            python: self.python.clone(),
            stderr: finished.output.trim().to_owned(),
        })
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
    #[error(
        "{} is built for {built_for}, not for this machine ({here}): it cannot run, or be \
         checked, here; install it on a machine it is built for",
        python.display()
    )]
    Foreign {
        python: PathBuf,
        built_for: &'static str,
        here: &'static str,
    },
}

/// The machine (ELF's `e_machine`) the file at `path` is built for; `None` for a file that is
/// not ELF.
fn elf_machine(path: &Path) -> Option<u16> {
    use std::io::Read;
    let mut head = [0u8; 20];
    std::fs::File::open(path).ok()?.read_exact(&mut head).ok()?;
    if !head.starts_with(b"\x7fELF") {
        return None;
    }
    let bytes = [head[18], head[19]];
    Some(match head[5] {
        2 => u16::from_be_bytes(bytes),
        _ => u16::from_le_bytes(bytes),
    })
}

/// The machines the ELF binary `python` is built for and this one is (goblin's names:
/// `AARCH64`, `X86_64`) when it cannot run here: neither this machine's nor its 32-bit
/// predecessor's (i386 on x86-64, ARM on AArch64).
fn foreign_machine(python: &Path) -> Option<(&'static str, &'static str)> {
    use goblin::elf::header::{machine_to_str, EM_386, EM_AARCH64, EM_ARM, EM_X86_64};
    let theirs = elf_machine(python)?;
    let ours = elf_machine(Path::new("/proc/self/exe"))?;
    let runs_here = theirs == ours
        || (ours == EM_X86_64 && theirs == EM_386)
        || (ours == EM_AARCH64 && theirs == EM_ARM);
    (!runs_here).then(|| (machine_to_str(theirs), machine_to_str(ours)))
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

#[cfg(test)]
mod tests {
    use super::*;

    /// An ELF header for `machine`, little-endian, as far as `e_machine`.
    fn elf_head(machine: u16) -> Vec<u8> {
        let mut head = b"\x7fELF\x02\x01\x01".to_vec();
        head.resize(18, 0);
        head.extend_from_slice(&machine.to_le_bytes());
        head
    }

    #[test]
    fn another_machine_s_binary_is_named_and_this_machine_s_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let ours = elf_machine(Path::new("/proc/self/exe")).unwrap();
        let here = goblin::elf::header::machine_to_str(ours);
        let other = dir.path().join("s390x");
        std::fs::write(&other, elf_head(goblin::elf::header::EM_S390)).unwrap();
        assert_eq!(foreign_machine(&other), Some(("S390", here)));
        let same = dir.path().join("same");
        std::fs::write(&same, elf_head(ours)).unwrap();
        assert_eq!(foreign_machine(&same), None);
        let script = dir.path().join("script");
        std::fs::write(&script, "#!/bin/sh\n").unwrap();
        assert_eq!(foreign_machine(&script), None);
        assert_eq!(foreign_machine(&dir.path().join("missing")), None);
    }
}

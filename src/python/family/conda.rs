//! conda installers (Anaconda, Miniconda, Miniforge, Mambaforge): the `.sh` installer run in
//! batch mode, as python-build's `build_package_anaconda` runs it (`bash INSTALLER -f -b -p
//! PREFIX`).
//!
//! A conda install writes its prefix into scripts (`bin/conda`'s `#!`) and binaries, so the
//! installer is told the final prefix, `versions/NAME`, which is a link to the staged prefix
//! while it runs and while the install is verified through it ([`PrefixLink`]): the files land
//! in the staging area and the pipeline's one rename puts them in place. For the same reason
//! a conda install is never moved to another prefix: its build-cache key names its prefix
//! ([`embedded_prefix`]), so its pack serves only a reinstall at the same place, which needs no
//! relocation.
//!
//! python-build's `build_package_miniconda` then runs `conda install --yes pip conda=VERSION`
//! (pip, without letting conda upgrade itself): that reads the channels' package index on the
//! network, which an offline install from a mirror cannot, and it changes the install after its
//! checksum was verified. strap does not run it: a Miniconda is installed as its installer lays
//! it out (Miniconda 4 and later ship pip), and `conda install pip` adds it to one
//! that lacks it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use super::FamilyPlan;
use crate::error::IoContext;
use crate::process::{Limits, RunError};
use crate::python::install::PythonOptions;
use crate::stage::{Artifact, Build, Source, StageError};
use crate::workdir::PrefixLink;

/// How long one check of the installed Python may take.
const CHECK_TIMEOUT: Duration = Duration::from_secs(300);

/// How much of each file in `bin/` is read for its `#!` line.
const SCRIPT_HEAD: u64 = 4096;

/// One install.
pub struct Conda<'a> {
    plan: &'a FamilyPlan,
    prefix: PathBuf,
    sources: Vec<Source>,
    /// The final prefix as a link to the staged one, from the installer's run to the end of
    /// the verification.
    link: Mutex<Option<PrefixLink>>,
}

impl<'a> Conda<'a> {
    /// The install of `plan` into `prefix`.
    pub fn new(plan: &'a FamilyPlan, prefix: PathBuf, options: &'a PythonOptions) -> Conda<'a> {
        Conda {
            plan,
            prefix,
            sources: vec![super::source(plan, &options.mirrors)],
            link: Mutex::new(None),
        }
    }

    fn name(&self) -> &str {
        &self.plan.definition.name
    }

    /// Runs the installer at the final prefix, made a link to the staged one; the link stays
    /// for [`Artifact::verify`] when it succeeds.
    fn run_installer(&self, build: &Build<'_>) -> Result<(), StageError> {
        let installer = build.sources[0].join(&self.plan.download.file);
        let link = self.link_prefix(build)?;
        let mut cmd = Command::new("bash");
        cmd.arg(&installer)
            .args(["-f", "-b", "-p"])
            .arg(&self.prefix)
            .current_dir(&build.sources[0]);
        isolate(&mut cmd);
        let ran = build.runner.check(&mut cmd);
        match ran {
            Ok(()) => {
                *self.link.lock().unwrap_or_else(|e| e.into_inner()) = Some(link);
                Ok(())
            }
            Err(e) => {
                drop(link);
                Err(StageError::build(self.name(), e))
            }
        }
    }

    /// Makes the final prefix a link to the staged one.
    fn link_prefix(&self, build: &Build<'_>) -> Result<PrefixLink, StageError> {
        Ok(PrefixLink::create(&self.prefix, &build.staged_prefix())
            .io_context("link the prefix to the staging area", &self.prefix)?)
    }

    /// Fails when a script in `bin/` names the staging area instead of the final prefix (an
    /// installer that resolved the link): it would break once moved into place.
    fn names_its_prefix(&self, build: &Build<'_>) -> Result<(), StageError> {
        let staged = build.staged_prefix();
        let bin = staged.join("bin");
        let entries = std::fs::read_dir(&bin).io_context("list", &bin)?;
        let needle = staged.display().to_string();
        for entry in entries {
            let path = entry.io_context("list", &bin)?.path();
            if script_head(&path).is_some_and(|head| head.contains(&needle)) {
                return Err(StageError::Verify {
                    what: self.name().to_owned(),
                    why: format!(
                        "the installer wrote the staging area {needle} into bin/{}, not the \
                         prefix {}: the install would break once moved there",
                        path.file_name().unwrap_or_default().to_string_lossy(),
                        self.prefix.display()
                    ),
                    hint: None,
                });
            }
        }
        Ok(())
    }

    /// Runs `program ARGS` of the install through its final prefix; its output.
    fn check(&self, build: &Build<'_>, program: &str, args: &[&str]) -> Result<String, StageError> {
        let path = self.prefix.join("bin").join(program);
        let mut cmd = Command::new(&path);
        cmd.args(args);
        isolate(&mut cmd);
        // The install is packed while it is checked: the checks write no bytecode into it.
        cmd.env("PYTHONDONTWRITEBYTECODE", "1");
        let limits = Limits {
            timeout: Some(CHECK_TIMEOUT),
            capture: true,
        };
        let shown = format!("{program} {}", args.join(" "));
        let failed = |why: String| StageError::Verify {
            what: self.name().to_owned(),
            why: format!("`{shown}` of the new install failed: {why}"),
            hint: None,
        };
        match build.runner.check_within(&mut cmd, limits) {
            Ok(finished) => Ok(finished.output),
            Err(RunError::Interrupted) => Err(StageError::Interrupted),
            Err(RunError::Failed { status, tail, .. }) => Err(failed(format!("{status}\n{tail}"))),
            Err(e) => Err(failed(e.to_string())),
        }
    }
}

/// The first bytes of the regular file `path` (where a script's `#!` line is), as text.
fn script_head(path: &Path) -> Option<String> {
    use std::io::Read;
    if !std::fs::symlink_metadata(path).ok()?.is_file() {
        return None;
    }
    let mut head = Vec::new();
    std::fs::File::open(path)
        .ok()?
        .take(SCRIPT_HEAD)
        .read_to_end(&mut head)
        .ok()?;
    Some(String::from_utf8_lossy(&head).into_owned())
}

/// Keeps the user's Python and conda settings from the installer and the checks.
fn isolate(cmd: &mut Command) {
    for var in [
        "PYTHONPATH",
        "PYTHONHOME",
        "PYTHONSTARTUP",
        "PYTHONUSERBASE",
        "CONDA_PREFIX",
        "CONDA_DEFAULT_ENV",
        "CONDA_SHLVL",
        "CONDA_EXE",
        "CONDARC",
    ] {
        cmd.env_remove(var);
    }
}

/// The option that makes the build-cache key name the prefix a conda install embeds: spelled
/// with its `/` escaped, since the key counts paths relative to the prefix otherwise (see
/// [`crate::stage::artifact_key`]), as builds that relocate.
fn embedded_prefix(prefix: &Path) -> String {
    let escaped = prefix
        .display()
        .to_string()
        .replace('%', "%25")
        .replace('/', "%2F");
    format!("--embedded-prefix={escaped}")
}

impl Artifact for Conda<'_> {
    fn kind(&self) -> &'static str {
        crate::python::KIND
    }
    fn name(&self) -> &str {
        Conda::name(self)
    }
    fn title(&self) -> String {
        super::title(self.plan)
    }
    fn prefix(&self) -> &Path {
        &self.prefix
    }
    fn preflight_detail(&self) -> Option<&'static str> {
        Some("bash")
    }
    fn preflight(&self) -> Result<Vec<String>, StageError> {
        match crate::which::find_on_path("bash") {
            Some(_) => Ok(Vec::new()),
            None => Err(StageError::Preflight {
                missing: "bash (runs the conda installer)".to_owned(),
                fix: crate::sysdeps::PackageManager::detect()
                    .map(|manager| manager.install_hint(&["bash"])),
            }),
        }
    }
    fn sources(&self) -> &[Source] {
        &self.sources
    }
    fn build(&self, build: &Build<'_>) -> Result<(), StageError> {
        let detail = format!(
            "bash {} -f -b -p {} (a link to the staging area meanwhile)",
            self.plan.download.file,
            self.prefix.display()
        );
        build
            .phases
            .run("install", &detail, || self.run_installer(build))
    }
    fn verify_detail(&self) -> String {
        "bin/ names the prefix, python -c 'import ssl', conda --version".to_owned()
    }
    /// Runs the checks through the final prefix: the installer's link, or (for a packed build,
    /// which ran no installer) one made for them.
    fn verify(&self, build: &Build<'_>) -> Result<Vec<String>, StageError> {
        let link = self.link.lock().unwrap_or_else(|e| e.into_inner()).take();
        let link = match link {
            Some(link) => link,
            None => self.link_prefix(build)?,
        };
        let checked = self
            .names_its_prefix(build)
            .and_then(|()| self.check(build, "python", &["-c", "import ssl"]))
            .and_then(|_| self.check(build, "conda", &["--version"]));
        link.remove()
            .io_context("remove the link to the staging area at", &self.prefix)?;
        let version = checked?;
        if !version.trim_start().starts_with("conda ") {
            return Err(StageError::Verify {
                what: self.name().to_owned(),
                why: format!(
                    "`conda --version` of the new install printed {:?}, not a conda version",
                    version.trim()
                ),
                hint: None,
            });
        }
        Ok(Vec::new())
    }
    fn options(&self) -> Vec<String> {
        vec![embedded_prefix(&self.prefix)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::Platform;
    use crate::python::family::{Definition, Family};

    fn conda(plan: &FamilyPlan, prefix: &str, options: &'static PythonOptions) -> String {
        let install = Conda::new(plan, PathBuf::from(prefix), options);
        crate::stage::artifact_key(&install, &Platform::current())
    }

    #[test]
    fn the_build_cache_key_names_the_prefix() {
        let sha = "c".repeat(64);
        let url = format!("any=https://h/Miniforge3-24.11.3-0-Linux-x86_64.sh#{sha}");
        let definition =
            Definition::parse("miniforge3-24.11.3-0", Family::Miniforge, &[&url]).unwrap();
        let plan = super::super::plan(&definition, "miniforge3-24.11.3-0", None).unwrap();
        let options: &'static PythonOptions = Box::leak(Box::new(PythonOptions {
            mirrors: Vec::new(),
            user: Default::default(),
            with_pip: true,
            allow_missing: Vec::new(),
        }));
        let here = conda(&plan, "/srv/a/versions/miniforge3-24.11.3-0", options);
        assert_eq!(
            here,
            conda(&plan, "/srv/a/versions/miniforge3-24.11.3-0", options)
        );
        assert_ne!(
            here,
            conda(&plan, "/srv/b/versions/miniforge3-24.11.3-0", options)
        );
        assert_eq!(
            embedded_prefix(Path::new("/a/b%c")),
            "--embedded-prefix=%2Fa%2Fb%25c"
        );
    }
}

//! `strap install`: preflight, fetch, unpack, build into a staging area, verify, then one rename
//! into `versions/` — an install is complete or absent, never half there.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::build::{self, BuildDirs, BuildOptions};
use super::catalog::Catalog;
use super::plan::Plan;
use super::preflight::{self, Findings};
use super::verify::{self, ModuleReport, Staged};
use crate::archive::{self, ArchiveError};
use crate::fetch::{mirror, FetchError, Fetcher, Wanted};
use crate::layout::Layout;
use crate::lock::FileLock;
use crate::report::Reporter;
use crate::runner::{self, RunError, Runner};

/// Everything that shapes an install besides the plan.
pub struct InstallOptions {
    /// Mirror URL templates, in order.
    pub mirrors: Vec<String>,
    pub cache_dir: PathBuf,
    pub offline: bool,
    pub stall_timeout: Duration,
    pub jobs: usize,
    pub configure_opts: Vec<String>,
    pub force: bool,
    pub skip_existing: bool,
    pub verbose: bool,
    pub keep: bool,
    pub with_pip: bool,
    pub skip_preflight: bool,
    /// Required modules that may be missing.
    pub allow_missing: Vec<String>,
}

/// What an install did.
#[derive(Debug)]
pub enum Outcome {
    Installed {
        name: String,
        prefix: PathBuf,
        /// Optional modules that are missing, with the package that provides each.
        missing_optional: Vec<String>,
        log: PathBuf,
    },
    /// Already installed (`--skip-existing`, or another strap process installed it meanwhile).
    AlreadyInstalled { name: String },
}

/// Why an install failed. Nothing is left under `versions/` in any of these cases.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error("{name} is already installed at {}", prefix.display())]
    AlreadyInstalled { name: String, prefix: PathBuf },
    #[error("missing build prerequisites: {}", describe_missing(.0))]
    Preflight(Box<Findings>),
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error(transparent)]
    Archive(#[from] ArchiveError),
    #[error("building {name} failed: {source}{}", kept_note(.kept))]
    Build {
        name: String,
        source: Box<RunError>,
        kept: Option<PathBuf>,
    },
    #[error("{name} was built without the required module(s) {}; it was not installed (log: {}){}",
        .missing.join(", "), log.display(), kept_note(.kept))]
    MissingModules {
        name: String,
        missing: Vec<String>,
        log: PathBuf,
        kept: Option<PathBuf>,
    },
    #[error("{name}: the new interpreter failed verification: {why}{}", kept_note(.kept))]
    Verify {
        name: String,
        why: String,
        kept: Option<PathBuf>,
    },
    #[error("interrupted: nothing was installed{}", if *.download_kept { "; the partial download is kept" } else { "" })]
    Interrupted { download_kept: bool },
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Strap(#[from] crate::error::Error),
}

fn describe_missing(findings: &Findings) -> String {
    let mut parts: Vec<String> = findings
        .missing_tools
        .iter()
        .map(|t| (*t).to_owned())
        .collect();
    parts.extend(
        findings
            .missing_required
            .iter()
            .map(|l| format!("{} headers (for {})", l.name, l.modules)),
    );
    parts.join(", ")
}

fn kept_note(kept: &Option<PathBuf>) -> String {
    kept.as_ref()
        .map(|p| format!("\nthe build tree is kept at {}", p.display()))
        .unwrap_or_default()
}

impl InstallError {
    /// The next step for the user.
    pub fn hint(&self) -> Option<String> {
        match self {
            InstallError::AlreadyInstalled { name, .. } => Some(format!(
                "reinstall with `strap install -f {name}`, or pass -s to skip installed versions"
            )),
            InstallError::Preflight(findings) => Some(match findings.fix_command() {
                Some(cmd) => {
                    format!("install them with: {cmd}  (or build anyway with --skip-preflight)")
                }
                None => {
                    "install them with your package manager (or build anyway with --skip-preflight)"
                        .to_owned()
                }
            }),
            InstallError::MissingModules { missing, .. } => {
                Some(format!(
                "install the development packages for them and retry, or accept the gap with {}",
                missing.iter().map(|m| format!("--allow-missing {m}")).collect::<Vec<_>>().join(" ")
            ))
            }
            InstallError::Fetch(FetchError::AllMirrorsFailed { .. }) => Some(
                "add a reachable mirror with --mirror, STRAP_PYTHON_MIRRORS or the config file, \
                 or put the archive into the cache by hand"
                    .to_owned(),
            ),
            _ => None,
        }
    }
}

/// Installs `plan` under `layout`; `strap_exe` is what the shims link to.
pub fn install(
    layout: &Layout,
    catalog: &Catalog,
    plan: &Plan,
    options: &InstallOptions,
    strap_exe: &Path,
    reporter: &dyn Reporter,
) -> Result<Outcome, InstallError> {
    let prefix = layout.version_dir(&plan.name);
    if prefix.exists() && !options.force {
        if options.skip_existing {
            return Ok(Outcome::AlreadyInstalled {
                name: plan.name.clone(),
            });
        }
        return Err(InstallError::AlreadyInstalled {
            name: plan.name.clone(),
            prefix,
        });
    }
    if !options.skip_preflight {
        reporter.phase("preflight", "compiler, make, headers");
        let findings = preflight::check(!plan.needs_openssl11);
        if !findings.ok() {
            return Err(InstallError::Preflight(Box::new(findings)));
        }
        for note in findings.optional_notes() {
            reporter.warning(&note);
        }
        reporter.phase_done();
    }
    let _lock = FileLock::acquire(
        &layout
            .locks_dir()
            .join(format!("python-{}.lock", plan.name)),
        |_| {
            reporter.message(&format!(
                "waiting for another strap process installing {}",
                plan.name
            ));
        },
    )?;
    if prefix.exists() && !options.force {
        return Ok(Outcome::AlreadyInstalled {
            name: plan.name.clone(),
        });
    }
    remove_leftovers(layout, &plan.name);

    let mut fetcher = Fetcher::new(
        options.cache_dir.clone(),
        layout.locks_dir(),
        options.offline,
        options.stall_timeout,
    );
    reporter.phase("download", &plan.archives[0].file);
    let wanted: Vec<Wanted<'_>> = plan
        .archives
        .iter()
        .map(|a| Wanted {
            file: &a.file,
            sha256: &a.sha256,
            urls: options
                .mirrors
                .iter()
                .map(|m| mirror::expand(m, plan.release_dir(), &a.file, &a.sha256))
                .collect(),
        })
        .collect();
    let (archive_path, _) = fetcher
        .fetch(&wanted, reporter)
        .map_err(interrupted_fetch)?;
    let openssl_archive = if plan.needs_openssl11 {
        let dep = catalog.openssl11();
        let mut urls: Vec<String> = options
            .mirrors
            .iter()
            .filter(|m| mirror::serves_any_file(m))
            .map(|m| mirror::expand(m, &dep.name, &dep.archive.file, &dep.archive.sha256))
            .collect();
        urls.push(dep.url.clone());
        let wanted = Wanted {
            file: &dep.archive.file,
            sha256: &dep.archive.sha256,
            urls,
        };
        Some(
            fetcher
                .fetch(&[wanted], reporter)
                .map_err(interrupted_fetch)?
                .0,
        )
    } else {
        None
    };
    reporter.phase_done();

    // From here on Ctrl-C is handled: the build is stopped and its trees removed. Before, the
    // default applies: strap stops at once and the partial download stays for the next run.
    runner::watch_for_interrupts();
    let work = WorkDir::create(layout, &plan.name)?;
    let outcome = build_and_place(
        layout,
        plan,
        options,
        &archive_path,
        openssl_archive.as_deref(),
        &work,
        reporter,
    );
    let failed = outcome.is_err();
    let keep = failed && options.keep;
    let outcome = outcome.map_err(|e| e.with_kept(keep.then(|| work.path.clone())));
    if !keep {
        work.remove();
    }
    if !failed {
        crate::shims::rehash(layout, strap_exe)?;
    }
    outcome
}

fn interrupted_fetch(e: FetchError) -> InstallError {
    match e {
        FetchError::Interrupted => InstallError::Interrupted {
            download_kept: true,
        },
        other => other.into(),
    }
}

fn build_and_place(
    layout: &Layout,
    plan: &Plan,
    options: &InstallOptions,
    archive_path: &Path,
    openssl_archive: Option<&Path>,
    work: &WorkDir,
    reporter: &dyn Reporter,
) -> Result<Outcome, InstallError> {
    let name = &plan.name;
    let log = layout.log_file(&format!("python-{name}"));
    let runner = Runner::new(&log, options.verbose).map_err(|e| build_error(name, e))?;
    runner.note(&format!(
        "# strap install {name} ({})",
        archive_path.display()
    ));

    reporter.phase(
        "unpack",
        &archive_path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy(),
    );
    let source = archive::unpack(archive_path, &work.path.join("src"))?;
    reporter.phase_done();

    let dirs = BuildDirs {
        source,
        prefix: layout.version_dir(name),
        staging: work.path.join("stage"),
    };
    if let Some(openssl) = openssl_archive {
        reporter.phase(
            "openssl",
            "private OpenSSL 1.1.1 (this release does not build against OpenSSL 3)",
        );
        let source = archive::unpack(openssl, &work.path.join("openssl-src"))?;
        build::build_openssl(&runner, &source, &dirs, options.jobs)
            .map_err(|e| build_error(name, e))?;
        reporter.phase_done();
    }
    let build_options = BuildOptions {
        jobs: options.jobs,
        configure_opts: &options.configure_opts,
    };
    reporter.phase("configure", &format!("log: {}", log.display()));
    build::configure(&runner, plan, &dirs, &build_options).map_err(|e| build_error(name, e))?;
    reporter.phase_done();
    reporter.phase("compile", &format!("make -j{}", options.jobs));
    build::compile(&runner, plan, &dirs, options.jobs).map_err(|e| build_error(name, e))?;
    reporter.phase_done();
    reporter.phase("install", "make install into the staging area");
    build::install(&runner, plan, &dirs).map_err(|e| build_error(name, e))?;
    if options.with_pip {
        build::install_pip(&runner, plan, &dirs).map_err(|e| build_error(name, e))?;
    }
    let staged_prefix = dirs.staged_prefix();
    build::link_unsuffixed(&staged_prefix.join("bin"))
        .map_err(|e| io_error("link", &staged_prefix, e))?;
    reporter.phase_done();

    reporter.phase("verify", "required and optional modules, pip");
    let staged =
        Staged::find(&staged_prefix, build::staged_library_path(plan, &dirs)).ok_or_else(|| {
            InstallError::Verify {
                name: name.clone(),
                why: format!(
                    "no bin/python3 or bin/python under {}",
                    staged_prefix.display()
                ),
                kept: None,
            }
        })?;
    let report = verify::probe_modules(&staged, plan.major_minor().0 == 2).map_err(|why| {
        InstallError::Verify {
            name: name.clone(),
            why,
            kept: None,
        }
    })?;
    runner.note(&format!("# verify: {report:?}"));
    let ModuleReport {
        missing_required,
        missing_optional,
    } = report;
    let missing: Vec<String> = missing_required
        .into_iter()
        .filter(|m| !options.allow_missing.contains(m))
        .collect();
    if !missing.is_empty() {
        return Err(InstallError::MissingModules {
            name: name.clone(),
            missing,
            log,
            kept: None,
        });
    }
    if options.with_pip {
        verify::check_pip(&staged).map_err(|why| InstallError::Verify {
            name: name.clone(),
            why: format!("pip does not work: {why}"),
            kept: None,
        })?;
    }
    reporter.phase_done();
    place(&staged_prefix, &dirs.prefix, work)?;
    let manager = preflight::detect_manager();
    let missing_optional = missing_optional
        .into_iter()
        .map(|m| match preflight::package_for_module(&m, manager) {
            Some(package) => format!("{m} (package {package})"),
            None => m,
        })
        .collect();
    Ok(Outcome::Installed {
        name: name.clone(),
        prefix: dirs.prefix,
        missing_optional,
        log,
    })
}

/// Moves the staged prefix into `versions/`, replacing an existing install (`--force`) only
/// once the new one is complete.
fn place(staged_prefix: &Path, prefix: &Path, work: &WorkDir) -> Result<(), InstallError> {
    if let Some(parent) = prefix.parent() {
        fs::create_dir_all(parent).map_err(|e| io_error("create", parent, e))?;
    }
    let old = work.path.join("replaced");
    let replacing = prefix.exists();
    if replacing {
        fs::rename(prefix, &old).map_err(|e| io_error("move aside", prefix, e))?;
    }
    if let Err(e) = fs::rename(staged_prefix, prefix) {
        if replacing {
            let _ = fs::rename(&old, prefix);
        }
        return Err(io_error("move into place", prefix, e));
    }
    Ok(())
}

impl InstallError {
    fn with_kept(self, kept_path: Option<PathBuf>) -> Self {
        match self {
            InstallError::Build { name, source, .. } => InstallError::Build {
                name,
                source,
                kept: kept_path,
            },
            InstallError::MissingModules {
                name, missing, log, ..
            } => InstallError::MissingModules {
                name,
                missing,
                log,
                kept: kept_path,
            },
            InstallError::Verify { name, why, .. } => InstallError::Verify {
                name,
                why,
                kept: kept_path,
            },
            other => other,
        }
    }
}

fn build_error(name: &str, source: RunError) -> InstallError {
    match source {
        RunError::Interrupted => InstallError::Interrupted {
            download_kept: false,
        },
        source => InstallError::Build {
            name: name.to_owned(),
            source: Box::new(source),
            kept: None,
        },
    }
}

fn io_error(action: &'static str, path: &Path, source: std::io::Error) -> InstallError {
    InstallError::Io {
        action,
        path: path.to_owned(),
        source,
    }
}

/// The build's scratch directory, `<root>/tmp/python-<name>.<pid>`, on the same file system as
/// `versions/` so that the final move is one rename.
struct WorkDir {
    path: PathBuf,
}

impl WorkDir {
    fn create(layout: &Layout, name: &str) -> Result<WorkDir, InstallError> {
        let path = layout
            .tmp_dir()
            .join(format!("python-{name}.{}", std::process::id()));
        fs::create_dir_all(&path).map_err(|e| io_error("create build directory", &path, e))?;
        Ok(WorkDir { path })
    }

    fn remove(&self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

/// Removes what a killed install of `name` left behind (the caller holds the version's lock, so
/// no live process is using it).
fn remove_leftovers(layout: &Layout, name: &str) {
    let Ok(entries) = fs::read_dir(layout.tmp_dir()) else {
        return;
    };
    let prefix = format!("python-{name}.");
    for entry in entries.filter_map(Result::ok) {
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

//! CPython as an artifact of the staged-install pipeline ([`crate::stage`]): its sources (the
//! release archive, and OpenSSL 1.1.1 for old releases), its preflight, its build phases and
//! its verification. Everything else — locks, fetching, unpacking, staging, the rename — is
//! the pipeline's.

use std::fs;
use std::path::{Path, PathBuf};

use super::build::{self, BuildDirs, UserOptions};
use super::catalog::Catalog;
use super::plan::Plan;
use super::preflight;
use super::verify::{self, ModuleReport, Staged, VerifyError};
use crate::error::IoContext;
use crate::fetch::mirror::{self, Placeholders};
use crate::fetch::Wanted;
use crate::layout::Layout;
use crate::process::RunError;
use crate::stage::{Artifact, Build, Source, StageError};
use crate::sysdeps::PackageManager;

/// What shapes a CPython build besides its plan.
#[derive(Debug, Clone)]
pub struct PythonOptions {
    /// Mirror URL templates, in order.
    pub mirrors: Vec<String>,
    /// What the user adds to configure and make (flags, `STRAP_*` and python-build's variables).
    pub user: UserOptions,
    pub with_pip: bool,
    /// Required modules that may be missing.
    pub allow_missing: Vec<String>,
}

impl PythonOptions {
    /// The install's own choices as the receipt and the key record them: `--no-pip`,
    /// `--allow-missing=MODULE`.
    pub fn recorded_choices(&self) -> impl Iterator<Item = String> + '_ {
        let no_pip = (!self.with_pip).then(|| "--no-pip".to_owned());
        no_pip.into_iter().chain(
            self.allow_missing
                .iter()
                .map(|m| format!("--allow-missing={m}")),
        )
    }
}

/// One CPython install: a python.org release, or a CPython fork's source built the same way.
pub struct CPython<'a> {
    plan: Plan,
    /// The header line's title (`CPython 3.13.1t (for 3.13t)`).
    title: String,
    prefix: PathBuf,
    sources: Vec<Source>,
    options: &'a PythonOptions,
}

impl<'a> CPython<'a> {
    /// The install of `plan` (requested as `request`) under `layout`.
    pub fn new(
        layout: &Layout,
        catalog: &Catalog,
        plan: &Plan,
        request: &str,
        options: &'a PythonOptions,
    ) -> CPython<'a> {
        let release_dir = plan.release_dir();
        let release = Source {
            candidates: plan
                .archives
                .iter()
                .map(|a| Wanted {
                    file: a.file.clone(),
                    sha256: a.sha256.clone(),
                    size: None,
                    archives: Some(mirror::Archives::Sources),
                    urls: options
                        .mirrors
                        .iter()
                        .map(|m| {
                            mirror::expand(
                                m,
                                &Placeholders::source(&release_dir, &a.file, &a.sha256),
                            )
                        })
                        .collect(),
                })
                .collect(),
        };
        let title = if request == plan.name {
            format!("CPython {}", plan.name)
        } else {
            format!("CPython {} (for {request})", plan.name)
        };
        CPython::from_source(layout, catalog, plan.clone(), title, release, options)
    }

    /// The build of `plan` from `source` (the CPython source tree it unpacks to), with the
    /// private OpenSSL 1.1.1 of `catalog` when the plan needs it: how a CPython fork ([`crate::python::family`])
    /// is built, under its own title.
    pub fn from_source(
        layout: &Layout,
        catalog: &Catalog,
        plan: Plan,
        title: String,
        source: Source,
        options: &'a PythonOptions,
    ) -> CPython<'a> {
        let mut sources = vec![source];
        if plan.needs_openssl11 {
            let dep = catalog.openssl11();
            let mut urls: Vec<String> = options
                .mirrors
                .iter()
                .filter(|m| mirror::serves_any_file(m))
                .map(|m| {
                    let archive = &dep.archive;
                    let values = Placeholders::source(&dep.name, &archive.file, &archive.sha256);
                    mirror::expand(m, &values)
                })
                .collect();
            urls.push(dep.url.clone());
            sources.push(Source {
                candidates: vec![Wanted {
                    file: dep.archive.file.clone(),
                    sha256: dep.archive.sha256.clone(),
                    size: None,
                    archives: Some(mirror::Archives::Sources),
                    urls,
                }],
            });
        }
        CPython {
            prefix: layout.version_dir(&plan.name),
            plan,
            title,
            sources,
            options,
        }
    }

    fn dirs(&self, build: &Build<'_>) -> BuildDirs {
        BuildDirs {
            source: build.sources[0].clone(),
            prefix: self.prefix.clone(),
            staging: build.staging.clone(),
        }
    }
}

impl Artifact for CPython<'_> {
    fn kind(&self) -> &'static str {
        super::KIND
    }

    fn name(&self) -> &str {
        &self.plan.name
    }

    fn title(&self) -> String {
        self.title.clone()
    }

    fn prefix(&self) -> &Path {
        &self.prefix
    }

    fn preflight(&self) -> Result<Vec<String>, StageError> {
        let mut findings = preflight::check(!self.plan.needs_openssl11);
        if self.options.user.patch.is_some() {
            findings.require_tool("patch");
        }
        findings.into_result()
    }

    fn sources(&self) -> &[Source] {
        &self.sources
    }

    fn build(&self, build: &Build<'_>) -> Result<(), StageError> {
        let name = self.name();
        let dirs = self.dirs(build);
        let runner = &build.runner;
        let failed = |e| StageError::build(name, e);
        if let Some(openssl) = build.sources.get(1) {
            build.phases.run(
                "openssl",
                "private OpenSSL 1.1.1 (this release does not build against OpenSSL 3)",
                || build::build_openssl(runner, openssl, &dirs, build.jobs).map_err(failed),
            )?;
        }
        let user = &self.options.user;
        if let Some(patch) = &user.patch {
            let detail = format!("patch -p{} (sha256 {})", patch.strip_level(), patch.sha256);
            build.phases.run("patch", &detail, || {
                fs::create_dir_all(&build.scratch).io_context("create", &build.scratch)?;
                let file = build.scratch.join("user.patch");
                fs::write(&file, &patch.text).io_context("write", &file)?;
                build::apply_patch(runner, patch, &dirs.source, &file).map_err(failed)
            })?;
        }
        let log = runner.log().path().display().to_string();
        let flags: Vec<String> = user.recorded_flags().collect();
        let detail = if flags.is_empty() {
            format!("log: {log}")
        } else {
            format!("{}; log: {log}", flags.join(" "))
        };
        build.phases.run("configure", &detail, || {
            build::configure(runner, &self.plan, &dirs, user).map_err(failed)
        })?;
        let make = std::iter::once(format!("make -j{}", build.jobs)).chain(user.make.clone());
        build
            .phases
            .run("compile", &make.collect::<Vec<_>>().join(" "), || {
                build::compile(runner, &self.plan, &dirs, build.jobs, user).map_err(failed)
            })?;
        build
            .phases
            .run("install", "make install into the staging area", || {
                build::install(runner, &self.plan, &dirs, user).map_err(failed)?;
                if self.options.with_pip {
                    build::install_pip(runner, &self.plan, &dirs).map_err(failed)?;
                }
                let bin = dirs.staged_prefix().join("bin");
                Ok(build::link_unsuffixed(&bin).io_context("link", &bin)?)
            })
    }

    fn verify_detail(&self) -> String {
        if self.options.with_pip {
            "required and optional modules, pip".to_owned()
        } else {
            "required and optional modules".to_owned()
        }
    }

    fn verify(&self, build: &Build<'_>) -> Result<Vec<String>, StageError> {
        let name = self.name();
        let dirs = self.dirs(build);
        let staged_prefix = dirs.staged_prefix();
        let failed = |why: String| StageError::Verify {
            what: name.to_owned(),
            why,
            hint: None,
        };
        let staged = Staged::find(
            &staged_prefix,
            build::staged_library_path(&self.plan, &dirs),
        )
        .ok_or_else(|| {
            failed(format!(
                "the new interpreter failed verification: no bin/python3 or bin/python under {}",
                staged_prefix.display()
            ))
        })?;
        let notes = check_modules(
            &build.runner,
            &staged,
            name,
            self.options,
            self.plan.major_minor().0 == 2,
        )?;
        if self.options.with_pip {
            verify::check_pip(&build.runner, &staged)
                .map_err(|e| verify_error(name, "pip does not work", e))?;
        }
        Ok(notes)
    }

    fn options(&self) -> Vec<String> {
        let dirs = BuildDirs {
            source: PathBuf::new(),
            prefix: self.prefix.clone(),
            staging: PathBuf::new(),
        };
        let mut options: Vec<String> = build::configure_args(&self.plan, &dirs, &self.options.user)
            .into_iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        options.extend(self.options.user.recorded());
        options.extend(self.options.recorded_choices());
        options
    }
}

/// Imports the required and optional modules in the staged CPython `staged` (of `name`): a
/// required one missing (unless `--allow-missing` accepts it) fails verification; the
/// optional ones missing are the notes, each with the package that provides it here.
pub(crate) fn check_modules(
    runner: &crate::process::Runner,
    staged: &Staged,
    name: &str,
    options: &PythonOptions,
    python2: bool,
) -> Result<Vec<String>, StageError> {
    let report = verify::probe_modules(runner, staged, python2)
        .map_err(|e| verify_error(name, "the new interpreter failed verification", e))?;
    runner.log().note(&format!("# verify: {report:?}"));
    let ModuleReport {
        missing_required,
        missing_optional,
    } = report;
    let missing: Vec<String> = missing_required
        .into_iter()
        .filter(|m| !options.allow_missing.contains(m))
        .collect();
    if !missing.is_empty() {
        return Err(StageError::Verify {
            what: name.to_owned(),
            why: format!(
                "built without the required module(s) {}; it was not installed (log: {})",
                missing.join(", "),
                runner.log().path().display()
            ),
            hint: Some(format!(
                "install the development packages for them and retry, or accept the gap with {}",
                missing
                    .iter()
                    .map(|m| format!("--allow-missing {m}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            )),
        });
    }
    let manager = PackageManager::detect();
    Ok(missing_optional
        .into_iter()
        .map(|m| match super::modules::find(&m).zip(manager) {
            Some((module, manager)) => {
                let package = module.library.package(manager);
                format!("optional module {m} is not available in {name} (package {package})")
            }
            None => format!("optional module {m} is not available in {name}"),
        })
        .collect())
}

/// A failed check of the staged interpreter (an interruption is reported as such).
pub(crate) fn verify_error(name: &str, what: &str, error: VerifyError) -> StageError {
    match error {
        VerifyError::Run {
            source: RunError::Interrupted,
            ..
        } => StageError::Interrupted,
        error => StageError::Verify {
            what: name.to_owned(),
            why: format!("{what}: {error}"),
            hint: None,
        },
    }
}

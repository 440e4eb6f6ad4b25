//! MicroPython's unix port, built as python-build's `build_package_micropython` builds it:
//! `make -C mpy-cross`, then `make -C ports/unix` with the final prefix's `lib/micropython`
//! baked in as the default `sys.path`, `make install` into the staged prefix, a `python` link
//! and the empty `lib/micropython/`. Its preflight asks for a C compiler, `make` and `python3`.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::FamilyPlan;
use crate::error::IoContext;
use crate::python::install::{verify_error, PythonOptions};
use crate::python::preflight;
use crate::python::verify::Staged;
use crate::stage::{Artifact, Build, Source, StageError};

/// Where MicroPython looks for modules, under the prefix.
const LIB: &str = "lib/micropython";

/// What verification runs.
const PROBE: &str = "import sys; print(sys.implementation)";

/// One install.
pub struct MicroPython<'a> {
    plan: &'a FamilyPlan,
    prefix: PathBuf,
    sources: Vec<Source>,
    options: &'a PythonOptions,
}

impl<'a> MicroPython<'a> {
    /// The install of `plan` into `prefix`.
    pub fn new(
        plan: &'a FamilyPlan,
        prefix: PathBuf,
        options: &'a PythonOptions,
    ) -> MicroPython<'a> {
        MicroPython {
            plan,
            prefix,
            sources: vec![super::source(plan, &options.mirrors)],
            options,
        }
    }

    /// `make -jN` and the user's make options in `dir` of the source tree.
    fn make(&self, build: &Build<'_>, dir: &str) -> Command {
        let mut make = Command::new("make");
        make.current_dir(build.sources[0].join(dir))
            .arg(format!("-j{}", build.jobs))
            .args(&self.options.user.make);
        make
    }

    /// 1.9.x builds its TLS library (axTLS) first (python-build's `micropython_1_9`).
    fn needs_axtls(&self) -> bool {
        self.plan.definition.name.starts_with("micropython-1.9.")
    }

    /// `CFLAGS_EXTRA` of the unix port: the final prefix's module directory as the default
    /// `sys.path` (quoted for the shell make runs the compiler with), then the environment's.
    fn cflags_extra(&self) -> OsString {
        let mut value = OsString::from(format!(
            "CFLAGS_EXTRA=-DMICROPY_PY_SYS_PATH_DEFAULT='\".frozen:{}\"'",
            self.prefix.join(LIB).display()
        ));
        if let Some(extra) = std::env::var_os("CFLAGS_EXTRA").filter(|e| !e.is_empty()) {
            value.push(" ");
            value.push(extra);
        }
        value
    }
}

impl Artifact for MicroPython<'_> {
    fn kind(&self) -> &'static str {
        crate::python::KIND
    }
    fn name(&self) -> &str {
        &self.plan.definition.name
    }
    fn title(&self) -> String {
        super::title(self.plan)
    }
    fn prefix(&self) -> &Path {
        &self.prefix
    }
    fn preflight(&self) -> Result<Vec<String>, StageError> {
        // Its build runs Python 3 scripts (the qstr and version headers).
        preflight::check_tools(&["python3"]).into_result()
    }
    fn preflight_detail(&self) -> Option<&'static str> {
        Some("compiler, make, python3")
    }
    fn sources(&self) -> &[Source] {
        &self.sources
    }
    fn build(&self, build: &Build<'_>) -> Result<(), StageError> {
        let name = self.name();
        let runner = &build.runner;
        let failed = |e| StageError::build(name, e);
        let staged_prefix = build.staged_prefix();
        let log = runner.log().path().display().to_string();
        build.phases.run(
            "compile",
            &format!("mpy-cross, ports/unix; log: {log}"),
            || {
                runner
                    .check(&mut self.make(build, "mpy-cross"))
                    .map_err(failed)?;
                if self.needs_axtls() {
                    runner
                        .check(self.make(build, "ports/unix").arg("axtls"))
                        .map_err(failed)?;
                }
                runner
                    .check(self.make(build, "ports/unix").arg(self.cflags_extra()))
                    .map_err(failed)
            },
        )?;
        build
            .phases
            .run("install", "make install into the staging area", || {
                // The port's Makefile installs into `$(PREFIX)/bin` (older ones ignore DESTDIR).
                let mut install = Command::new("make");
                install
                    .current_dir(build.sources[0].join("ports/unix"))
                    .arg("install")
                    .args(&self.options.user.make_install)
                    .arg(format!("PREFIX={}", staged_prefix.display()));
                runner.check(&mut install).map_err(failed)?;
                let python = staged_prefix.join("bin/python");
                if std::fs::symlink_metadata(&python).is_err() {
                    std::os::unix::fs::symlink("micropython", &python)
                        .io_context("link", &python)?;
                }
                let lib = staged_prefix.join(LIB);
                std::fs::create_dir_all(&lib).io_context("create", &lib)?;
                super::settle::settle(self.name(), &staged_prefix, &self.prefix)
            })
    }
    fn verify_detail(&self) -> String {
        format!("micropython -c '{PROBE}'")
    }
    fn verify(&self, build: &Build<'_>) -> Result<Vec<String>, StageError> {
        let name = self.name();
        let staged = Staged {
            python: build.staged_prefix().join("bin/micropython"),
            library_path: Vec::new(),
        };
        let output = staged
            .run(&build.runner, staged.command().args(["-c", PROBE]))
            .map_err(|e| verify_error(name, "the new interpreter failed verification", e))?;
        if !output.contains("micropython") {
            return Err(StageError::Verify {
                what: name.to_owned(),
                why: format!(
                    "the new interpreter does not say it is MicroPython: sys.implementation is {}",
                    output.trim()
                ),
                hint: None,
            });
        }
        Ok(Vec::new())
    }
    fn options(&self) -> Vec<String> {
        let mut options = vec![self.cflags_extra().to_string_lossy().into_owned()];
        // The compiler flags are the port's own (python-build gives it none of the user's).
        options.extend(self.options.user.recorded_make());
        options
    }
}

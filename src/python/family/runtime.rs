//! Pythons that run on another language's runtime: Jython, its installer jar run with a Java
//! runtime as python-build's `install_jar` and `build_package_jython` run it. (IronPython, a zip
//! run with mono, is excluded in the catalog: strap unpacks tar archives only.)

use std::fs;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::Command;

use super::FamilyPlan;
use crate::error::IoContext;
use crate::python::install::{verify_error, PythonOptions};
use crate::python::verify::Staged;
use crate::stage::{Artifact, Build, Source, StageError};
use crate::sysdeps::{PackageManager, Packages};

/// The packages that provide a Java runtime.
const JAVA: Packages = Packages {
    apt: "default-jre-headless",
    rpm: "java-latest-openjdk-headless",
    zypper: "java-21-openjdk-headless",
    pacman: "jre-openjdk-headless",
    apk: "openjdk21-jre-headless",
    brew: "openjdk",
};

/// One install.
pub struct OnRuntime<'a> {
    plan: &'a FamilyPlan,
    prefix: PathBuf,
    sources: Vec<Source>,
}

impl<'a> OnRuntime<'a> {
    /// The install of `plan` into `prefix`.
    pub fn new(plan: &'a FamilyPlan, prefix: PathBuf, options: &'a PythonOptions) -> OnRuntime<'a> {
        OnRuntime {
            plan,
            prefix,
            sources: vec![super::source(plan, &options.mirrors)],
        }
    }

    /// The Java runtime the installer runs with, or why it cannot be installed.
    fn java(&self) -> Result<PathBuf, StageError> {
        let download = &self.plan.download.file;
        if !download.ends_with(".jar") {
            return Err(self.refused(format!(
                "its download ({download}) is not Jython's installer jar, the only form of \
                 Jython strap installs"
            )));
        }
        find_java()
            .ok_or_else(|| missing("a Java runtime (java on PATH or $JAVA_HOME/bin/java)", JAVA))
    }

    fn refused(&self, why: String) -> StageError {
        StageError::Verify {
            what: format!("{} cannot be installed", self.plan.definition.name),
            why,
            hint: None,
        }
    }

    /// python-build's `install_jar` and `build_package_jython`: the installer in silent mode
    /// into the staged prefix, `python` → `jython`, the scripts' shebangs fixed.
    fn install_jython(&self, build: &Build<'_>, java: &Path) -> Result<(), StageError> {
        let name = self.name();
        let staged_prefix = build.staged_prefix();
        let jar = build.sources[0].join(&self.plan.download.file);
        // python-build's `unrequire_python27`: with a `python2.7` that fails first on PATH,
        // the installer writes a shell launcher instead of a Python one.
        let shadow = build.scratch.join("bin");
        let python27 = shadow.join("python2.7");
        fs::create_dir_all(&shadow).io_context("create", &shadow)?;
        fs::write(&python27, "#!/bin/sh\nexit 1\n").io_context("write", &python27)?;
        set_executable(&python27)?;
        let path = std::env::var_os("PATH").unwrap_or_default();
        let path =
            std::env::join_paths(std::iter::once(shadow).chain(std::env::split_paths(&path)))
                .unwrap_or(path);
        let mut installer = Command::new(java);
        installer
            .env("PATH", path)
            .arg("-jar")
            .arg(&jar)
            .arg("-s")
            .arg("-d")
            .arg(&staged_prefix);
        build
            .runner
            .check(&mut installer)
            .map_err(|e| StageError::build(name, e))?;
        let bin = staged_prefix.join("bin");
        let python = bin.join("python");
        if bin.join("jython").exists() && fs::symlink_metadata(&python).is_err() {
            std::os::unix::fs::symlink("jython", &python).io_context("link", &python)?;
        }
        fix_jython_shebangs(&bin, &self.prefix.join("bin/jython"))?;
        super::settle::settle(name, &staged_prefix, &self.prefix)
    }
}

/// `$JAVA_HOME/bin/java` when it is there, else `java` on PATH.
fn find_java() -> Option<PathBuf> {
    std::env::var_os("JAVA_HOME")
        .filter(|home| !home.is_empty())
        .map(|home| PathBuf::from(home).join("bin/java"))
        .filter(|java| java.is_file())
        .or_else(|| crate::which::find_on_path("java"))
}

/// A missing runtime, with the package that provides it here.
fn missing(what: &str, packages: Packages) -> StageError {
    StageError::Preflight {
        missing: what.to_owned(),
        fix: PackageManager::detect().map(|m| m.install_hint(&[packages.name(m)])),
    }
}

fn set_executable(path: &Path) -> Result<(), StageError> {
    use std::os::unix::fs::PermissionsExt;
    Ok(fs::set_permissions(path, fs::Permissions::from_mode(0o755)).io_context("chmod", path)?)
}

/// python-build's `fix_jython_shebangs`: a script of `bin` started by some `…/bin/jython`
/// (the directory it was installed into) is started by `jython` (in the final prefix); one
/// started by `…/bin/python2.7` by `/usr/bin/env python`.
fn fix_jython_shebangs(bin: &Path, jython: &Path) -> Result<(), StageError> {
    let Ok(entries) = fs::read_dir(bin) else {
        return Ok(());
    };
    for path in entries.filter_map(Result::ok).map(|e| e.path()) {
        if !fs::symlink_metadata(&path).is_ok_and(|m| m.is_file()) {
            continue;
        }
        let first = first_line(&path).io_context("read", &path)?;
        let line = String::from_utf8_lossy(&first);
        let shebang = match line.strip_prefix("#!") {
            Some(rest) if rest.ends_with("/bin/jython") => format!("#!{}", jython.display()),
            Some(rest) if rest.contains("/bin/python2.7") => "#!/usr/bin/env python".to_owned(),
            _ => continue,
        };
        let text = fs::read(&path).io_context("read", &path)?;
        let body = &text[first.len()..];
        let mut fixed = shebang.into_bytes();
        fixed.extend_from_slice(body);
        fs::write(&path, fixed).io_context("write", &path)?;
    }
    Ok(())
}

/// The first line of `path` (without its newline), at most a page of it.
fn first_line(path: &Path) -> std::io::Result<Vec<u8>> {
    let mut line = Vec::new();
    BufReader::new(fs::File::open(path)?.take(4096)).read_until(b'\n', &mut line)?;
    if line.last() == Some(&b'\n') {
        line.pop();
    }
    Ok(line)
}

impl Artifact for OnRuntime<'_> {
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
        self.java().map(|_| Vec::new())
    }
    fn preflight_detail(&self) -> Option<&'static str> {
        Some("a Java runtime")
    }
    fn sources(&self) -> &[Source] {
        &self.sources
    }
    fn build(&self, build: &Build<'_>) -> Result<(), StageError> {
        let java = self.java()?;
        build.phases.run(
            "install",
            &format!(
                "{} -jar {} -s (silent)",
                java.display(),
                self.plan.download.file
            ),
            || self.install_jython(build, &java),
        )
    }
    fn verify_detail(&self) -> String {
        "jython -c pass".to_owned()
    }
    fn verify(&self, build: &Build<'_>) -> Result<Vec<String>, StageError> {
        let name = self.name();
        let staged = Staged {
            python: build.staged_prefix().join("bin/jython"),
            library_path: Vec::new(),
        };
        staged
            .run(&build.runner, staged.command().args(["-c", "pass"]))
            .map_err(|e| verify_error(name, "the new interpreter failed verification", e))?;
        Ok(Vec::new())
    }
    fn options(&self) -> Vec<String> {
        Vec::new()
    }
}

//! A python-build-standalone build as an artifact of the staged-install pipeline: its archive
//! (fetched through the prebuilt mirrors, checked by its sha256, unpacked safely), laid out
//! from either layout (`python/` of `install_only`, `python/install/` of the `-full` archives),
//! moved from PBS's `/install` prefix to its own, its sysconfig made to name this machine's
//! compilers, then verified as a source build is (required modules, pip) and beyond: the
//! compiler sysconfig names builds a C extension that imports.

use std::fs;
use std::path::{Path, PathBuf};

use super::sysconfig::{self, Compilers};
use super::Build as PbsBuild;
use crate::error::IoContext;
use crate::fetch::Wanted;
use crate::layout::Layout;
use crate::python::build::link_unsuffixed;
use crate::python::install::{check_modules, verify_error, PythonOptions};
use crate::python::plan::Plan;
use crate::python::verify::{self, Staged};
use crate::stage::{Artifact, Build, Source, StageError};

/// The prefix PBS builds are made for.
pub const PBS_PREFIX: &str = "/install";

/// The top directory of PBS's archives.
const PBS_TOP: &str = "python";

/// What the archive unpacked to `tree` has at its top, for an error: a directory with an
/// installed tree (`bin/`) is its single top directory, else `tree` is where the archive
/// was unpacked (no single top directory) and its first entries are named.
fn top_of(tree: &Path) -> String {
    let name = tree.file_name().unwrap_or_default().to_string_lossy();
    if tree.join("bin").is_dir() || tree.join("install/bin").is_dir() {
        return format!(
            "its top directory is {}/",
            crate::error::printable_name(&name)
        );
    }
    let mut names = crate::stage::entry_names(tree);
    const SHOWN: usize = 5;
    let more = names.len().saturating_sub(SHOWN);
    names.truncate(SHOWN);
    let mut listed = crate::error::printable_name(&names.join(", ")).into_owned();
    if more > 0 {
        listed.push_str(&format!(" and {more} more"));
    }
    format!("it holds {listed}")
}

/// What the receipt's details say the source of a prebuilt install is.
pub const SOURCE: &str = "prebuilt";

/// True when the install at `prefix` is a prebuilt one, by its receipt.
pub fn is_prebuilt(prefix: &Path) -> bool {
    crate::identity::Receipt::read(prefix)
        .ok()
        .flatten()
        .is_some_and(|r| r.details.get("source").and_then(|s| s.as_str()) == Some(SOURCE))
}

/// One prebuilt CPython install.
pub struct PbsInstall<'a> {
    build: PbsBuild,
    /// The install's name (`3.12.7`, `3.13.1t`, `3.12.7-debug`).
    name: String,
    title: String,
    prefix: PathBuf,
    sources: Vec<Source>,
    options: &'a PythonOptions,
}

impl<'a> PbsInstall<'a> {
    /// The install of `build` for `plan` (requested as `request`) under `layout`, fetched
    /// from each of `mirrors` (templates with `{build}`, `{file}`), then from where PBS
    /// publishes it.
    pub fn new(
        layout: &Layout,
        plan: &Plan,
        request: &str,
        build: &PbsBuild,
        mirrors: &[String],
        options: &'a PythonOptions,
    ) -> PbsInstall<'a> {
        let mut urls: Vec<String> = mirrors.iter().map(|m| build.url_on(m)).collect();
        if !urls.contains(&build.url) {
            urls.push(build.url.clone());
        }
        let mut title = format!(
            "CPython {} (prebuilt, python-build-standalone {}, {}, {})",
            plan.name,
            build.build,
            build.platform(),
            build.flavor()
        );
        if request != plan.name {
            title.push_str(&format!(" for {request}"));
        }
        PbsInstall {
            name: plan.name.clone(),
            title,
            prefix: layout.version_dir(&plan.name),
            sources: vec![Source {
                candidates: vec![Wanted {
                    file: build.file.clone(),
                    sha256: build.sha256.clone(),
                    size: None,
                    archives: Some(crate::fetch::mirror::Archives::Prebuilt),
                    urls,
                }],
            }],
            build: build.clone(),
            options,
        }
    }

    /// Moves the unpacked tree (either layout) into the staged prefix, moves it from
    /// `/install` to the prefix, and adds the unsuffixed names. `tree` is what unpacking
    /// returned: the archive's single top directory, which must be `python/`.
    fn lay_out(&self, tree: &Path, staged: &Path) -> Result<(), StageError> {
        if tree.file_name() != Some(PBS_TOP.as_ref()) {
            return Err(self.failed(format!(
                "{} is not laid out as python-build-standalone's archives are (one {PBS_TOP}/ \
                 directory at the top): {}",
                self.build.file,
                top_of(tree)
            )));
        }
        let full = tree.join("install");
        let root = if full.join("bin").is_dir() {
            full
        } else {
            tree.to_owned()
        };
        if !root.join("bin").is_dir() {
            return Err(self.failed(format!(
                "the archive is not laid out as python-build-standalone's: no python/bin/ nor \
                 python/install/bin/ in {}",
                self.build.file
            )));
        }
        if let Some(parent) = staged.parent() {
            fs::create_dir_all(parent).io_context("create", parent)?;
        }
        fs::rename(&root, staged).io_context("move into the staging area", &root)?;
        let prefix = self.prefix.display().to_string();
        crate::relocate::relocate_whole_path(staged, PBS_PREFIX, &prefix).map_err(|e| match e {
            crate::relocate::RelocateError::Io(io) => io.into(),
            e => self.failed(e.to_string()),
        })?;
        let bin = staged.join("bin");
        link_unsuffixed(&bin).io_context("link", &bin)?;
        crate::python::family::check_links(staged)
    }

    fn interpreter(&self, staged: &Path) -> Result<Staged, StageError> {
        Staged::find(staged, Vec::new()).ok_or_else(|| {
            self.failed(format!(
                "the archive holds no bin/python3 ({})",
                self.build.file
            ))
        })
    }

    fn failed(&self, why: String) -> StageError {
        StageError::Verify {
            what: self.name.clone(),
            why,
            hint: None,
        }
    }

    /// `sysconfig.get_config_var("CC")` compiles a generated C extension, its `LDSHARED` links
    /// it, and it imports; the interpreter is the build its catalog line says (its version,
    /// free-threaded or not, debug or not: its install name).
    fn check_c_extension(
        &self,
        runner: &crate::process::Runner,
        python: &Staged,
        staged: &Path,
        scratch: &Path,
    ) -> Result<String, StageError> {
        let dir = scratch.join("c-extension");
        fs::create_dir_all(&dir).io_context("create", &dir)?;
        fs::write(dir.join("strap_check.c"), C_EXTENSION).io_context("write", &dir)?;
        let output = python
            .run(
                runner,
                python
                    .command()
                    .args(["-c", BUILD_EXTENSION])
                    .arg(&dir)
                    .arg(self.build.install_name())
                    .arg(&self.prefix)
                    .arg(staged),
            )
            .map_err(|e| match e {
                verify::VerifyError::Broken { stderr, .. } => self.extension_failed(&stderr),
                e => verify_error(&self.name, "the C extension check does not run", e),
            })?;
        if !output.lines().any(|l| l == "strap-cext: ok") {
            return Err(self.failed(format!(
                "the C extension check did not finish: {}",
                last_lines(&output)
            )));
        }
        Ok(format!(
            "{} builds a C extension that imports",
            compiler_of(&output).unwrap_or("?")
        ))
    }

    /// Why the C extension check failed, from its output: the interpreter is another build
    /// than the catalog says, or the compiler failed (the end of its output).
    fn extension_failed(&self, output: &str) -> StageError {
        if let Some(line) = output.lines().find(|l| l.starts_with(OTHER_VERSION)) {
            return self.failed(format!(
                "{line}: the archive is not the build its catalog line names ({})",
                self.build.file
            ));
        }
        let compiler = compiler_of(output)
            .map(|cc| format!(" ({cc})"))
            .unwrap_or_default();
        self.failed(format!(
            "the compiler its sysconfig names{compiler} does not build a C extension that \
             imports: {}",
            last_lines(output)
        ))
    }
}

/// How the check says the interpreter is another build than the one it must be.
const OTHER_VERSION: &str = "it is Python ";

/// The compiler the C extension check ran, from its output.
fn compiler_of(output: &str) -> Option<&str> {
    output.lines().find_map(|l| l.strip_prefix("strap-cc: "))
}

/// The last lines of a check's `output` for a message, saying how many were left out (the
/// log has them all).
fn last_lines(output: &str) -> String {
    const SHOWN: usize = 20;
    let lines: Vec<&str> = output.trim().lines().collect();
    let left_out = lines.len().saturating_sub(SHOWN);
    let shown = lines[left_out..].join("\n");
    if left_out == 0 {
        shown
    } else {
        format!("({left_out} earlier lines left out; the log has them all)\n{shown}")
    }
}

/// The C extension the check builds.
const C_EXTENSION: &str = r#"#include <Python.h>
static PyObject *answer(PyObject *self, PyObject *args) { return PyLong_FromLong(42); }
static PyMethodDef methods[] = {{"answer", answer, METH_NOARGS, NULL}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "strap_check", NULL, -1, methods};
PyMODINIT_FUNC PyInit_strap_check(void) { return PyModule_Create(&module); }
"#;

/// Builds `strap_check.c` in `argv[1]` as setuptools does (sysconfig's `CC`, `CFLAGS`,
/// `CCSHARED`, `INCLUDEPY`, then `LDSHARED`) and imports it; `argv[2]` is the build it must
/// be, named as it installs (`3.13.1t-debug`: `t` when `Py_GIL_DISABLED`, `-debug` with
/// `sys.gettotalrefcount`). It runs staged: paths under the prefix (`argv[3]`) are read under the staged copy
/// (`argv[4]`).
const BUILD_EXTENSION: &str = "import importlib, os, platform, shlex, subprocess, sys, sysconfig\n\
d, want, prefix, staged = sys.argv[1:5]\n\
have = platform.python_version() + ('t' if sysconfig.get_config_var('Py_GIL_DISABLED') else '') + ('-debug' if hasattr(sys, 'gettotalrefcount') else '')\n\
if have != want:\n    sys.exit('it is Python %s, not %s' % (have, want))\n\
v = lambda k: (sysconfig.get_config_var(k) or '').replace(prefix, staged)\n\
print('strap-cc: ' + v('CC'), flush=True)\n\
src, obj = os.path.join(d, 'strap_check.c'), os.path.join(d, 'strap_check.o')\n\
so = os.path.join(d, 'strap_check' + v('EXT_SUFFIX'))\n\
for cmd in (shlex.split(v('CC')) + shlex.split(v('CFLAGS')) + shlex.split(v('CCSHARED')) + ['-I' + v('INCLUDEPY'), '-c', src, '-o', obj], shlex.split(v('LDSHARED')) + [obj, '-o', so]):\n    print('strap-run: ' + ' '.join(cmd), flush=True)\n    subprocess.check_call(cmd, stdout=sys.stderr)\n\
sys.path.insert(0, d)\n\
if importlib.import_module('strap_check').answer() != 42:\n    sys.exit('strap_check.answer() is not 42')\n\
print('strap-cext: ok')\n";

impl Artifact for PbsInstall<'_> {
    fn kind(&self) -> &'static str {
        crate::python::KIND
    }
    fn name(&self) -> &str {
        &self.name
    }
    fn title(&self) -> String {
        self.title.clone()
    }
    fn prefix(&self) -> &Path {
        &self.prefix
    }
    /// The C compiler verification builds a C extension with (the one [`Compilers::here`]
    /// names) is there: without it the download would be for nothing.
    fn preflight(&self) -> Result<Vec<String>, StageError> {
        crate::python::preflight::check_c_compiler().into_result()
    }
    fn preflight_detail(&self) -> Option<&'static str> {
        Some("a C compiler, for the C extension check")
    }
    fn sources(&self) -> &[Source] {
        &self.sources
    }
    fn build(&self, build: &Build<'_>) -> Result<(), StageError> {
        let staged = build.staged_prefix();
        let detail = format!(
            "python/ or python/install/ into place, {PBS_PREFIX} → {}",
            self.prefix.display()
        );
        build.phases.run("install", &detail, || {
            self.lay_out(&build.sources[0], &staged)
        })?;
        let compilers = Compilers::here();
        let detail = format!(
            "CC, CXX, LDSHARED name {} and {} (not its clang)",
            compilers.c, compilers.cxx
        );
        build.phases.run("sysconfig", &detail, || {
            let python = self.interpreter(&staged)?;
            let changes = sysconfig::rewrite(&build.runner, &python, &staged, &compilers)
                .map_err(|why| sysconfig::failed(&self.name, why))?;
            for change in changes {
                build.runner.log().note(&format!("# sysconfig: {change}"));
            }
            Ok(())
        })
    }
    fn verify_detail(&self) -> String {
        let pip = if self.options.with_pip { ", pip" } else { "" };
        format!(
            "required and optional modules{pip}, a C extension built with sysconfig's CC (at once)"
        )
    }
    /// The module probe, pip and the C extension build run at once.
    fn verify(&self, build: &Build<'_>) -> Result<Vec<String>, StageError> {
        let python = self.interpreter(&build.staged_prefix())?;
        let runner = &build.runner;
        let (modules, pip, extension) = std::thread::scope(|scope| {
            let modules =
                scope.spawn(|| check_modules(runner, &python, &self.name, self.options, false));
            let pip = scope.spawn(|| {
                if !self.options.with_pip {
                    return Ok(Vec::new());
                }
                verify::check_pip(runner, &python)
                    .map(|()| Vec::new())
                    .map_err(|e| verify_error(&self.name, "pip does not work", e))
            });
            let staged = build.staged_prefix();
            let extension = self.check_c_extension(runner, &python, &staged, &build.scratch);
            let joined = |h: std::thread::ScopedJoinHandle<'_, _>| {
                h.join()
                    .unwrap_or_else(|_| Err(self.failed("a check panicked".to_owned())))
            };
            (joined(modules), joined(pip), extension)
        });
        let mut notes = modules?;
        pip?;
        let extension = extension?;
        runner.log().note(&format!("# verify: {extension}"));
        notes.insert(0, format!("{}: {extension}", self.name));
        Ok(notes)
    }
    /// Where it came from (a prebuilt is never served as the source build, nor the reverse),
    /// and the choices that change what is installed.
    fn options(&self) -> Vec<String> {
        let mut options = vec![
            format!("{SOURCE}=python-build-standalone"),
            format!("build={}", self.build.build),
            format!("platform={}", self.build.platform()),
        ];
        options.extend(self.options.recorded_choices());
        options
    }
    fn details(&self) -> serde_json::Value {
        serde_json::json!({
            "source": SOURCE,
            "provider": "python-build-standalone",
            "build": self.build.build,
            "platform": self.build.platform(),
            "flavor": self.build.flavor(),
            "url": self.build.url,
            "sha256": self.build.sha256,
        })
    }
}

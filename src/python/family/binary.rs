//! Binary families (PyPy, GraalPy, GraalPython, Pyston, ActivePython): the archive for this
//! machine, already fetched and unpacked by the pipeline, laid out as python-build lays it
//! (`build_package_pypy`, `_copy`, `_graalpython`, `_pyston2_2`, `_activepython`), given pip
//! by its own `ensurepip` where it has none, then verified by running it.

use std::fs;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;

use super::{settle, Family, FamilyPlan};
use crate::error::IoContext;
use crate::process::RunError;
use crate::python::build::link_unsuffixed;
use crate::python::install::{verify_error, PythonOptions};
use crate::python::verify::{self, Staged};
use crate::stage::{Artifact, Build, Source, StageError};

/// One binary install.
pub struct Binary<'a> {
    plan: &'a FamilyPlan,
    prefix: PathBuf,
    sources: Vec<Source>,
    options: &'a PythonOptions,
}

impl<'a> Binary<'a> {
    /// The install of `plan` into `prefix`.
    pub fn new(plan: &'a FamilyPlan, prefix: PathBuf, options: &'a PythonOptions) -> Binary<'a> {
        Binary {
            plan,
            prefix,
            sources: vec![super::source(plan, &options.mirrors)],
            options,
        }
    }

    fn family(&self) -> Family {
        self.plan.definition.family
    }

    /// True when the family's Python is 3, by the definition's `py=` (the binary definitions
    /// without one, GraalPy's and GraalPython's, are all Python 3).
    fn is_python3(&self) -> bool {
        self.plan.major_minor().is_none_or(|(major, _)| major == 3)
    }

    /// The unpacked tree moved (or installed) into the staged prefix, with the links
    /// python-build makes, then `python3` and the unsuffixed names where they are missing.
    fn lay_out(&self, build: &Build<'_>, staged: &Path) -> Result<(), StageError> {
        let tree = &build.sources[0];
        if let Some(parent) = staged.parent() {
            fs::create_dir_all(parent).io_context("create", parent)?;
        }
        match layout(self.family()) {
            Layout::Installer => {
                build
                    .runner
                    .check(
                        Command::new("bash")
                            .arg("install.sh")
                            .arg("--install-dir")
                            .arg(staged)
                            .current_dir(tree),
                    )
                    .map_err(|e| StageError::build(self.name(), e))?;
                settle::settle(self.name(), staged, &self.prefix)?;
            }
            Layout::Tree(layout) => {
                fs::rename(tree, staged).io_context("move into the staging area", tree)?;
                layout.link(staged)?;
            }
        }
        let bin = staged.join("bin");
        link_unsuffixed(&bin).io_context("link", &bin)?;
        let python3 = bin.join("python3");
        if self.is_python3() && absent(&python3) && !absent(&bin.join("python")) {
            symlink("python", &python3).io_context("link", &python3)?;
        }
        settle::check_links(staged)
    }

    /// Installs pip with the interpreter's own `ensurepip` when it has no pip (as python-build
    /// does for PyPy and GraalPy), and links `pip` to `pip3` when only that exists: an
    /// interpreter without `ensurepip` is left without pip, as verification notes; one whose
    /// `ensurepip` fails is not installed.
    fn ensure_pip(&self, build: &Build<'_>, staged: &Path) -> Result<(), StageError> {
        let python = self.interpreter(staged)?;
        let found = verify::import_each(&build.runner, &python, &["pip", "ensurepip"])
            .map_err(|e| verify_error(self.name(), "the new interpreter does not run", e))?;
        if found.get("pip") == Some(&None) || found.get("ensurepip") != Some(&None) {
            return Ok(());
        }
        build
            .runner
            .check(
                python
                    .command()
                    .args(["-s", "-m", "ensurepip", "--default-pip"]),
            )
            .map_err(|e| match e {
                RunError::Interrupted => StageError::Interrupted,
                e => StageError::Verify {
                    what: self.name().to_owned(),
                    why: format!("its ensurepip did not install pip: {e}"),
                    hint: Some("install it without pip with --no-pip".to_owned()),
                },
            })?;
        let bin = staged.join("bin");
        link_unsuffixed(&bin).io_context("link", &bin)?;
        self.unstage(staged)
    }

    /// Rewrites what a command run in the staging area wrote naming the staged prefix (pip's
    /// script shebangs, an installer's files) to the final prefix.
    fn unstage(&self, staged: &Path) -> Result<(), StageError> {
        settle::unstage(self.name(), staged, &self.prefix)
    }

    /// The staged interpreter (`bin/python3`, else `bin/python`), run without a library path:
    /// it must find its libraries as it will through the shims.
    fn interpreter(&self, staged: &Path) -> Result<Staged, StageError> {
        Staged::find(staged, Vec::new()).ok_or_else(|| StageError::Verify {
            what: self.name().to_owned(),
            why: format!(
                "the archive holds no interpreter python-build would install: no bin/python3 \
                 or bin/python under {} ({})",
                staged.display(),
                layout(self.family()).describe()
            ),
            hint: None,
        })
    }

    /// What the interpreter says it is; fails when it does not run, or implements another
    /// Python than its definition's `py=`.
    fn identify(&self, build: &Build<'_>, python: &Staged) -> Result<String, StageError> {
        const IDENTIFY: &str = "import platform, sys\n\
impl = getattr(sys, 'implementation', None)\n\
name = impl.name if impl else platform.python_implementation().lower()\n\
print('strap-identity: %s %d.%d %s' % (name, sys.version_info[0], sys.version_info[1], ' '.join(sys.version.split())))\n";
        let name = self.name();
        let output = python
            .run(&build.runner, python.command().args(["-c", IDENTIFY]))
            .map_err(|e| verify_error(name, "the new interpreter does not run", e))?;
        let identity = output
            .lines()
            .find_map(|l| l.strip_prefix("strap-identity: "))
            .and_then(|l| l.split_once(' '))
            .and_then(|(implementation, rest)| {
                let (python, version) = rest.split_once(' ')?;
                Some((implementation, python, version))
            });
        let Some((implementation, reported, version)) = identity else {
            return Err(StageError::Verify {
                what: name.to_owned(),
                why: format!(
                    "{} did not say which Python it is: {}",
                    python.python.display(),
                    output.trim()
                ),
                hint: None,
            });
        };
        match &self.plan.definition.python {
            Some(wanted) if wanted != reported => Err(StageError::Verify {
                what: name.to_owned(),
                why: format!(
                    "it implements Python {reported} ({version}), not the Python {wanted} its \
                     definition names; it was not installed"
                ),
                hint: Some("check the catalog line's py= and download".to_owned()),
            }),
            _ => Ok(format!("{name} runs: {implementation}, Python {version}")),
        }
    }

    /// Imports the family's modules: a required one that fails (unless `--allow-missing`
    /// accepts it) fails verification; the others are notes.
    fn check_modules(&self, build: &Build<'_>, python: &Staged) -> Result<Vec<String>, StageError> {
        let name = self.name();
        let (required, optional) = modules(self.family());
        let all: Vec<&str> = required.iter().chain(optional).copied().collect();
        let found = verify::import_each(&build.runner, python, &all)
            .map_err(|e| verify_error(name, "the new interpreter failed verification", e))?;
        let failed = |module: &str| found.get(module).cloned().unwrap_or(Some(String::new()));
        let missing: Vec<String> = required
            .iter()
            .filter(|m| !self.options.allow_missing.iter().any(|a| a == *m))
            .filter_map(|m| failed(m).map(|why| format!("{m} ({why})")))
            .collect();
        if !missing.is_empty() {
            return Err(StageError::Verify {
                what: name.to_owned(),
                why: format!(
                    "it cannot import {}; it was not installed (log: {})",
                    missing.join(", "),
                    build.runner.log().path().display()
                ),
                hint: Some(
                    "install the system libraries it needs and retry, or accept the gap with \
                     --allow-missing MODULE"
                        .to_owned(),
                ),
            });
        }
        Ok(all
            .iter()
            .filter_map(|m| failed(m).map(|why| format!("{name} cannot import {m}: {why}")))
            .collect())
    }

    /// pip works, or the interpreter has no `ensurepip` to install it with (a note).
    fn check_pip(&self, build: &Build<'_>, python: &Staged) -> Result<Vec<String>, StageError> {
        let name = self.name();
        let Err(broken) = verify::check_pip(&build.runner, python) else {
            return Ok(Vec::new());
        };
        let found = verify::import_each(&build.runner, python, &["ensurepip"])
            .map_err(|e| verify_error(name, "the new interpreter failed verification", e))?;
        match found.get("ensurepip") {
            Some(Some(_)) => Ok(vec![format!(
                "{name} has no pip and no ensurepip to install it with (python-build would \
                 download get-pip.py; strap does not): install pip into it yourself, or \
                 install with --no-pip to say so"
            )]),
            _ => Err(verify_error(name, "pip does not work", broken)),
        }
    }
}

impl Artifact for Binary<'_> {
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
    /// Nothing to check (the default preflight): a binary archive needs no compiler, and
    /// verification runs it.
    fn preflight_detail(&self) -> Option<&'static str> {
        None
    }
    fn sources(&self) -> &[Source] {
        &self.sources
    }
    fn build(&self, build: &Build<'_>) -> Result<(), StageError> {
        let staged = build.staged_prefix();
        let detail = layout(self.family()).describe();
        build
            .phases
            .run("install", &detail, || self.lay_out(build, &staged))?;
        if self.options.with_pip {
            build
                .phases
                .run("pip", "its own ensurepip, where it has no pip", || {
                    self.ensure_pip(build, &staged)
                })?;
        }
        Ok(())
    }
    fn verify_detail(&self) -> String {
        let (required, optional) = modules(self.family());
        let mut checks = vec!["runs, its Python version".to_owned()];
        if !required.is_empty() {
            checks.push(format!("imports {}", required.join(", ")));
        }
        if !optional.is_empty() {
            checks.push(format!("notes whether it imports {}", optional.join(", ")));
        }
        if self.options.with_pip {
            checks.push("pip".to_owned());
        }
        checks.join("; ")
    }
    fn verify(&self, build: &Build<'_>) -> Result<Vec<String>, StageError> {
        let python = self.interpreter(&build.staged_prefix())?;
        let identity = self.identify(build, &python)?;
        build.runner.log().note(&format!("# verify: {identity}"));
        let mut notes = vec![identity];
        notes.extend(self.check_modules(build, &python)?);
        if self.options.with_pip {
            notes.extend(self.check_pip(build, &python)?);
        }
        Ok(notes)
    }
    /// The family (the download's sha256 is in the key as the source's), and the choices
    /// that change what is installed.
    fn options(&self) -> Vec<String> {
        let mut options = vec![format!("family={}", self.family())];
        options.extend(self.options.recorded_choices());
        options
    }
}

/// The modules a family must import (`ssl`, `sqlite3`, `ctypes`: python-build's checks and
/// what pip and venvs need), and those it may lack by design (GraalPy's are partial).
fn modules(family: Family) -> (&'static [&'static str], &'static [&'static str]) {
    const ALL: &[&str] = &["ssl", "sqlite3", "ctypes"];
    match family {
        Family::GraalPy | Family::GraalPython => (&[], ALL),
        _ => (ALL, &[]),
    }
}

/// How python-build lays out a family's unpacked archive.
enum Layout {
    /// ActivePython: the archive's `install.sh --install-dir PREFIX` lays it out.
    Installer,
    /// The tree is the prefix, with links.
    Tree(TreeLayout),
}

/// The links python-build adds to a family's tree.
struct TreeLayout {
    /// `bin/python` links to the executable `bin/<interpreter>*` that is no link (`None`: the
    /// tree is taken as it is).
    interpreter: Option<&'static str>,
    /// Even where the tree has a `bin/python` (python-build's `ln -fs`).
    replace: bool,
    /// PyPy: `lib/<name>` links to each `bin/libpypy*`, so `lib/` holds the shared library.
    lib_links: Option<&'static str>,
}

fn layout(family: Family) -> Layout {
    let tree = |interpreter, replace, lib_links| {
        Layout::Tree(TreeLayout {
            interpreter,
            replace,
            lib_links,
        })
    };
    match family {
        Family::ActivePython => Layout::Installer,
        Family::PyPy => tree(Some("pypy"), true, Some("libpypy")),
        Family::GraalPython => tree(Some("graalpython"), true, None),
        // Pyston 2.2 and 2.3 have no bin/python (python-build links it); later ones do.
        Family::Pyston => tree(Some("pyston"), false, None),
        _ => tree(None, false, None),
    }
}

impl Layout {
    /// The phase's detail: what is done to the archive.
    fn describe(&self) -> String {
        match self {
            Layout::Installer => "the archive's install.sh --install-dir".to_owned(),
            Layout::Tree(tree) => {
                let mut parts = vec!["the archive's tree".to_owned()];
                if let Some(exe) = tree.interpreter {
                    parts.push(format!("bin/python → bin/{exe}*"));
                }
                if let Some(lib) = tree.lib_links {
                    parts.push(format!("lib/{lib}* → bin/{lib}*"));
                }
                parts.join(", ")
            }
        }
    }
}

impl TreeLayout {
    /// Adds the links to the tree at `prefix` (relative: the prefix is renamed).
    fn link(&self, prefix: &Path) -> Result<(), StageError> {
        let bin = prefix.join("bin");
        for name in executables(&bin)? {
            if self.lib_links.is_some_and(|lib| name.starts_with(lib)) {
                let lib = prefix.join("lib");
                fs::create_dir_all(&lib).io_context("create", &lib)?;
                replace_link(&format!("../bin/{name}"), &lib.join(&name))?;
            } else if self.interpreter.is_some_and(|exe| name.starts_with(exe)) {
                let python = bin.join("python");
                if self.replace || absent(&python) {
                    replace_link(&name, &python)?;
                }
            }
        }
        Ok(())
    }
}

/// The names in `bin` of executable regular files that are no links, sorted (python-build's
/// `bin/*` glob order).
fn executables(bin: &Path) -> Result<Vec<String>, StageError> {
    let Ok(entries) = fs::read_dir(bin) else {
        return Ok(Vec::new());
    };
    let mut names = Vec::new();
    for entry in entries {
        let entry = entry.io_context("read", bin)?;
        let meta = fs::symlink_metadata(entry.path()).io_context("inspect", entry.path())?;
        if meta.is_file() && meta.permissions().mode() & 0o111 != 0 {
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    names.sort();
    Ok(names)
}

/// True when nothing (not even a dangling link) is at `path`.
fn absent(path: &Path) -> bool {
    fs::symlink_metadata(path).is_err()
}

/// Makes `link` a link to `target`, replacing a file or link there.
fn replace_link(target: &str, link: &Path) -> Result<(), StageError> {
    if let Ok(meta) = fs::symlink_metadata(link) {
        if meta.is_dir() {
            return Err(StageError::Verify {
                what: link.display().to_string(),
                why: format!("a directory is where python-build links {target}"),
                hint: None,
            });
        }
        fs::remove_file(link).io_context("replace", link)?;
    }
    Ok(symlink(target, link).io_context("link", link)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::python::family::settle::tests::write;

    #[test]
    fn pypy_gets_python_build_s_links_replacing_a_python_it_had() {
        let dir = tempfile::tempdir().unwrap();
        let prefix = dir.path();
        write(&prefix.join("bin/pypy3.10"), 0o755);
        write(&prefix.join("bin/libpypy3.10-c.so"), 0o755);
        write(&prefix.join("bin/pypy-notes.txt"), 0o644);
        write(&prefix.join("bin/python"), 0o755);
        symlink("pypy3.10", prefix.join("bin/pypy3")).unwrap();
        let Layout::Tree(tree) = layout(Family::PyPy) else {
            panic!("PyPy is a tree");
        };
        tree.link(prefix).unwrap();
        let link = |p: &str| fs::read_link(prefix.join(p)).unwrap();
        assert_eq!(link("bin/python"), Path::new("pypy3.10"));
        assert_eq!(
            link("lib/libpypy3.10-c.so"),
            Path::new("../bin/libpypy3.10-c.so")
        );
        assert_eq!(link("bin/pypy3"), Path::new("pypy3.10"));
    }

    #[test]
    fn pyston_keeps_a_python_it_has_and_gets_one_it_lacks() {
        let Layout::Tree(tree) = layout(Family::Pyston) else {
            panic!("Pyston is a tree");
        };
        let has = tempfile::tempdir().unwrap();
        write(&has.path().join("bin/pyston3.8"), 0o755);
        symlink("python3.8", has.path().join("bin/python")).unwrap();
        tree.link(has.path()).unwrap();
        assert_eq!(
            fs::read_link(has.path().join("bin/python")).unwrap(),
            Path::new("python3.8")
        );
        let lacks = tempfile::tempdir().unwrap();
        write(&lacks.path().join("bin/pyston"), 0o755);
        tree.link(lacks.path()).unwrap();
        assert_eq!(
            fs::read_link(lacks.path().join("bin/python")).unwrap(),
            Path::new("pyston")
        );
    }
}

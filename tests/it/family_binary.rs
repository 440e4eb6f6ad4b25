//! Binary families (PyPy, GraalPy, GraalPython): generated archives shaped as upstream's,
//! served by the loopback mirror through catalog lines of our own (`STRAP_PYTHON_CATALOG`),
//! installed by the real binary, laid out as python-build lays them, verified, run through the
//! shims and virtualenvs; and Debian's real PyPy assembled into PyPy's tarball layout.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;

use crate::fake_source::sha256_hex;
use crate::mirror::{Behavior, Mirror};
use crate::support::{stderr_of, stdout_of, tmp_entries, TestEnv};

/// A file of a generated archive: a regular file with its mode, or a symbolic link.
enum Entry<'a> {
    File(&'a str, String, u32),
    Link(&'a str, &'a str),
}

/// A `.tar.bz2` of `top/` holding `entries` (upstream's PyPy archives are bzip2).
fn tar_bz2(top: &str, entries: &[Entry<'_>]) -> Vec<u8> {
    let encoder = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
    let mut builder = tar::Builder::new(encoder);
    for entry in entries {
        let mut header = tar::Header::new_gnu();
        match entry {
            Entry::File(name, body, mode) => {
                header.set_size(body.len() as u64);
                header.set_mode(*mode);
                header.set_cksum();
                let path = format!("{top}/{name}");
                builder
                    .append_data(&mut header, path, body.as_bytes())
                    .unwrap();
            }
            Entry::Link(name, target) => {
                header.set_entry_type(tar::EntryType::Symlink);
                header.set_size(0);
                header.set_mode(0o777);
                builder
                    .append_link(&mut header, format!("{top}/{name}"), target)
                    .unwrap();
            }
        }
    }
    builder.into_inner().unwrap().finish().unwrap()
}

/// The system Python's `X.Y`: what the fake interpreters report, so their catalog lines say it
/// as `py=` (verification checks the interpreter implements the definition's Python).
fn host_python() -> String {
    let out = std::process::Command::new("/usr/bin/python3")
        .args(["-c", "import sys; print('%d.%d' % sys.version_info[:2])"])
        .output()
        .unwrap();
    stdout_of(&out).trim().to_owned()
}

/// An interpreter stand-in at `bin/<exe>`: the system Python without its own site-packages
/// (`-S`), seeing this tree's `lib/<site>/site-packages` instead, so what it imports besides
/// the standard library is what the archive holds.
fn interpreter(site: &str) -> String {
    format!(
        "#!/bin/sh\nhere=$(cd \"$(dirname \"$0\")/..\" && pwd)\n\
         PYTHONPATH=\"$here/lib/{site}/site-packages\" exec /usr/bin/python3 -S \"$@\"\n"
    )
}

/// A fake `ensurepip` (shadowing the system's): installs a `pip` package that answers
/// `pip 99.0 (fake)`, and `bin/pip3` with a shebang naming the interpreter's prefix, as pip
/// writes it (so the install must rewrite the staging prefix it was run in).
const ENSUREPIP: &str = r##"import os
site = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
prefix = os.path.dirname(os.path.dirname(os.path.dirname(site)))
os.makedirs(os.path.join(site, "pip"))
with open(os.path.join(site, "pip", "__init__.py"), "w") as f:
    f.write("def main():\n    print('pip 99.0 (fake)')\n")
with open(os.path.join(site, "pip", "__main__.py"), "w") as f:
    f.write("import pip\npip.main()\n")
script = os.path.join(prefix, "bin", "pip3")
with open(script, "w") as f:
    f.write("#!%s/bin/python\nimport pip\npip.main()\n" % prefix)
os.chmod(script, 0o755)
"##;

/// `pypy<py>-v<version>-<arch>/` as upstream lays it out: `bin/pypy<py>` (the interpreter),
/// `bin/pypy3` linking to it, `bin/libpypy<py>-c.so`, `lib/pypy<py>/` (with `ensurepip`).
pub(crate) fn fake_pypy(py: &str, version: &str, arch: &str) -> (String, Vec<u8>) {
    let top = format!("pypy{py}-v{version}-{arch}");
    let site = format!("pypy{py}");
    let exe = format!("bin/pypy{py}");
    let lib = format!("bin/libpypy{py}-c.so");
    let ensurepip = format!("lib/{site}/site-packages/ensurepip/__main__.py");
    let init = format!("lib/{site}/site-packages/ensurepip/__init__.py");
    let readme = format!("lib/{site}/README");
    let archive = tar_bz2(
        &top,
        &[
            Entry::File(&exe, interpreter(&site), 0o755),
            Entry::Link("bin/pypy3", &exe["bin/".len()..]),
            Entry::File(&lib, format!("not a library ({arch})\n"), 0o755),
            Entry::File(&init, String::new(), 0o644),
            Entry::File(&ensurepip, ENSUREPIP.to_owned(), 0o644),
            Entry::File(&readme, format!("PyPy {version} for {arch}\n"), 0o644),
        ],
    );
    (format!("{top}.tar.bz2"), archive)
}

/// A machine and a mirror serving archives under `/dl/`, with a catalog of our own.
struct Fixture {
    env: TestEnv,
    mirror: Mirror,
    catalog: PathBuf,
}

impl Fixture {
    fn new() -> Fixture {
        let env = TestEnv::new();
        let catalog = env.dir.path().join("catalog.txt");
        Fixture {
            env,
            mirror: Mirror::start(),
            catalog,
        }
    }

    /// Serves `archive` as `/dl/<file>`; its `ARCH=URL#SHA256` field.
    fn serve(&self, arch: &str, file: &str, archive: Vec<u8>) -> String {
        let sha = sha256_hex(&archive);
        self.mirror
            .route(&format!("/dl/{file}"), Behavior::Serve(archive));
        format!(
            "{arch}=http://127.0.0.1:{}/dl/{file}#{sha}",
            self.mirror.port
        )
    }

    /// Writes the catalog lines.
    fn catalog(&self, lines: &[String]) {
        fs::write(&self.catalog, lines.join("\n") + "\n").unwrap();
    }

    /// The catalog line of a fake PyPy `pypy<py>-<version>` for x86_64 and aarch64.
    fn pypy_line(&self, py: &str, version: &str) -> String {
        let fields: Vec<String> = [("x86_64", "linux64"), ("aarch64", "aarch64")]
            .iter()
            .map(|(arch, tag)| {
                let (file, archive) = fake_pypy(py, version, tag);
                self.serve(arch, &file, archive)
            })
            .collect();
        format!(
            "pypy{py}-{version} pypy py={} {}",
            host_python(),
            fields.join(" ")
        )
    }

    /// `strap ARGS` on an x86_64 machine, with our catalog.
    fn strap(&self, args: &[&str]) -> Command {
        let mut cmd = self.env.strap(args);
        cmd.env("STRAP_PYTHON_CATALOG", &self.catalog)
            .env("STRAP_ARCH", "x86_64")
            .timeout(Duration::from_secs(120));
        cmd
    }

    /// The same as `pyenv`, on `PYENV_ROOT`.
    fn pyenv(&self, args: &[&str]) -> Command {
        let mut cmd = self.strap(args);
        cmd.env("STRAP_FORCE_ARG0", "pyenv")
            .env("PYENV_ROOT", self.env.root())
            .env_remove("STRAP_ROOT");
        cmd
    }

    fn prefix(&self, name: &str) -> PathBuf {
        self.env.root().join("versions").join(name)
    }

    /// Runs `cmd` through the shims (in `work/`); its stdout, asserting success.
    fn through_shim(&self, cmd: &str, args: &[&str]) -> String {
        let out = self
            .env
            .command(self.env.shims().join(cmd))
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{cmd}: {}", stderr_of(&out));
        stdout_of(&out)
    }

    fn downloads(&self) -> Vec<String> {
        self.mirror.requests().into_iter().map(|r| r.path).collect()
    }

    fn assert_nothing_installed(&self, name: &str) {
        assert!(!self.prefix(name).exists(), "{name} was installed");
        let left = tmp_entries(&self.env.root());
        assert!(left.is_empty(), "left behind: {left:?}");
    }
}

const PYPY: &str = "pypy3.10-7.3.17";

/// The install's receipt.
fn receipt(prefix: &Path) -> serde_json::Value {
    serde_json::from_str(&fs::read_to_string(prefix.join("strap-receipt.json")).unwrap()).unwrap()
}

#[test]
fn a_pypy_is_listed_installed_laid_out_as_python_build_does_and_run_through_the_shims() {
    let f = Fixture::new();
    let line = f.pypy_line("3.10", "7.3.17");
    f.catalog(std::slice::from_ref(&line));
    let listed = f
        .strap(&["install", "--list", "--bare", "pypy3.10"])
        .output()
        .unwrap();
    assert!(
        stdout_of(&listed).lines().any(|l| l.trim() == PYPY),
        "{}",
        stdout_of(&listed)
    );

    let out = f.strap(&["install", PYPY]).output().unwrap();
    let err = stderr_of(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("==> PyPy pypy3.10-7.3.17"), "{err}");
    assert!(
        err.contains("==> verify: runs, its Python version; imports ssl, sqlite3, ctypes; pip"),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "note: {PYPY} runs: cpython, Python {}",
            host_python()
        )),
        "the version it reports is shown: {err}"
    );
    assert_eq!(
        f.downloads(),
        ["/dl/pypy3.10-v7.3.17-linux64.tar.bz2"],
        "x86_64's archive only"
    );

    // python-build's layout: relative links, since the prefix was renamed into place.
    let prefix = f.prefix(PYPY);
    let link = |path: &str| fs::read_link(prefix.join(path)).unwrap();
    assert_eq!(link("bin/python"), Path::new("pypy3.10"));
    assert_eq!(link("bin/pypy3"), Path::new("pypy3.10"));
    assert_eq!(
        link("lib/libpypy3.10-c.so"),
        Path::new("../bin/libpypy3.10-c.so")
    );
    assert_eq!(link("bin/python3"), Path::new("python"));
    assert_eq!(link("bin/pip"), Path::new("pip3"));
    // ensurepip ran in the staging area; pip's script names the final prefix.
    let pip3 = fs::read_to_string(prefix.join("bin/pip3")).unwrap();
    assert_eq!(
        pip3.lines().next().unwrap(),
        format!("#!{}/bin/python", prefix.display())
    );

    let receipt = receipt(&prefix);
    assert_eq!(receipt["kind"], "python");
    assert_eq!(receipt["name"], PYPY);
    let sha = line.split('#').nth(1).unwrap().split(' ').next().unwrap();
    assert_eq!(
        receipt["sources"][0]["file"],
        "pypy3.10-v7.3.17-linux64.tar.bz2"
    );
    assert_eq!(receipt["sources"][0]["sha256"], sha);
    assert_eq!(receipt["options"], serde_json::json!(["family=pypy"]));

    // The shims: pypy3 and pip3 always, python once it is the selected version.
    f.strap(&["global", PYPY]).assert().success();
    let site = prefix.join("lib/pypy3.10/site-packages");
    let seen = "import os; print(os.environ['PYTHONPATH'])";
    for cmd in ["pypy3", "python", "python3"] {
        assert_eq!(
            f.through_shim(cmd, &["-c", seen]).trim(),
            site.display().to_string(),
            "{cmd}"
        );
    }
    assert_eq!(f.through_shim("pip3", &["--version"]), "pip 99.0 (fake)\n");

    // As pyenv: `pyenv local` then `python` in that directory.
    f.strap(&["global", "system"]).assert().success();
    f.pyenv(&["local", PYPY]).assert().success();
    assert_eq!(
        fs::read_to_string(f.env.work().join(".python-version")).unwrap(),
        format!("{PYPY}\n")
    );
    assert_eq!(
        f.through_shim("python", &["-c", seen]).trim(),
        site.display().to_string()
    );
}

#[test]
fn pypy3_10_resolves_to_the_newest_definition_for_strap_and_for_pyenv() {
    let f = Fixture::new();
    // Newer than any PyPy of the embedded catalog, so it is the newest pypy3.10 there is.
    f.catalog(&[f.pypy_line("3.10", "7.3.17"), f.pypy_line("3.10", "7.3.98")]);
    let latest = f.pyenv(&["latest", "-k", "pypy3.10"]).output().unwrap();
    assert!(latest.status.success(), "{}", stderr_of(&latest));
    assert_eq!(stdout_of(&latest), "pypy3.10-7.3.98\n");

    let out = f.strap(&["install", "pypy3.10"]).output().unwrap();
    let err = stderr_of(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("==> PyPy pypy3.10-7.3.98 (for pypy3.10)"),
        "{err}"
    );
    assert!(f.prefix("pypy3.10-7.3.98/bin/python").exists());
    assert!(!f.prefix(PYPY).exists());
}

#[test]
fn each_architecture_gets_its_own_archive_and_others_are_refused_naming_those_there_are() {
    let f = Fixture::new();
    f.catalog(&[f.pypy_line("3.10", "7.3.17")]);
    let out = f
        .strap(&["install", PYPY])
        .env("STRAP_ARCH", "aarch64")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(f.downloads(), ["/dl/pypy3.10-v7.3.17-aarch64.tar.bz2"]);
    assert_eq!(
        fs::read_to_string(f.prefix(PYPY).join("lib/pypy3.10/README")).unwrap(),
        "PyPy 7.3.17 for aarch64\n"
    );

    let other = TestEnv::new();
    let out = other
        .strap(&["install", PYPY])
        .env("STRAP_PYTHON_CATALOG", &f.catalog)
        .env("STRAP_ARCH", "s390x")
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("python-build has no build of it for s390x, only for x86_64, aarch64"),
        "{err}"
    );
    assert_eq!(f.downloads().len(), 1, "nothing more was downloaded");
    assert!(!other.root().join("versions").join(PYPY).exists());
}

#[test]
fn an_archive_with_another_checksum_is_refused_and_nothing_is_installed() {
    let f = Fixture::new();
    let line = f.pypy_line("3.10", "7.3.17");
    // The mirror now serves other bytes under the same name.
    let (file, other) = fake_pypy("3.10", "7.3.18", "linux64");
    f.mirror.route(
        "/dl/pypy3.10-v7.3.17-linux64.tar.bz2",
        Behavior::Serve(other),
    );
    assert_ne!(file, "pypy3.10-v7.3.17-linux64.tar.bz2");
    f.catalog(&[line]);
    let out = f.strap(&["install", PYPY]).output().unwrap();
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("sha256"), "{err}");
    f.assert_nothing_installed(PYPY);
}

#[test]
fn an_interpreter_implementing_another_python_than_its_definition_is_not_installed() {
    let f = Fixture::new();
    let line = f.pypy_line("3.10", "7.3.17");
    f.catalog(&[line.replace(&format!("py={}", host_python()), "py=2.7")]);
    let out = f.strap(&["install", PYPY]).output().unwrap();
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!("it implements Python {} (", host_python()))
            && err.contains("not the Python 2.7 its definition names"),
        "{err}"
    );
    f.assert_nothing_installed(PYPY);
}

#[test]
fn graalpy_and_graalpython_are_laid_out_as_python_build_does() {
    let f = Fixture::new();
    // GraalPy's tree has its own python links; this one has no pip and an ensurepip that is
    // not there (an import that fails, shadowing the system's).
    let graalpy = tar_bz2(
        "graalpy-24.1.1-linux-amd64",
        &[
            Entry::File("bin/graalpy", interpreter("graalpy24"), 0o755),
            Entry::Link("bin/python", "graalpy"),
            Entry::Link("bin/python3", "graalpy"),
            Entry::File(
                "lib/graalpy24/site-packages/ensurepip.py",
                "raise ImportError('not in this build')\n".to_owned(),
                0o644,
            ),
        ],
    );
    // GraalPython's has none: python-build links bin/python to graalpython.
    let graalpython = tar_bz2(
        "graalpython-22.2.0-linux-amd64",
        &[
            Entry::File("bin/graalpython", interpreter("graalpython"), 0o755),
            Entry::File(
                "lib/graalpython/site-packages/ensurepip/__init__.py",
                String::new(),
                0o644,
            ),
            Entry::File(
                "lib/graalpython/site-packages/ensurepip/__main__.py",
                ENSUREPIP.to_owned(),
                0o644,
            ),
        ],
    );
    f.catalog(&[
        format!(
            "graalpy-24.1.1 graalpy {}",
            f.serve("x86_64", "graalpy-24.1.1-linux-amd64.tar.bz2", graalpy)
        ),
        format!(
            "graalpython-22.2.0 graalpython {}",
            f.serve(
                "x86_64",
                "graalpython-22.2.0-linux-amd64.tar.bz2",
                graalpython
            )
        ),
    ]);

    let out = f.strap(&["install", "graalpy-24.1.1"]).output().unwrap();
    let err = stderr_of(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("==> verify: runs, its Python version; notes whether it imports ssl, sqlite3, ctypes; pip"),
        "{err}"
    );
    assert!(
        err.contains("note: graalpy-24.1.1 has no pip and no ensurepip to install it with"),
        "{err}"
    );
    let prefix = f.prefix("graalpy-24.1.1");
    assert_eq!(
        fs::read_link(prefix.join("bin/python")).unwrap(),
        Path::new("graalpy")
    );
    assert!(!prefix.join("bin/pip3").exists());
    assert_eq!(
        receipt(&prefix)["options"],
        serde_json::json!(["family=graalpy"])
    );
    let out = f
        .env
        .command(prefix.join("bin/python3"))
        .args(["-c", "print('graal')"])
        .output()
        .unwrap();
    assert_eq!(stdout_of(&out), "graal\n");

    let out = f
        .strap(&["install", "graalpython-22.2.0"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let prefix = f.prefix("graalpython-22.2.0");
    assert_eq!(
        fs::read_link(prefix.join("bin/python")).unwrap(),
        Path::new("graalpython")
    );
    assert_eq!(
        fs::read_link(prefix.join("bin/python3")).unwrap(),
        Path::new("python")
    );
    f.strap(&["global", "graalpython-22.2.0"])
        .assert()
        .success();
    assert_eq!(
        f.through_shim("graalpython", &["-m", "pip"]),
        "pip 99.0 (fake)\n"
    );
}

/// ActivePython's `install.sh --install-dir DIR` stand-in: installs the interpreter, an
/// absolute link to it and a pip whose script names DIR, as installers write them.
const ACTIVEPYTHON_INSTALL: &str = r##"#!/bin/sh
[ "$1" = --install-dir ] && [ -n "$2" ] || { echo "usage: install.sh --install-dir DIR" >&2; exit 2; }
dir=$2
site="$dir/lib/python3.6/site-packages"
mkdir -p "$dir/bin" "$site/pip"
cp interpreter "$dir/bin/python3.6"
ln -s "$dir/bin/python3.6" "$dir/bin/python3"
printf 'def main():\n    print("pip 99.0 (fake)")\n' > "$site/pip/__init__.py"
printf 'import pip\npip.main()\n' > "$site/pip/__main__.py"
printf '#!%s/bin/python3\nimport pip\npip.main()\n' "$dir" > "$dir/bin/pip3"
chmod +x "$dir/bin/pip3"
echo "ActivePython installed in $dir"
"##;

#[test]
fn activepython_runs_its_installer_into_the_staging_area_and_lands_relocated() {
    let f = Fixture::new();
    let top = "ActivePython-3.6.0.3600-linux-x86_64-glibc-2.3.6-401834";
    let archive = tar_bz2(
        top,
        &[
            Entry::File("install.sh", ACTIVEPYTHON_INSTALL.to_owned(), 0o755),
            Entry::File("interpreter", interpreter("python3.6"), 0o755),
        ],
    );
    f.catalog(&[format!(
        "activepython-3.6.0 activepython py={} {}",
        host_python(),
        f.serve("x86_64", &format!("{top}.tar.bz2"), archive)
    )]);
    let out = f
        .strap(&["install", "activepython-3.6.0"])
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("==> install: the archive's install.sh --install-dir"),
        "{err}"
    );
    let prefix = f.prefix("activepython-3.6.0");
    let link = |p: &str| fs::read_link(prefix.join(p)).unwrap();
    assert_eq!(link("bin/python3"), Path::new("python3.6"), "made relative");
    assert_eq!(link("bin/python"), Path::new("python3"));
    assert_eq!(link("bin/pip"), Path::new("pip3"));
    assert_eq!(
        fs::read_to_string(prefix.join("bin/pip3"))
            .unwrap()
            .lines()
            .next()
            .unwrap(),
        format!("#!{}/bin/python3", prefix.display())
    );
    f.strap(&["global", "activepython-3.6.0"])
        .assert()
        .success();
    assert_eq!(f.through_shim("pip", &["--version"]), "pip 99.0 (fake)\n");
}

#[test]
fn a_reinstall_with_f_comes_from_the_build_cache() {
    let f = Fixture::new();
    f.catalog(&[f.pypy_line("3.10", "7.3.17")]);
    let out = f.strap(&["install", PYPY]).output().unwrap();
    let err = stderr_of(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("==> pack: into the build cache"), "{err}");

    let out = f.strap(&["install", "-f", PYPY]).output().unwrap();
    let err = stderr_of(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("==> PyPy pypy3.10-7.3.17 from the build cache (key "),
        "{err}"
    );
    assert!(
        err.contains("==> verify:") && !err.contains("==> pip"),
        "{err}"
    );
    assert_eq!(f.downloads().len(), 1, "the archive was not fetched again");
    let prefix = f.prefix(PYPY);
    assert_eq!(
        fs::read_link(prefix.join("bin/python")).unwrap(),
        Path::new("pypy3.10")
    );
    assert_eq!(
        fs::read_to_string(prefix.join("bin/pip3"))
            .unwrap()
            .lines()
            .next()
            .unwrap(),
        format!("#!{}/bin/python", prefix.display())
    );
    assert!(receipt(&prefix)["from_pack"].is_object());
}

#[test]
fn a_virtualenv_made_from_a_pypy_runs() {
    let f = Fixture::new();
    f.catalog(&[f.pypy_line("3.10", "7.3.17")]);
    f.strap(&["install", PYPY]).assert().success();
    let out = f
        .strap(&["virtualenv", PYPY, "proj"])
        .timeout(Duration::from_secs(180))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let python = f.env.root().join("versions/proj/bin/python");
    let out = f
        .env
        .command(&python)
        .args(["-c", "import sys; print(sys.prefix != sys.base_prefix)"])
        .output()
        .unwrap();
    assert_eq!(stdout_of(&out), "True\n", "{}", stderr_of(&out));
    assert!(f
        .env
        .root()
        .join(format!("versions/{PYPY}/envs/proj/pyvenv.cfg"))
        .exists());
}

/// Debian's PyPy (package `pypy3`, 7.3.11) in upstream's tarball layout: the interpreter and
/// libpypy in `bin/` (the interpreter finds libpypy by its `$ORIGIN` run path, and its standard
/// library in `lib/pypy3.9/` next to it), without Debian's `EXTERNALLY-MANAGED` marker and
/// compiled files. A `.tar.gz` (fast to make; the unpacker goes by content).
fn debian_pypy() -> (String, Vec<u8>) {
    let top = "pypy3.9-v7.3.11-linux64";
    let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::fast(),
    ));
    let mut add_file = |from: &Path, to: &str, mode: u32| {
        let body = fs::read(from).unwrap();
        let mut header = tar::Header::new_gnu();
        header.set_size(body.len() as u64);
        header.set_mode(mode);
        header.set_cksum();
        builder
            .append_data(&mut header, format!("{top}/{to}"), &body[..])
            .unwrap();
    };
    add_file(Path::new("/usr/bin/pypy3.9"), "bin/pypy3.9", 0o755);
    // Executable, as upstream ships it (python-build links lib/ to executable ones only).
    add_file(
        Path::new("/usr/lib/x86_64-linux-gnu/libpypy3.9-c.so"),
        "bin/libpypy3.9-c.so",
        0o755,
    );
    let stdlib = Path::new("/usr/lib/pypy3.9");
    let mut pending = vec![stdlib.to_owned()];
    while let Some(dir) = pending.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy();
            if name == "__pycache__" || name == "EXTERNALLY-MANAGED" {
                continue;
            }
            let meta = fs::symlink_metadata(&path).unwrap();
            let to = format!(
                "lib/pypy3.9/{}",
                path.strip_prefix(stdlib).unwrap().display()
            );
            if meta.is_dir() {
                pending.push(path);
            } else if meta.is_file() {
                use std::os::unix::fs::PermissionsExt;
                add_file(&path, &to, meta.permissions().mode() & 0o755);
            }
        }
    }
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(tar::EntryType::Symlink);
    header.set_size(0);
    header.set_mode(0o777);
    builder
        .append_link(&mut header, format!("{top}/bin/pypy3"), "pypy3.9")
        .unwrap();
    let mut gz = builder.into_inner().unwrap();
    gz.flush().unwrap();
    (format!("{top}.tar.gz"), gz.finish().unwrap())
}

#[test]
#[ignore = "needs Debian's pypy3 (.ci/run installs it)"]
fn debians_real_pypy_in_upstreams_layout_installs_runs_through_the_shims_and_makes_a_venv() {
    assert!(
        Path::new("/usr/bin/pypy3.9").exists(),
        "Debian's pypy3 is not installed (apt-get install pypy3)"
    );
    let f = Fixture::new();
    let (file, archive) = debian_pypy();
    f.catalog(&[format!(
        "pypy3.9-7.3.11 pypy py=3.9 {}",
        f.serve("x86_64", &file, archive)
    )]);
    // --no-pip: Debian's stdlib is patched for Debian's /usr layout — its ensurepip refuses
    // to run ("disabled in Debian/Ubuntu for the system python"); upstream's archive has pip.
    let out = f
        .strap(&["install", "--no-pip", "pypy3.9-7.3.11"])
        .timeout(Duration::from_secs(600))
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("note: pypy3.9-7.3.11 runs: pypy, Python 3.9."),
        "{err}"
    );
    eprintln!("{err}");
    let prefix = f.prefix("pypy3.9-7.3.11");
    assert_eq!(
        fs::read_link(prefix.join("lib/libpypy3.9-c.so")).unwrap(),
        Path::new("../bin/libpypy3.9-c.so")
    );

    f.strap(&["global", "pypy3.9-7.3.11"]).assert().success();
    let printed = f.through_shim(
        "pypy3",
        &[
            "-c",
            "import sqlite3, ctypes, sys; print(sys.pypy_version_info); print(sys.prefix)",
        ],
    );
    eprintln!("pypy3 through the shim printed: {printed}");
    assert!(
        printed.starts_with(
            "sys.pypy_version_info(major=7, minor=3, micro=11, releaselevel='final', serial=0)\n"
        ),
        "{printed}"
    );
    assert_eq!(printed.lines().nth(1), Some(prefix.to_str().unwrap()));

    // A virtualenv of it (`-m venv`; without pip, which Debian's ensurepip refuses).
    let venv = f.env.work().join("venv");
    let out = f
        .env
        .command(prefix.join("bin/python"))
        .args(["-m", "venv", "--without-pip"])
        .arg(&venv)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let out = f
        .env
        .command(venv.join("bin/python"))
        .args([
            "-c",
            "import sys, sqlite3; print(sys.implementation.name, sys.prefix != sys.base_prefix, sys.base_prefix)",
        ])
        .output()
        .unwrap();
    eprintln!("the venv's python printed: {}", stdout_of(&out));
    assert_eq!(
        stdout_of(&out),
        format!("pypy True {}\n", prefix.display()),
        "{}",
        stderr_of(&out)
    );
}

#[test]
fn an_offline_machine_installs_a_pypy_from_its_own_mirror_by_file_name_or_by_sha256() {
    let f = Fixture::new();
    let (file, archive) = fake_pypy("3.10", "7.3.17", "linux64");
    let sha = sha256_hex(&archive);
    // Upstream is unreachable: only the mirrors have it.
    f.catalog(&[format!(
        "{PYPY} pypy py={} x86_64=https://upstream.invalid/pypy/{file}#{sha}",
        host_python()
    )]);
    let by_name = f.env.dir.path().join("by-name");
    fs::create_dir_all(&by_name).unwrap();
    fs::write(by_name.join(&file), &archive).unwrap();
    let template = format!("file://{}/{{file}}", by_name.display());
    let out = f
        .strap(&[
            "install",
            "--offline",
            "--no-pip",
            "--mirror",
            &template,
            PYPY,
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(f.prefix(PYPY).join("bin/python").exists());
    // python-build's mirror, files named by their sha256, over HTTP.
    let g = Fixture::new();
    g.catalog(&[format!(
        "{PYPY} pypy py={} x86_64=https://upstream.invalid/pypy/{file}#{sha}",
        host_python()
    )]);
    g.mirror
        .route(&format!("/by-sha/{sha}"), Behavior::Serve(archive));
    let out = g
        .strap(&["install", "--no-pip", PYPY])
        .env(
            "PYTHON_BUILD_MIRROR_URL",
            format!("http://127.0.0.1:{}/by-sha", g.mirror.port),
        )
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(g.downloads(), [format!("/by-sha/{sha}")]);
}

#[test]
fn a_pyston_portable_archive_gets_python_build_s_layout() {
    let f = Fixture::new();
    // Pyston's portable archives (2.3.1 and later) hold `bin/pyston` and `bin/python3`.
    let archive = tar_bz2(
        "pyston_2.3.5",
        &[
            Entry::File("bin/pyston", interpreter("python3.8"), 0o755),
            Entry::Link("bin/python3", "pyston"),
            Entry::File("lib/python3.8/site-packages/README", String::new(), 0o644),
        ],
    );
    let field = f.serve("x86_64", "pyston_2.3.5_portable_amd64.tar.bz2", archive);
    f.catalog(&[format!("pyston-2.3.5 pyston py={} {field}", host_python())]);
    let out = f
        .strap(&["install", "--no-pip", "pyston-2.3.5"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let prefix = f.prefix("pyston-2.3.5");
    assert_eq!(
        fs::read_link(prefix.join("bin/python3")).unwrap(),
        Path::new("pyston")
    );
    f.strap(&["global", "pyston-2.3.5"]).assert().success();
    assert_eq!(f.through_shim("pyston", &["-c", "print(6 * 7)"]), "42\n");
}

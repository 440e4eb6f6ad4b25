//! The source families of python-build's catalog, installed by the real binary from generated
//! downloads on a loopback mirror, named by `STRAP_PYTHON_CATALOG` lines: a CPython fork
//! (Stackless) built through CPython's build, MicroPython's unix port, Jython's installer jar
//! with a stand-in Java runtime, and the refusals that name a missing runtime.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use assert_cmd::Command;

use crate::fake_source::{fake_fork_tgz, fake_openssl_tgz, sha256_hex, tgz};
use crate::mirror::{Behavior, Mirror};
use crate::support::{stderr_of, stdout_of, write_script, TestEnv};

/// A machine and a mirror serving one definition's download, named by a catalog of its own.
struct Served {
    env: TestEnv,
    mirror: Mirror,
    catalog: PathBuf,
    name: String,
}

impl Served {
    /// `name` of `family` (with catalog `fields`) downloading `bytes` as `upstream` from the
    /// mirror's `/up/`.
    fn new(name: &str, family: &str, fields: &str, upstream: &str, bytes: Vec<u8>) -> Served {
        let env = TestEnv::new();
        let mirror = Mirror::start();
        let sha = sha256_hex(&bytes);
        mirror.route(&format!("/up/{upstream}"), Behavior::Serve(bytes));
        let url = mirror.template("up").replace("{file}", upstream);
        let catalog = env.write(
            "catalog.txt",
            &format!("{name} {family} {fields} any={url}#{sha}\n"),
        );
        Served {
            env,
            mirror,
            catalog,
            name: name.to_owned(),
        }
    }

    /// `strap install NAME ARGS` with the catalog.
    fn install(&self, args: &[&str]) -> Command {
        let mut cmd = self.env.strap(&["install"]);
        cmd.args(args)
            .arg(&self.name)
            .env("STRAP_PYTHON_CATALOG", &self.catalog)
            .timeout(Duration::from_secs(120));
        cmd
    }

    fn prefix(&self) -> PathBuf {
        self.env.root().join("versions").join(&self.name)
    }

    fn receipt(&self) -> serde_json::Value {
        let text = fs::read_to_string(self.prefix().join("strap-receipt.json")).unwrap();
        serde_json::from_str(&text).unwrap()
    }

    /// Asserts the install was refused before anything was downloaded or left behind.
    fn assert_refused_before_download(&self, out: &std::process::Output) {
        assert_eq!(out.status.code(), Some(1), "{}", stderr_of(out));
        assert!(!self.prefix().exists());
        assert!(
            self.mirror.requests().is_empty(),
            "downloaded before refusing"
        );
        assert!(crate::support::tmp_entries(&self.env.root()).is_empty());
    }
}

/// The log `strap install` named in its last line.
fn log_of(stderr: &str) -> String {
    let path = stderr
        .rsplit("(log: ")
        .next()
        .and_then(|rest| rest.split(')').next())
        .unwrap();
    fs::read_to_string(path).unwrap()
}

fn first_line(path: &Path) -> String {
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_owned()
}

/// A Stackless-shaped source tree (CPython's fake build under `stackless-3.7.5-slp/`, as
/// GitHub's tag archive unpacks) builds through CPython's build: preflight, configure with
/// the user's `PYTHON_CONFIGURE_OPTS`, make, pip, the module check, the receipt, shims; `-f`
/// reinstalls it from the build cache, and other configure options build it anew.
#[test]
fn a_cpython_fork_builds_like_cpython_and_reinstalls_from_the_build_cache() {
    let s = Served::new(
        "stackless-3.7.5",
        "stackless",
        "py=3.7",
        "v3.7.5-slp.tar.gz",
        fake_fork_tgz("stackless-3.7.5-slp", "3.7.5"),
    );
    s.env.provide_build_headers();
    let out = s
        .install(&[])
        .env("PYTHON_CONFIGURE_OPTS", "--with-fork-knob")
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("Stackless Python stackless-3.7.5"), "{err}");
    for phase in [
        "preflight",
        "configure",
        "compile",
        "install",
        "verify",
        "pack",
    ] {
        assert!(err.contains(&format!("==> {phase}")), "{phase}: {err}");
    }
    let prefix = s.prefix();
    let configure = log_of(&err)
        .lines()
        .find(|l| l.starts_with("$ ./configure"))
        .unwrap()
        .to_owned();
    assert!(
        configure.contains(&format!("--prefix={}", prefix.display()))
            && configure.ends_with("--with-fork-knob"),
        "{configure}"
    );
    assert_eq!(
        fs::read_link(prefix.join("bin/python")).unwrap(),
        Path::new("python3")
    );
    assert!(
        prefix.join("bin/pip3").exists(),
        "pip from the bundled wheel"
    );
    let receipt = s.receipt();
    assert_eq!(receipt["name"], "stackless-3.7.5");
    assert!(receipt["options"]
        .as_array()
        .unwrap()
        .iter()
        .any(|o| o == "--with-fork-knob"));

    s.env
        .strap(&["local", "stackless-3.7.5"])
        .assert()
        .success();
    let out = s
        .env
        .command(s.env.shims().join("python"))
        .arg("--version")
        .output()
        .unwrap();
    assert_eq!(
        stdout_of(&out).trim(),
        "Python 3.7.5",
        "{}",
        stderr_of(&out)
    );

    let out = s
        .install(&["-f"])
        .env("PYTHON_CONFIGURE_OPTS", "--with-fork-knob")
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("from the build cache"), "{err}");
    assert!(!err.contains("==> configure"), "{err}");

    let out = s
        .install(&["-f"])
        .env("PYTHON_CONFIGURE_OPTS", "--with-other-knob")
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("==> configure") && !err.contains("from the build cache"),
        "other options are another build: {err}"
    );
}

/// A fork flagged `openssl11` (nogil's definitions are) builds the private OpenSSL 1.1.1 of
/// the catalog it was planned with (here a `dep openssl11` line of `STRAP_PYTHON_CATALOG`)
/// and configures against it, as CPython's old releases do; its version comes from its name
/// (`nogil-3.9.10-1` is CPython 3.9.10, so `--with-openssl` is given).
#[test]
fn a_fork_flagged_openssl11_builds_against_the_private_openssl() {
    let s = Served::new(
        "nogil-3.9.10-1",
        "nogil",
        "py=3.9 openssl11",
        "v3.9.10-nogil-2023-01-22.tar.gz",
        fake_fork_tgz("nogil-3.9.10-nogil-2023-01-22", "3.9.10"),
    );
    let openssl = fake_openssl_tgz("1.1.1z");
    s.mirror.route(
        "/upstream/openssl-1.1.1z.tar.gz",
        Behavior::Serve(openssl.clone()),
    );
    let url = s
        .mirror
        .template("upstream")
        .replace("{file}", "openssl-1.1.1z.tar.gz");
    let line = fs::read_to_string(&s.catalog).unwrap();
    fs::write(
        &s.catalog,
        format!(
            "dep openssl11 openssl-1.1.1z.tar.gz {url} {}\n{line}",
            sha256_hex(&openssl)
        ),
    )
    .unwrap();
    let out = s.install(&["--skip-preflight"]).output().unwrap();
    let err = stderr_of(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("nogil Python nogil-3.9.10-1"), "{err}");
    assert!(err.contains("==> openssl:"), "{err}");
    let prefix = s.prefix();
    assert!(prefix.join("openssl/lib/libssl.so.1.1").exists());
    let configure = log_of(&err)
        .lines()
        .find(|l| l.starts_with("$ ./configure"))
        .unwrap()
        .to_owned();
    assert!(configure.contains("--with-openssl="), "{configure}");
}

/// The unix port's `main`: answers `-c` with what MicroPython would print for the probes.
const MICROPYTHON_C: &str = r#"#include <stdio.h>
#include <string.h>
int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "-c") == 0) {
        if (strstr(argv[2], "sys.implementation")) {
            printf("(name='micropython', version=(1, 20, 0), _machine='fake')\n");
            return 0;
        }
        if (strstr(argv[2], "sys.path")) {
            printf("%s\n", MICROPY_PY_SYS_PATH_DEFAULT);
            return 0;
        }
    }
    fprintf(stderr, "fake micropython: only -c\n");
    return 1;
}
"#;

/// The port's Makefile: the default `sys.path` comes only from `CFLAGS_EXTRA` (the program
/// does not compile without it), `mpy-cross` must be built first, and `install` is upstream's
/// older one, which puts `PREFIX` (defaulting to `$(DESTDIR)/usr/local`) first.
const UNIX_MAKEFILE: &str = "PREFIX = $(DESTDIR)/usr/local\n\
BINDIR = $(PREFIX)/bin\n\
micropython: main.c ../../mpy-cross/mpy-cross\n\
\t$(CC) $(CFLAGS_EXTRA) -o micropython main.c\n\
install: micropython\n\
\tinstall -d $(BINDIR)\n\
\tinstall micropython $(BINDIR)/micropython\n";

const MPY_CROSS_MAKEFILE: &str =
    "mpy-cross:\n\tprintf '#!/bin/sh\\n' > mpy-cross\n\tchmod +x mpy-cross\n";

/// `top/` of `files` as a `.tar.xz`, as micropython.org publishes its sources.
fn txz(top: &str, files: &[(&str, &str, u32)]) -> Vec<u8> {
    let mut tar = Vec::new();
    flate2::read::GzDecoder::new(&tgz(top, files)[..])
        .read_to_end(&mut tar)
        .unwrap();
    let mut xz = xz2::write::XzEncoder::new(Vec::new(), 1);
    std::io::Write::write_all(&mut xz, &tar).unwrap();
    xz.finish().unwrap()
}

/// A MicroPython-shaped source tree builds as python-build builds it: `mpy-cross`, then the
/// unix port with the final prefix's `lib/micropython` baked in as its default `sys.path`,
/// installed into the staging area whatever its Makefile does with `PREFIX`, `python` linked
/// to `micropython`, and verified by running it.
#[test]
fn micropython_builds_its_unix_port_with_the_final_prefix_baked_in() {
    let s = Served::new(
        "micropython-1.20.0",
        "micropython",
        "",
        "micropython-1.20.0.tar.xz",
        txz(
            "micropython-1.20.0",
            &[
                ("mpy-cross/Makefile", MPY_CROSS_MAKEFILE, 0o644),
                ("ports/unix/Makefile", UNIX_MAKEFILE, 0o644),
                ("ports/unix/main.c", MICROPYTHON_C, 0o644),
            ],
        ),
    );
    let out = s.install(&[]).output().unwrap();
    let err = stderr_of(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("MicroPython micropython-1.20.0"), "{err}");
    assert!(
        err.contains("==> verify: micropython -c 'import sys; print(sys.implementation)'"),
        "{err}"
    );
    let prefix = s.prefix();
    assert_eq!(
        fs::read_link(prefix.join("bin/python")).unwrap(),
        Path::new("micropython")
    );
    assert!(prefix.join("lib/micropython").is_dir());
    let out = s
        .env
        .command(prefix.join("bin/python"))
        .args(["-c", "import sys; print(sys.path)"])
        .output()
        .unwrap();
    assert_eq!(
        stdout_of(&out).trim(),
        format!(".frozen:{}/lib/micropython", prefix.display())
    );
    assert_eq!(s.receipt()["name"], "micropython-1.20.0");
}

/// A MicroPython whose build does not answer as MicroPython is not installed.
#[test]
fn a_micropython_that_does_not_say_so_fails_verification() {
    let impostor = MICROPYTHON_C.replace("name='micropython'", "name='cpython'");
    let s = Served::new(
        "micropython-1.20.0",
        "micropython",
        "",
        "micropython-1.20.0.tar.xz",
        txz(
            "micropython-1.20.0",
            &[
                ("mpy-cross/Makefile", MPY_CROSS_MAKEFILE, 0o644),
                ("ports/unix/Makefile", UNIX_MAKEFILE, 0o644),
                ("ports/unix/main.c", &impostor, 0o644),
            ],
        ),
    );
    let out = s.install(&[]).output().unwrap();
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("does not say it is MicroPython"), "{err}");
    assert!(!s.prefix().exists());
}

/// MicroPython's preflight names the tools its build needs, before downloading anything.
#[test]
fn micropython_without_build_tools_is_refused_naming_them() {
    let s = Served::new(
        "micropython-1.20.0",
        "micropython",
        "",
        "micropython-1.20.0.tar.xz",
        b"never downloaded".to_vec(),
    );
    let out = s.install(&[]).env("PATH", s.env.sysbin()).output().unwrap();
    let err = stderr_of(&out);
    assert!(
        err.contains("missing build prerequisites: C compiler, make, python3"),
        "{err}"
    );
    s.assert_refused_before_download(&out);
}

fn jython() -> Served {
    Served::new(
        "jython-2.7.2",
        "jython",
        "",
        "jython-installer-2.7.2.jar",
        b"a stand-in for Jython's installer jar".to_vec(),
    )
}

/// Only the fake system directory on PATH: no `java` (the machine may have one).
fn without_runtimes(cmd: &mut Command, env: &TestEnv) {
    cmd.env("PATH", env.sysbin());
}

#[test]
fn jython_without_a_java_runtime_is_refused_naming_it() {
    let s = jython();
    let mut cmd = s.install(&[]);
    without_runtimes(&mut cmd, &s.env);
    let out = cmd.output().unwrap();
    let err = stderr_of(&out);
    assert!(
        err.contains(
            "missing build prerequisites: a Java runtime (java on PATH or $JAVA_HOME/bin/java)"
        ),
        "{err}"
    );
    s.assert_refused_before_download(&out);
}

#[test]
fn ironpython_is_refused_for_its_zip_before_anything_is_downloaded() {
    let s = Served::new(
        "ironpython-2.7.7",
        "ironpython",
        "",
        "IronPython-2.7.7-win.zip",
        b"PK a stand-in for IronPython's zip".to_vec(),
    );
    write_script(&s.env.sysbin().join("mono"), "exit 0");
    let out = s.install(&[]).output().unwrap();
    let err = stderr_of(&out);
    assert!(
        err.contains(
            "ironpython-2.7.7 cannot be installed: its builds are Windows .NET zip archives run \
             with mono; strap unpacks tar archives only"
        ),
        "{err}"
    );
    s.assert_refused_before_download(&out);
}

/// A stand-in for a Java runtime, NOT a real one: `java -jar JAR -s -d DIR` does what
/// Jython's installer does in silent mode — a `bin/jython` launcher (a shell script answering
/// `-c pass`, or failing with `FAKE_JYTHON_BROKEN`), scripts started by the install
/// directory's `bin/jython` and by `python2.7` — and records whether `python2.7` worked for
/// it (the real installer writes a Python launcher when it does).
const FAKE_JAVA: &str = r#"PATH=/usr/bin:/bin:$PATH
[ "$1" = -jar ] && [ -f "$2" ] && [ "$3" = -s ] && [ "$4" = -d ] || { echo "fake java: $*" >&2; exit 2; }
case "$2" in /*) ;; *) echo "the jar's path is not absolute: $2" >&2; exit 2 ;; esac
dir=$5
mkdir -p "$dir/bin" "$dir/Lib"
if python2.7 -c pass >/dev/null 2>&1; then echo works; else echo fails; fi > "$dir/python27-for-installer"
if [ -n "$FAKE_JYTHON_BROKEN" ]; then
  printf '#!/bin/sh\necho "Error: could not find or load main class" >&2\nexit 1\n' > "$dir/bin/jython"
else
  printf '#!/bin/sh\n[ "$1" = -c ] && [ "$2" = pass ] && exit 0\necho "Jython 2.7.2"\n' > "$dir/bin/jython"
fi
printf '#!%s/bin/jython\nimport pip\n' "$dir" > "$dir/bin/pip"
printf '#!/usr/bin/python2.7 -E\nprint 1\n' > "$dir/bin/old"
printf '#!/bin/sh\necho untouched\n' > "$dir/bin/other"
chmod +x "$dir/bin/"*
printf '%s\n' "$dir" > "$dir/Lib/home.txt"
ln -s "$dir/bin/jython" "$dir/Lib/jython-link"
[ -z "$FAKE_JYTHON_SUID" ] || chmod 4755 "$dir/bin/other"
[ -z "$FAKE_JYTHON_ESCAPE" ] || ln -s /etc/passwd "$dir/Lib/passwd"
"#;

/// A `JAVA_HOME` holding the stand-in `java`; `sysbin/` gets a `python2.7` that works.
fn fake_java_home(env: &TestEnv) -> PathBuf {
    let home = env.dir.path().join("jdk");
    write_script(&home.join("bin/java"), FAKE_JAVA);
    write_script(&env.sysbin().join("python2.7"), "exit 0");
    home
}

/// What the installer writes is settled as every installer's output: the staging path in its
/// files becomes the final prefix, an absolute link into the install becomes relative, setuid
/// is dropped, and a link out of the install is refused.
#[test]
fn what_jythons_installer_writes_is_settled_or_refused() {
    use std::os::unix::fs::PermissionsExt;
    let s = jython();
    let java_home = fake_java_home(&s.env);
    let out = s
        .install(&[])
        .env("JAVA_HOME", &java_home)
        .env("FAKE_JYTHON_SUID", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let prefix = s.prefix();
    assert_eq!(
        fs::read_to_string(prefix.join("Lib/home.txt")).unwrap(),
        format!("{}\n", prefix.display())
    );
    assert_eq!(
        fs::read_link(prefix.join("Lib/jython-link")).unwrap(),
        Path::new("../bin/jython")
    );
    let mode = fs::metadata(prefix.join("bin/other"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o7000, 0, "{mode:o}");
    let t = jython();
    let java_home = fake_java_home(&t.env);
    let out = t
        .install(&[])
        .env("JAVA_HOME", &java_home)
        .env("FAKE_JYTHON_ESCAPE", "1")
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("Lib/passwd: a link to /etc/passwd leaves the install"),
        "{err}"
    );
    assert!(!t.prefix().exists());
}

/// With a Java runtime (a stand-in, see [`FAKE_JAVA`]; found through `JAVA_HOME` before the
/// PATH's), Jython's installer runs in silent mode into the staging area without a working
/// `python2.7`, `python` links to `jython`, the shebangs name the final prefix, and the
/// launcher is verified.
#[test]
fn jython_installs_with_a_java_runtime() {
    let s = jython();
    let java_home = fake_java_home(&s.env);
    let out = s
        .install(&[])
        .env("JAVA_HOME", &java_home)
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("Jython jython-2.7.2"), "{err}");
    assert!(err.contains("==> verify: jython -c pass"), "{err}");
    let prefix = s.prefix();
    let bin = prefix.join("bin");
    assert_eq!(
        fs::read_link(bin.join("python")).unwrap(),
        Path::new("jython")
    );
    assert_eq!(
        first_line(&bin.join("pip")),
        format!("#!{}/bin/jython", prefix.display())
    );
    assert_eq!(first_line(&bin.join("old")), "#!/usr/bin/env python");
    assert_eq!(first_line(&bin.join("other")), "#!/bin/sh");
    assert_eq!(
        fs::read_to_string(prefix.join("python27-for-installer")).unwrap(),
        "fails\n",
        "the installer saw a working python2.7"
    );
    assert_eq!(s.receipt()["name"], "jython-2.7.2");
    s.env.rehash();
    let out = s
        .env
        .command(s.env.shims().join("jython"))
        .env("STRAP_PYTHON_VERSION", "jython-2.7.2")
        .arg("--version")
        .output()
        .unwrap();
    assert_eq!(
        stdout_of(&out).trim(),
        "Jython 2.7.2",
        "{}",
        stderr_of(&out)
    );
}

#[test]
fn a_jython_whose_launcher_fails_is_not_installed() {
    let s = jython();
    let java_home = fake_java_home(&s.env);
    let out = s
        .install(&[])
        .env("JAVA_HOME", &java_home)
        .env("FAKE_JYTHON_BROKEN", "1")
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("the new interpreter failed verification") && err.contains("main class"),
        "{err}"
    );
    assert!(!s.prefix().exists());
}

//! The catalog of every python-build definition: what `install --list` shows in both modes,
//! what is refused and why, and (against a real pyenv) that the generated catalog holds every
//! definition with its checksums and that pyenv mode lists exactly python-build's names.

use std::fs;
use std::path::{Path, PathBuf};

use predicates::prelude::*;

use crate::support::{stdout_of, TestEnv};

/// `strap install --list` with `args` on an x86_64 machine, as stdout lines.
fn listed(env: &TestEnv, args: &[&str]) -> Vec<String> {
    let out = env
        .strap(&[&["install", "--list"], args].concat())
        .env("STRAP_ARCH", "x86_64")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    stdout_of(&out).lines().map(str::to_owned).collect()
}

#[test]
fn list_shows_every_family_that_installs_here_and_all_adds_the_rest_with_the_reason() {
    let env = TestEnv::new();
    let here = listed(&env, &["--bare"]);
    for name in [
        "3.12.7",
        "3.13.1t",
        "pypy3.10-7.3.17",
        "graalpy-24.1.0",
        "miniforge3-24.11.3-0",
        "anaconda3-2024.10-1",
        "stackless-3.7.5",
        "micropython-1.20.0",
        "jython-2.7.2",
    ] {
        assert!(here.contains(&name.to_owned()), "{name} missing");
    }
    for excluded in [
        "3.14-dev",
        "pypy3.10-7.3.17-src",
        "graalpy-dev",
        "anaconda-1.5.1",
    ] {
        assert!(!here.contains(&excluded.to_owned()), "{excluded} listed");
    }
    let all = listed(
        &env,
        &["--all", "pypy3.10-7.3.17-src", "3.14-dev", "anaconda-1.5.1"],
    );
    assert_eq!(
        all,
        [
            "3.14-dev  (not here: builds the head of a git branch (git clone): a moving target \
             with no checksum to verify; install a release)",
            "anaconda-1.5.1  (not here: python-build has no Linux build of it (none for x86_64 \
             nor any other Linux architecture))",
            "pypy3.10-7.3.17-src  (not here: builds PyPy from source, which takes hours and needs \
             a PyPy or Python 2 to translate it; install pypy3.10-7.3.17, the same PyPy prebuilt)",
        ]
    );
    // On another architecture, what python-build has no build for is not listed.
    let out = env
        .strap(&["install", "--list", "--bare", "pyston"])
        .env("STRAP_ARCH", "i686")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let json = env
        .strap(&[
            "install",
            "--list",
            "--json",
            "--all",
            "pypy3.10-7.3.17-src",
        ])
        .env("STRAP_ARCH", "s390x")
        .output()
        .unwrap();
    let entries: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(
        entries,
        serde_json::json!([{
            "version": "pypy3.10-7.3.17-src", "family": "pypy", "prerelease": false,
            "free_threaded": false, "installed": false,
            "unavailable": "builds PyPy from source, which takes hours and needs a PyPy or \
                Python 2 to translate it; install pypy3.10-7.3.17, the same PyPy prebuilt"
        }])
    );
}

#[test]
fn what_cannot_be_installed_is_refused_with_the_reason_before_anything_is_downloaded() {
    let env = TestEnv::new();
    let refused = |args: &[&str], arch: &str, message: &str| {
        env.strap(&[&["install", "--offline"], args].concat())
            .env("STRAP_ARCH", arch)
            .assert()
            .code(1)
            .stderr(predicate::str::contains(message));
    };
    refused(
        &["pypy3.10-7.3.17-src"],
        "x86_64",
        "strap: error: pypy3.10-7.3.17-src cannot be installed: builds PyPy from source",
    );
    refused(&["3.13-dev"], "x86_64", "builds the head of a git branch");
    refused(
        &["pypy3.10-7.3.17"],
        "s390x",
        "pypy3.10-7.3.17 cannot be installed: python-build has no build of it for s390x, only for \
         x86_64, aarch64, i686",
    );
    refused(
        &["miniconda3-latest"],
        "x86_64",
        "miniconda3-latest has no sha256 to verify its download with: python-build downloads it \
         from a moving URL (a `latest` build) without a checksum; --sha256 HEX installs it with \
         the checksum of the file you verified\nhint: `strap install miniconda3-latest --sha256 \
         HEX` downloads https://",
    );
    refused(
        &["anaconda2-2019.10"],
        "x86_64",
        "python-build checks it by MD5 only (69c64167b8cf3a8fc6b50d12d8476337), which strap does \
         not trust",
    );
    env.strap(&["install", "-p", "pypy3.10"])
        .env("STRAP_ARCH", "x86_64")
        .write_stdin("diff --git a/x b/x\n")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "-p (--patch) patches a CPython-style source build (CPython, Stackless, nogil); \
             pypy3.10-7.3.19 is a PyPy install, which takes none",
        ));
    env.strap(&["install", "-g", "pypy3.10"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "-g (--debug) builds a debug CPython; pypy3.10-7.3.19 is not a CPython release",
        ));
    let empty = |dir: PathBuf| fs::read_dir(dir).map_or(true, |mut d| d.next().is_none());
    assert!(empty(env.root().join("versions")) && empty(env.root().join("cache")));
}

#[test]
fn a_catalog_file_adds_definitions_of_any_family() {
    let env = TestEnv::new();
    let sha = "c".repeat(64);
    let catalog = env.write(
        "catalog.txt",
        &format!(
            "# mine\npypy3.99-7.9.9 pypy py=3.99 x86_64=https://mirror.example/pypy3.99-v7.9.9-linux64.tar.bz2#{sha}\n"
        ),
    );
    let out = env
        .strap(&["install", "--list", "--bare", "pypy3.99"])
        .env("STRAP_PYTHON_CATALOG", &catalog)
        .env("STRAP_ARCH", "x86_64")
        .output()
        .unwrap();
    assert_eq!(stdout_of(&out), "pypy3.99-7.9.9\n", "{out:?}");
    // A malformed line names the file and line.
    let bad = env.write(
        "bad.txt",
        "pypy3.99-7.9.9 pypy x86_64=ftp://h/pypy.tar.bz2\n",
    );
    env.strap(&["install", "--list"])
        .env("STRAP_PYTHON_CATALOG", &bad)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!(
            "strap: error: {}:1: 'ftp://h/pypy.tar.bz2' is not an http(s) or file URL",
            bad.display()
        )))
        .stderr(predicate::str::contains(
            "hint: a catalog line is `NAME FAMILY FIELD...`",
        ));
}

/// The pyenv root `.ci/run` names (a pyenv 2.6.30 checkout with python-build).
fn real_pyenv_root() -> PathBuf {
    PathBuf::from(
        std::env::var_os("STRAP_TEST_PYENV_ROOT")
            .expect("STRAP_TEST_PYENV_ROOT names a pyenv 2.6.30 root (see .ci/run)"),
    )
}

#[test]
#[ignore = "needs a real pyenv 2.6.30: .ci/run names its root in STRAP_TEST_PYENV_ROOT (run with --ignored)"]
fn pyenv_install_list_is_python_builds_list_in_its_order() {
    let python_build = real_pyenv_root().join("plugins/python-build/bin/python-build");
    let theirs = std::process::Command::new(&python_build)
        .arg("--definitions")
        .env_remove("PYTHON_BUILD_DEFINITIONS")
        .output()
        .unwrap();
    assert!(theirs.status.success());
    let theirs: Vec<String> = stdout_of(&theirs).lines().map(str::to_owned).collect();
    assert!(theirs.len() > 1000, "{}", theirs.len());
    let env = TestEnv::new();
    let ours = env
        .strap(&["install", "--list"])
        .env("STRAP_FORCE_ARG0", "pyenv")
        .output()
        .unwrap();
    let ours: Vec<String> = stdout_of(&ours)
        .lines()
        .skip(1) // "Available versions:"
        .map(|l| l.trim_start().to_owned())
        .collect();
    assert_eq!(ours, theirs);
}

/// The text of a python-build definition and of the definitions it sources (one that names a
/// definition python-build does not have adds nothing, as it adds nothing to python-build's run).
fn definition_text(dir: &Path, name: &str) -> String {
    let text = fs::read_to_string(dir.join(name)).unwrap_or_default();
    let sourced: String = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("source \"${BASH_SOURCE%/*}/"))
        .map(|rest| definition_text(dir, rest.trim_end_matches('"')))
        .collect();
    text + &sourced
}

#[test]
#[ignore = "needs a real pyenv 2.6.30: .ci/run names its root in STRAP_TEST_PYENV_ROOT (run with --ignored)"]
fn the_catalog_holds_every_definition_with_the_checksums_it_names() {
    let dir = real_pyenv_root().join("plugins/python-build/share/python-build");
    let catalog =
        fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/python/catalog.txt"))
            .unwrap();
    let lines: std::collections::HashMap<&str, &str> = catalog
        .lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("dep "))
        .filter_map(|l| l.split_once(' '))
        .collect();
    let hex64 = |text: &str| -> Vec<String> {
        text.split(|c: char| !c.is_ascii_hexdigit())
            .filter(|w| w.len() == 64)
            .map(str::to_ascii_lowercase)
            .collect()
    };
    let mut checked = 0;
    for entry in fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if dir.join(&name).is_dir() {
            continue; // patches/
        }
        let (listed_as, flag) = match lines.get(name.as_str()) {
            Some(_) => (name.as_str(), None),
            None => (name.trim_end_matches('t'), Some("t")),
        };
        let fields = lines
            .get(listed_as)
            .unwrap_or_else(|| panic!("{name} is not in the catalog"));
        if let Some(flag) = flag {
            assert!(
                fields.split(' ').any(|f| f == flag),
                "{name}: {listed_as} lacks the `t` flag"
            );
            continue;
        }
        let text = definition_text(&dir, &name);
        let theirs = hex64(&text);
        for sha in hex64(fields) {
            assert!(
                theirs.contains(&sha),
                "{name}: {sha} is not in its definition"
            );
        }
        checked += 1;
    }
    assert!(checked > 1000, "{checked}");
}

#[test]
#[ignore = "needs a real pyenv 2.6.30: .ci/run names its root in STRAP_TEST_PYENV_ROOT (run with --ignored)"]
fn the_generator_reproduces_the_embedded_catalog_from_python_builds_definitions() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let generated = std::process::Command::new("python3")
        .arg(repo.join("scripts/gen-python-catalog.py"))
        .arg(real_pyenv_root().join("plugins/python-build"))
        .output()
        .unwrap();
    assert!(generated.status.success(), "{generated:?}");
    let embedded = fs::read_to_string(repo.join("src/python/catalog.txt")).unwrap();
    assert!(
        stdout_of(&generated) == embedded,
        "src/python/catalog.txt is not what scripts/gen-python-catalog.py makes of this pyenv's \
         definitions: regenerate it"
    );
}

#[test]
fn python_build_definitions_directories_and_definition_files_join_the_catalog() {
    let env = TestEnv::new();
    let sha = "d".repeat(64);
    env.write(
        "defs/pypy3.99-mine",
        &format!(
            "# a definition of our own\ninstall_package \"pypy3.99\" \
             \"http://127.0.0.1:9/pypy3.99-v1-linux64.tar.bz2#{sha}\" pypy verify_py399 ensurepip\n"
        ),
    );
    env.write(
        "defs/broken",
        "install_package x y standard\nmake me a sandwich\n",
    );
    let out = env
        .strap(&["install", "--list"])
        .env("STRAP_FORCE_ARG0", "pyenv")
        .env("PYTHON_BUILD_DEFINITIONS", env.dir.path().join("defs"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    // Every file is listed, as python-build lists them; one strap cannot read is refused.
    let listed = stdout_of(&out);
    assert!(
        listed.contains("\n  broken\n") && listed.contains("\n  pypy3.99-mine\n"),
        "{listed}"
    );
    env.strap(&["install", "broken"])
        .env("PYTHON_BUILD_DEFINITIONS", env.dir.path().join("defs"))
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "broken cannot be installed: strap cannot read its definition: ",
        ))
        .stderr(predicate::str::contains(
            "defs/broken:2: strap does not understand this line of a definition: make me a \
             sandwich",
        ));
    // Answering as pyenv, a definition file in the current directory is one, as for
    // python-build (here it needs a checksum it does not have).
    env.write(
        "work/mydef",
        "install_package \"pypy3.99\" \"http://127.0.0.1:9/pypy3.99-v1-linux64.tar.bz2\" pypy\n",
    );
    env.strap(&["install", "mydef"])
        .env("STRAP_FORCE_ARG0", "pyenv")
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "pyenv: mydef has no sha256 to verify its download with: its definition gives no \
             sha256 for the download",
        ))
        .stderr(predicate::str::contains(
            "; --sha256 HEX installs it with the checksum",
        ));
    // A prefix is not what a checksum is of.
    env.strap(&["install", "--sha256", &sha, "pypy3.10"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "--sha256 needs an exact version such as 3.12.7, not 'pypy3.10'",
        ));
    // `install PATH/TO/DEFINITION`: a file that is not a definition strap can read is refused
    // with its line, before anything happens.
    let file = env.write(
        "mydef",
        "install_package \"Python-3.12.7\" \"https://h/Python-3.12.7.tgz#abc\" standard\n",
    );
    env.strap(&["install", file.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!(
            "strap: error: {}:1: 'abc' is not a sha256",
            file.display()
        )));
    let file = env.write("shell", "curl https://h/x | sh\n");
    env.strap(&["install", file.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            ":1: strap does not understand this line of a definition: curl https://h/x | sh",
        ));
}

#[test]
fn a_bootstrap_manifest_takes_any_catalog_name() {
    let env = TestEnv::new();
    env.write(
        "work/strap.toml",
        "[python]\nversions = [\"pypy3.10\", \"miniforge3-24.11.3-0\", \"pypy3.10-7.3.17-src\"]\n",
    );
    let out = env
        .strap(&["bootstrap", "--dry-run", "--json", "--only", "python"])
        .env("STRAP_ARCH", "x86_64")
        .output()
        .unwrap();
    let plan: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {out:?}"));
    let items = plan["items"].as_array().unwrap();
    let state = |i: usize| {
        (
            items[i]["name"].clone(),
            items[i]["state"].clone(),
            items[i]["detail"].clone(),
        )
    };
    assert_eq!(items.len(), 3, "{plan}");
    assert_eq!(state(0).1, "pending", "{plan}");
    assert_eq!(state(0).2, "install pypy3.10-7.3.19", "{plan}");
    assert_eq!(state(1).1, "pending", "{plan}");
    assert_ne!(state(2).1, "pending", "{plan}");
    assert!(
        items[2].to_string().contains("builds PyPy from source"),
        "{plan}"
    );
}

#[test]
fn an_unknown_name_of_a_family_gets_that_familys_nearest_names() {
    let env = TestEnv::new();
    env.strap(&["install", "pypy3.99"])
        .assert()
        .code(1)
        .stderr(predicate::str::starts_with(
            "strap: error: unknown version 'pypy3.99'; nearest known: pypy3.9-",
        ))
        .stderr(predicate::str::contains("strap install PATH/TO/DEFINITION"));
}

#[test]
fn build_options_given_for_a_prebuilt_install_are_said_to_be_unused() {
    let env = TestEnv::new();
    env.strap(&[
        "install",
        "--offline",
        "--configure-opts=--enable-x",
        "pypy3.10-7.3.17",
    ])
    .env("STRAP_ARCH", "x86_64")
    .assert()
    .code(1)
    .stderr(predicate::str::contains(
        "strap: warning: configure, compiler and make options are for CPython-style \
             builds; pypy3.10-7.3.17 is a PyPy install, which does not use them",
    ));
}

#[test]
fn control_characters_from_a_definition_file_are_shown_not_sent_to_the_terminal() {
    let env = TestEnv::new();
    let file = env.write("evil", "\u{1b}[2J\u{1b}]0;owned\u{7}\n");
    let out = env
        .strap(&["install", file.to_str().unwrap()])
        .output()
        .unwrap();
    let err = crate::support::stderr_of(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(!err.contains('\u{1b}') && !err.contains('\u{7}'), "{err:?}");
    assert!(err.contains("\\x1b[2J\\x1b]0;owned\\x07"), "{err}");
}

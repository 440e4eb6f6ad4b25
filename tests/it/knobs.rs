//! python-build's knobs (`PYTHON_CONFIGURE_OPTS`, `CONFIGURE_OPTS`, `PYTHON_CFLAGS`,
//! `PYTHON_CPPFLAGS`, `PYTHON_LDFLAGS`, `MAKE_OPTS`, `PYTHON_MAKE_OPTS`, `MAKE_INSTALL_OPTS`,
//! `PYTHON_MAKE_INSTALL_OPTS`): what the fake source's `configure` and `make` receive, their
//! precedence against strap's own settings, and the build cache's key.

use std::fs;

use crate::support::{stderr_of, Setup};

/// Every build log of the test root, concatenated.
fn logs(s: &Setup) -> String {
    fs::read_dir(s.env.root().join("logs"))
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| fs::read_to_string(e.path()).unwrap())
        .collect()
}

/// The logged command line starting with `start`.
fn command<'a>(log: &'a str, start: &str) -> &'a str {
    log.lines()
        .find(|l| l.starts_with(start))
        .unwrap_or_else(|| panic!("no `{start}` in {log}"))
}

#[test]
fn python_build_variables_reach_configure_and_make() {
    let s = Setup::new();
    let out = s
        .install(&["a"], &["--configure-opts", "--from-flag"])
        .env("CONFIGURE_OPTS", "--from-configure-opts")
        .env("PYTHON_CONFIGURE_OPTS", "--with-foo  CFLAGS=-O1")
        .env("STRAP_CONFIGURE_OPTS", "--from-strap")
        .env("CFLAGS", "-g")
        .env("PYTHON_CFLAGS", "-O1")
        .env("PYTHON_CPPFLAGS", "-DX=1")
        .env("PYTHON_LDFLAGS", "-Lextra")
        .env("MAKE_OPTS", "-j 3 V=1")
        .env("PYTHON_MAKE_OPTS", "W=2")
        .env("MAKE_INSTALL_OPTS", "I=1")
        .env("PYTHON_MAKE_INSTALL_OPTS", "J=2")
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert!(out.status.success(), "{err}");
    let log = logs(&s);
    let configure = command(&log, "$ ./configure ");
    assert!(
        configure.ends_with(
            " --with-ensurepip=no --from-configure-opts --with-foo CFLAGS=-O1 --from-strap --from-flag"
        ),
        "{configure}"
    );
    assert!(
        log.contains("checking flags... CFLAGS=-g -O1 CPPFLAGS=-DX=1 LDFLAGS=-Lextra"),
        "{log}"
    );
    assert_eq!(command(&log, "$ make -j"), "$ make -j3 V=1 W=2");
    assert!(
        command(&log, "$ make install ").ends_with(" I=1 J=2"),
        "{log}"
    );
    assert!(err.contains("==> compile: make -j3 V=1 W=2"), "{err}");
    assert!(
        err.contains("CFLAGS+=-O1 CPPFLAGS+=-DX=1 LDFLAGS+=-Lextra; log:"),
        "{err}"
    );
    let receipt = fs::read_to_string(s.prefix().join("strap-receipt.json")).unwrap();
    assert!(
        receipt.contains("CFLAGS+=-O1") && receipt.contains("--with-foo"),
        "{receipt}"
    );
}

#[test]
fn jobs_flag_and_strap_jobs_win_over_make_opts() {
    let s = Setup::new();
    s.install(&["a"], &["--jobs", "2"])
        .env("MAKE_OPTS", "-j7")
        .assert()
        .success();
    assert_eq!(command(&logs(&s), "$ make -j"), "$ make -j2");
    let s = Setup::new();
    s.install(&["a"], &[])
        .env("MAKE_OPTS", "-j7")
        .env("STRAP_JOBS", "4")
        .assert()
        .success();
    assert_eq!(command(&logs(&s), "$ make -j"), "$ make -j4");
    let s = Setup::new();
    s.install(&["a"], &[])
        .env("MAKE_OPTS", "-j")
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "MAKE_OPTS: '-j' must name a number of build jobs",
        ));
}

#[test]
fn a_cached_build_with_other_python_build_options_is_not_served() {
    let s = Setup::new();
    s.install(&["a"], &[])
        .env("PYTHON_CONFIGURE_OPTS", "--with-foo")
        .assert()
        .success();
    let out = s
        .install(&["a"], &["--force"])
        .env("PYTHON_CONFIGURE_OPTS", "--with-bar")
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("==> configure"), "rebuilt: {err}");
    let out = s
        .install(&["a"], &["--force"])
        .env("PYTHON_CFLAGS", "-O1")
        .env("PYTHON_CONFIGURE_OPTS", "--with-bar")
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert!(err.contains("==> configure"), "rebuilt: {err}");
    let out = s
        .install(&["a"], &["--force"])
        .env("PYTHON_CONFIGURE_OPTS", "--with-bar")
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert!(!err.contains("==> configure"), "from the cache: {err}");
}

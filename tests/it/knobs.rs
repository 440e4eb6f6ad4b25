//! python-build's knobs (`PYTHON_CONFIGURE_OPTS`, `CONFIGURE_OPTS`, `PYTHON_CFLAGS`,
//! `PYTHON_CPPFLAGS`, `PYTHON_LDFLAGS`, `MAKE_OPTS`, `PYTHON_MAKE_OPTS`, `MAKE_INSTALL_OPTS`,
//! `PYTHON_MAKE_INSTALL_OPTS`): what the fake source's `configure` and `make` receive, their
//! precedence against strap's own settings, and the build cache's key.

use std::fs;

use crate::fake_source::{flag_logging_python_tgz, sha256_hex};
use crate::mirror::Behavior;

use crate::support::{stderr_of, Setup, FILE, VERSION};

/// [`Setup`] whose archive's `configure` logs the compiler flags it sees.
fn flag_logging_setup() -> Setup {
    let mut s = Setup::new();
    s.archive = flag_logging_python_tgz(VERSION);
    s.sha = sha256_hex(&s.archive);
    s.mirror
        .route(&format!("/a/{FILE}"), Behavior::Serve(s.archive.clone()));
    s
}

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
    let s = flag_logging_setup();
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

/// `strap install` of the fake version without `--mirror`, with `env` set.
fn install_without_mirror_flag(s: &Setup, env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = s
        .env
        .strap(&["install", "--skip-preflight", "--sha256", &s.sha, VERSION]);
    cmd.env("STRAP_PYTHON_MIRRORS", s.mirror.template("missing"));
    cmd.envs(env.iter().copied());
    cmd.timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap()
}

#[test]
fn python_build_mirror_url_is_the_first_mirror_unless_skipped_or_mirror_is_given() {
    let s = Setup::new();
    s.mirror.route(
        &format!("/pb/{}", s.sha),
        Behavior::Serve(s.archive.clone()),
    );
    let base = s.mirror.template("pb");
    let base = base.trim_end_matches("{file}");
    let out = install_without_mirror_flag(
        &s,
        &[
            ("PYTHON_BUILD_SKIP_MIRROR", "1"),
            ("PYTHON_BUILD_MIRROR_URL", base),
        ],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    let out = s
        .install(&["missing"], &[])
        .env("PYTHON_BUILD_MIRROR_URL", base)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "--mirror wins: {}",
        stderr_of(&out)
    );
    let out = install_without_mirror_flag(&s, &[("PYTHON_BUILD_MIRROR_URL", base)]);
    let err = stderr_of(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains(&format!("/pb/{}", s.sha)), "{err}");
    let out = install_without_mirror_flag(&s, &[("PYTHON_BUILD_MIRROR_URL", "ftp://x")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_of(&out).contains("(from PYTHON_BUILD_MIRROR_URL)"));
}

#[test]
fn pyenv_install_passes_python_build_variables_too() {
    let s = Setup::new();
    let out = s
        .install(&["a"], &[])
        .env("STRAP_FORCE_ARG0", "pyenv")
        .env("PYENV_ROOT", s.env.root())
        .env_remove("STRAP_ROOT")
        .env("PYTHON_CONFIGURE_OPTS", "--with-foo")
        .env("PYTHON_MAKE_OPTS", "V=1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let log = logs(&s);
    assert!(
        command(&log, "$ ./configure ").ends_with(" --with-foo"),
        "{log}"
    );
    assert!(command(&log, "$ make -j").ends_with(" V=1"), "{log}");
}

#[test]
fn python_build_cache_path_is_the_download_cache_unless_strap_cache_dir_is_set() {
    let s = Setup::new();
    let cache = s.env.home().join("pb-cache");
    fs::create_dir_all(&cache).unwrap();
    fs::write(cache.join(FILE), &s.archive).unwrap();
    let empty = s.env.home().join("empty-cache");
    fs::create_dir_all(&empty).unwrap();
    s.install(&["missing"], &["--offline"])
        .env("PYTHON_BUILD_CACHE_PATH", &cache)
        .env("STRAP_CACHE_DIR", &empty)
        .assert()
        .code(1);
    let out = s
        .install(&["missing"], &["--offline"])
        .env("PYTHON_BUILD_CACHE_PATH", &cache)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
}

/// `CFLAGS`, `CPPFLAGS` and `LDFLAGS` as a flag-logging `configure` printed them in `output`.
fn flags_seen(output: &str) -> [String; 3] {
    let line = output
        .lines()
        .find_map(|l| l.strip_prefix("checking flags... CFLAGS="))
        .unwrap_or_else(|| panic!("no flags line in {output}"));
    let (cflags, rest) = line.split_once(" CPPFLAGS=").unwrap();
    let (cppflags, ldflags) = rest.split_once(" LDFLAGS=").unwrap();
    [cflags, cppflags, ldflags].map(str::to_owned)
}

#[test]
#[ignore = "needs pyenv's python-build: .ci/run names it in STRAP_TEST_PYTHON_BUILD (run with --ignored)"]
fn configure_sees_what_pyenvs_python_build_passes() {
    let python_build = std::env::var("STRAP_TEST_PYTHON_BUILD")
        .expect("STRAP_TEST_PYTHON_BUILD names pyenv's python-build (see .ci/run)");
    let knobs = [
        ("CONFIGURE_OPTS", "--a"),
        ("PYTHON_CONFIGURE_OPTS", "--with-foo  CFLAGS=-O1"),
        ("PYTHON_CFLAGS", "-O1"),
        ("PYTHON_CPPFLAGS", "-DX=1"),
        ("PYTHON_LDFLAGS", "-Lextra"),
    ];
    let s = flag_logging_setup();
    let out = s.install(&["a"], &[]).envs(knobs).output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let log = logs(&s);
    let strap_args: Vec<&str> = command(&log, "$ ./configure ").split(' ').collect();
    let ours = flags_seen(&log);

    let dir = s.env.home().join("python-build");
    fs::create_dir_all(dir.join("build")).unwrap();
    fs::write(dir.join("Python.tgz"), &s.archive).unwrap();
    let definition = dir.join("definition");
    let url = format!("file://{}#{}", dir.join("Python.tgz").display(), s.sha);
    fs::write(
        &definition,
        format!("install_package \"Python-{VERSION}\" \"{url}\" standard\n"),
    )
    .unwrap();
    let out = s
        .env
        .command(&python_build)
        .args(["-k", "-v"])
        .arg(&definition)
        .arg(dir.join("prefix"))
        .env("PYTHON_BUILD_BUILD_PATH", dir.join("build"))
        .env("PYTHON_BUILD_SKIP_MIRROR", "1")
        .env("TMPDIR", &dir)
        .envs(knobs)
        .output()
        .unwrap();
    let shown = crate::support::stdout_of(&out);
    let theirs = fs::read_to_string(dir.join(format!("build/Python-{VERSION}/configure.args")))
        .unwrap_or_else(|e| panic!("python-build ran no configure ({e}): {shown}"));
    let theirs: Vec<&str> = theirs.lines().collect();
    // After each tool's own options (prefix, libdir, shared), the user's, in the same order.
    let user = ["--a", "--with-foo", "CFLAGS=-O1"];
    assert!(theirs.ends_with(&user), "python-build: {theirs:?}");
    assert!(strap_args.ends_with(&user), "strap: {strap_args:?}");
    // python-build adds its prefix's include and lib directories (and an absolute rpath, which
    // strap's relative run path replaces) before the user's flags; the user's come last in both.
    assert_eq!(ours, ["-O1", "-DX=1", "-Lextra"]);
    let theirs = flags_seen(&shown);
    for (theirs, ours) in theirs.iter().zip(&ours) {
        assert!(
            theirs.ends_with(ours.as_str()),
            "python-build: {theirs}, strap: {ours}"
        );
    }
}

/// A `git diff` of the fake source that makes its interpreter report `+patched`.
fn version_patch() -> String {
    format!(
        "diff --git a/fakepython b/fakepython\n\
         --- a/fakepython\n\
         +++ b/fakepython\n\
         @@ -1,3 +1,3 @@\n\
         \x20#!/bin/sh\n\
         \x20here=$(cd \"$(dirname \"$0\")/..\" && pwd)\n\
         -case \"$1\" in --version|-V) echo \"Python {VERSION}\"; exit 0 ;; esac\n\
         +case \"$1\" in --version|-V) echo \"Python {VERSION}+patched\"; exit 0 ;; esac\n"
    )
}

#[test]
fn a_patch_on_stdin_is_applied_before_configure_and_is_part_of_the_key() {
    let s = Setup::new();
    let python = s.prefix().join("bin/python3");
    let version = || {
        let out = std::process::Command::new(&python)
            .arg("--version")
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    s.install(&["a"], &[]).assert().success();
    assert_eq!(version(), format!("Python {VERSION}\n"));
    // The same version with a patch is another build: not served from the cache.
    let patch = version_patch();
    let out = s
        .install(&["a"], &["--force", "-p"])
        .write_stdin(patch.clone())
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("==> patch: patch -p1 (sha256 "), "{err}");
    assert!(err.contains("==> configure"), "rebuilt: {err}");
    assert_eq!(version(), format!("Python {VERSION}+patched\n"));
    let receipt = fs::read_to_string(s.prefix().join("strap-receipt.json")).unwrap();
    let sha = sha256_hex(patch.as_bytes());
    assert!(
        receipt.contains(&format!("patch=sha256:{sha}")),
        "{receipt}"
    );
    // Again with the same patch: served from the build cache.
    let out = s
        .install(&["a"], &["--force", "-p"])
        .write_stdin(patch)
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert!(
        out.status.success() && !err.contains("==> configure"),
        "{err}"
    );
    assert_eq!(version(), format!("Python {VERSION}+patched\n"));
}

#[test]
fn a_patch_that_does_not_apply_installs_nothing_and_no_patch_is_refused() {
    let s = Setup::new();
    let bad = version_patch().replace(
        &format!("-case \"$1\" in --version|-V) echo \"Python {VERSION}\""),
        "-case \"$1\" in --version|-V) echo \"Python 0.0.0\"",
    );
    s.install(&["a"], &["-p"])
        .write_stdin(bad)
        .assert()
        .code(1)
        .stderr(predicates::str::contains("building 3.99.1 failed"));
    s.assert_nothing_installed();
    s.install(&["a"], &["-p"])
        .write_stdin("\n")
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "-p (--patch): stdin holds no patch",
        ));
    // pyenv mode takes the same flag.
    let out = s
        .install(&["a"], &["-p"])
        .env("STRAP_FORCE_ARG0", "pyenv")
        .write_stdin(version_patch())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
}

//! `strap install` end to end with a generated source tree served from a loopback mirror:
//! the pipeline, misbehaving mirrors, the cache, hostile archives, preflight, verification,
//! concurrency and interruption.

use std::fs;
use std::time::Duration;

use predicates::prelude::*;

use crate::fake_source::{fake_openssl_tgz, fake_python_tgz, raw_tgz, sha256_hex};
use crate::mirror::{Behavior, Mirror};
use crate::support::{
    signal, stderr_of, stdout_of, wait_for_exit, wait_while_running, write_script, Setup, TestEnv,
    Watched,
};

const VERSION: &str = "3.99.1";
const FILE: &str = "Python-3.99.1.tgz";

#[test]
fn installs_from_a_loopback_mirror_and_runs_through_the_shim() {
    let s = Setup::new();
    s.install(&["a"], &[])
        .assert()
        .success()
        .stderr(predicate::str::contains(format!("installed {VERSION}")));
    let bin = s.prefix().join("bin");
    for name in ["python3", "python", "pip3", "pip"] {
        assert!(bin.join(name).exists(), "bin/{name} missing");
    }
    // configure got the prefix, shared libraries, the rpath and pip.
    assert_eq!(
        crate::support::tmp_entries(&s.env.root()),
        Vec::<std::path::PathBuf>::new(),
        "the build tree was not removed"
    );
    assert!(s.env.root().join("cache").join(FILE).is_file());
    let logs: Vec<_> = fs::read_dir(s.env.root().join("logs"))
        .unwrap()
        .filter_map(Result::ok)
        .collect();
    let log = fs::read_to_string(logs[0].path()).unwrap();
    let prefix = s.prefix().display().to_string();
    assert!(log.contains(&format!("--prefix={prefix}")), "{log}");
    assert!(log.contains("--enable-shared"));
    assert!(
        log.contains("checking the run path the linker gets... $ORIGIN/../lib\n"),
        "binaries find lib/ relative to themselves: {log}"
    );
    assert!(!log.contains("rpath"), "{log}");
    assert!(
        log.contains("_bundled/pip-99.0-py3-none-any.whl install"),
        "pip is not installed from the bundled wheel:\n{log}"
    );
    assert!(log.contains("compiling the fake interpreter"));
    // Rehashed: the shim runs the new interpreter.
    s.env.strap(&["global", VERSION]).assert().success();
    s.env
        .command(s.env.shims().join("python3"))
        .args(["-c", "print('hello from the shim')"])
        .assert()
        .success()
        .stdout("hello from the shim\n");
    s.env
        .command(s.env.shims().join("pip"))
        .assert()
        .stdout("pip 99.0 (fake)\n");
}

#[test]
fn verbose_shows_the_build_output_and_phases_are_reported() {
    let s = Setup::new();
    s.install(&["a"], &["-v"])
        .assert()
        .success()
        .stderr(predicate::str::contains("compiling the fake interpreter"))
        .stderr(predicate::str::contains("checking for a fake compiler"));
    let out = s.install(&["a"], &["-f", "--no-binary"]).output().unwrap();
    let err = stderr_of(&out);
    assert!(!err.contains("compiling the fake interpreter"), "{err}");
    for phase in [
        "download",
        "unpack",
        "configure",
        "compile",
        "install",
        "verify",
    ] {
        assert!(
            err.contains(&format!("==> {phase}:")),
            "phase {phase} not shown:\n{err}"
        );
        assert!(
            err.contains(&format!("    {phase} done in ")),
            "{phase} has no elapsed time:\n{err}"
        );
    }
}

#[test]
fn already_installed_skip_existing_and_force() {
    let s = Setup::new();
    s.install(&["a"], &[]).assert().success();
    let downloads = s.mirror.requests().len();
    fs::write(s.prefix().join("marker"), "old").unwrap();
    // A second run (a setup script run again) succeeds and changes nothing.
    s.install(&["a"], &[])
        .assert()
        .success()
        .stderr(predicate::str::contains(format!(
            "strap: {VERSION} is already installed in {} (-f reinstalls it; with --no-binary, from source)",
            s.prefix().display()
        )))
        .stderr(predicate::str::contains("==>").not());
    s.install(&["a"], &["-s"])
        .assert()
        .success()
        .stderr(predicate::str::contains("is already installed"));
    assert!(s.prefix().join("marker").exists(), "an install was redone");
    assert_eq!(s.mirror.requests().len(), downloads);
    s.install(&["a"], &["-f"]).assert().success();
    assert!(
        !s.prefix().join("marker").exists(),
        "-f did not replace the old install"
    );
    assert!(s.prefix().join("bin/python3").exists());
    assert!(
        s.prefix().join("bin/pip3").exists(),
        "a reinstall must install pip again"
    );
    s.install(&["a"], &["-f", "--no-pip"]).assert().success();
    assert!(
        !s.prefix().join("bin/pip3").exists(),
        "--no-pip installed pip"
    );
    assert!(!s.prefix().join("bin/pip").exists());
}

#[test]
fn a_reinstall_keeps_the_virtualenvs_and_a_failed_one_keeps_the_old_install() {
    let s = Setup::new();
    s.install(&["a"], &[]).assert().success();
    let proj = crate::support::fake_virtualenv(&s.env, VERSION, "proj");
    fs::write(proj.join("notes.txt"), "mine").unwrap();
    let link = s.env.root().join("versions/proj");
    // A rebuild that fails leaves the old install with its envs.
    s.install(&["a"], &["-f", "--no-binary"])
        .env("FAKE_CONFIGURE_FAIL", "1")
        .assert()
        .failure();
    assert!(s.prefix().join("bin/python3").exists());
    assert_eq!(fs::read_to_string(proj.join("notes.txt")).unwrap(), "mine");
    // A rebuild that succeeds carries them into the new prefix, and says so.
    fs::write(s.prefix().join("marker"), "old").unwrap();
    s.install(&["a"], &["-f", "--no-binary"])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "kept the virtualenvs of the replaced install in envs/: proj\n",
        ));
    assert!(!s.prefix().join("marker").exists(), "-f did not rebuild");
    assert_eq!(fs::read_to_string(proj.join("notes.txt")).unwrap(), "mine");
    assert_eq!(
        fs::canonicalize(&link).unwrap(),
        fs::canonicalize(&proj).unwrap()
    );
    assert!(link.join("bin/python").exists(), "versions/proj dangles");
}

#[test]
fn not_found_then_a_good_mirror() {
    let s = Setup::new();
    s.mirror
        .route(&format!("/bad/{FILE}"), Behavior::Status(404));
    // A mirror without this format is normal (it may hold only another one): no warning.
    let out = s.install(&["bad", "a"], &[]).output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(
        !stderr_of(&out)
            .lines()
            .any(|l| l.contains("warning") || l.contains("HTTP 404")),
        "{}",
        stderr_of(&out)
    );
}

#[test]
fn server_error_then_wrong_bytes_then_a_good_mirror() {
    let s = Setup::new();
    s.mirror
        .route(&format!("/err/{FILE}"), Behavior::Status(500));
    s.mirror.route(
        &format!("/liar/{FILE}"),
        Behavior::Serve(b"not the archive".to_vec()),
    );
    s.install(&["err", "liar", "a"], &[])
        .assert()
        .success()
        .stderr(predicate::str::contains("HTTP 500"))
        .stderr(predicate::str::contains("checksum mismatch"));
    assert_eq!(
        fs::read(s.env.root().join("cache").join(FILE)).unwrap(),
        s.archive
    );
}

#[test]
fn a_dropped_connection_is_resumed_with_a_range_request() {
    let s = Setup::new();
    let cut = s.archive.len() / 2;
    s.mirror.route(
        &format!("/flaky/{FILE}"),
        Behavior::DropAfter(s.archive.clone(), cut),
    );
    s.install(&["flaky", "a"], &[]).assert().success();
    let resumed = s
        .mirror
        .requests()
        .into_iter()
        .find(|r| r.path == format!("/a/{FILE}"))
        .expect("the second mirror was asked");
    assert_eq!(
        resumed.range.as_deref(),
        Some(format!("bytes={cut}-").as_str())
    );
    assert_eq!(
        sha256_hex(&fs::read(s.env.root().join("cache").join(FILE)).unwrap()),
        s.sha
    );
}

#[test]
fn a_partial_download_is_kept_and_resumed_by_the_next_run() {
    let s = Setup::new();
    let cut = s.archive.len() / 2;
    s.mirror.route(
        &format!("/flaky/{FILE}"),
        Behavior::DropAfter(s.archive.clone(), cut),
    );
    s.install(&["flaky"], &[])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("every mirror failed"));
    let part = s.env.root().join("cache").join(format!("{FILE}.part"));
    assert_eq!(fs::metadata(&part).unwrap().len(), cut as u64);
    s.install(&["flaky"], &[]).assert().success();
    let last = s
        .mirror
        .requests()
        .into_iter()
        .rfind(|r| r.path.ends_with(FILE))
        .unwrap();
    assert_eq!(last.range, Some(format!("bytes={cut}-")));
    assert!(!part.exists());
}

#[test]
fn a_stalled_mirror_times_out_and_the_next_is_used() {
    let s = Setup::new();
    // On a host of its own: a host that stalled is not asked again in the same run.
    let stalling = Mirror::start();
    stalling.route(&format!("/stall/{FILE}"), Behavior::Stall);
    s.env
        .strap(&["install", "--skip-preflight", "--sha256", &s.sha])
        .args(["--mirror", &stalling.template("stall")])
        .args(["--mirror", &s.mirror.template("a"), VERSION])
        .env("STRAP_DOWNLOAD_TIMEOUT", "1")
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "no data for 1s (STRAP_DOWNLOAD_TIMEOUT sets how long to wait)",
        ));
}

#[test]
fn a_trickling_mirror_is_given_up_as_too_slow_and_the_next_is_used() {
    let s = Setup::new();
    // On a host of its own: a host given up on is not asked again in the same run.
    let trickling = Mirror::start();
    trickling.route(
        &format!("/slow/{FILE}"),
        Behavior::Trickle(s.archive.clone(), Duration::from_millis(50)),
    );
    s.env
        .strap(&["install", "--skip-preflight", "--sha256", &s.sha])
        .args(["--mirror", &trickling.template("slow")])
        .args(["--mirror", &s.mirror.template("a"), VERSION])
        .env("STRAP_DOWNLOAD_TIMEOUT", "1")
        .timeout(Duration::from_secs(60))
        .assert()
        .success()
        .stderr(predicate::str::is_match(
            r"slow/Python-3\.99\.1\.tgz: only \d+ bytes in the last 1s: too slow \(under 1024 bytes a second over STRAP_DOWNLOAD_TIMEOUT seconds\)",
        ).unwrap());
}

/// Also across roots sharing one download cache (`STRAP_CACHE_DIR`): its files' locks are in
/// the cache.
#[test]
fn a_download_another_process_finished_while_this_one_waited_is_taken_from_the_cache() {
    let s = Setup::new();
    s.mirror.route(
        &format!("/d/{FILE}"),
        Behavior::Delayed(s.archive.clone(), Duration::from_secs(3)),
    );
    let shared = s.env.dir.path().join("shared-cache");
    let roots = [s.env.root(), s.env.dir.path().join("other-root")];
    let fetch = |root: &std::path::Path| {
        s.env
            .strap_process(&["install", "--skip-preflight", "--fetch-only"])
            .env("STRAP_ROOT", root)
            .env("STRAP_CACHE_DIR", &shared)
            .args([
                "--sha256",
                &s.sha,
                "--mirror",
                &s.mirror.template("d"),
                VERSION,
            ])
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let gets = || {
        let path = format!("/d/{FILE}");
        s.mirror
            .requests()
            .iter()
            .filter(|r| r.path == path)
            .count()
    };
    let mut first = fetch(&roots[0]);
    wait_while_running(&mut first, "the first download", || gets() == 1);
    let mut second = Watched::new(fetch(&roots[1]));
    second.wait_for_stderr(&format!(
        "waiting for another strap process downloading {FILE}"
    ));
    assert!(wait_for_exit(&mut first, "the first fetch").success());
    let (status, err) = second.finish();
    assert!(status.success(), "{err}");
    assert!(err.contains("from the cache (sha256 verified)"), "{err}");
    assert_eq!(gets(), 1, "{err}");
}

#[test]
fn when_every_mirror_fails_each_is_named_with_its_reason() {
    let s = Setup::new();
    s.mirror
        .route(&format!("/err/{FILE}"), Behavior::Status(503));
    let dead = "http://127.0.0.1:9/{file}";
    let out = s
        .env
        .strap(&[
            "install",
            "--skip-preflight",
            "--sha256",
            &s.sha,
            "--mirror",
            &s.mirror.template("err"),
            "--mirror",
            dead,
            VERSION,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr_of(&out);
    assert!(
        err.contains(
            "could not download Python-3.99.1.tar.xz or Python-3.99.1.tgz; every mirror failed:"
        ),
        "{err}"
    );
    assert!(err.contains(&format!("/err/{FILE}: HTTP 503")), "{err}");
    assert!(
        err.contains("127.0.0.1:9/Python-3.99.1.tgz: cannot connect"),
        "{err}"
    );
    assert!(err.contains("hint: add a reachable mirror"), "{err}");
    s.assert_nothing_installed();
}

#[test]
fn file_mirrors_and_the_sha256_placeholder() {
    let s = Setup::new();
    let dir = s.env.dir.path().join("srv");
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join(&s.sha), &s.archive).unwrap();
    let template = format!("file://{}/{{sha256}}", dir.display());
    s.env
        .strap(&[
            "install",
            "--skip-preflight",
            "--sha256",
            &s.sha,
            "--mirror",
            &template,
            VERSION,
        ])
        .assert()
        .success();
    assert!(s.prefix().join("bin/python3").exists());
}

#[test]
fn mirrors_from_the_environment_and_the_config_file() {
    let s = Setup::new();
    s.mirror
        .route(&format!("/cfg/{FILE}"), Behavior::Serve(s.archive.clone()));
    let config = s.env.write(
        "home/strap.toml",
        &format!("[python]\nmirrors = [\"{}\"]\n", s.mirror.template("cfg")),
    );
    s.env
        .strap(&["install", "--skip-preflight", "--sha256", &s.sha, VERSION])
        .env("STRAP_CONFIG", &config)
        .assert()
        .success();
    assert!(s
        .mirror
        .requests()
        .iter()
        .any(|r| r.path == format!("/cfg/{FILE}")));
    s.env
        .strap(&[
            "install",
            "-f",
            "--skip-preflight",
            "--sha256",
            &s.sha,
            VERSION,
        ])
        .env("STRAP_CACHE_DIR", s.env.dir.path().join("other-cache"))
        .env(
            "STRAP_PYTHON_MIRRORS",
            format!("http://127.0.0.1:9/{{file}}, {}", s.mirror.template("a")),
        )
        .assert()
        .success();
    assert!(s.env.dir.path().join("other-cache").join(FILE).exists());
}

#[test]
fn a_malformed_config_file_is_reported_with_its_line() {
    let s = Setup::new();
    let config = s
        .env
        .write("home/strap.toml", "[python]\njobs = 2\nmirrors = \"one\"\n");
    // A bad config value is a usage error (exit 2), like a bad flag.
    s.install(&["a"], &[])
        .env("STRAP_CONFIG", &config)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!("{}:3:", config.display())));
    s.assert_nothing_installed();
}

#[test]
fn cache_first_a_mismatching_cached_file_is_set_aside() {
    let s = Setup::new();
    let cache = s.env.root().join("cache");
    fs::create_dir_all(&cache).unwrap();
    fs::write(cache.join(FILE), b"tampered").unwrap();
    s.install(&["a"], &[])
        .assert()
        .success()
        .stderr(predicate::str::contains("in the cache has sha256"));
    let set_aside = fs::read_dir(&cache)
        .unwrap()
        .filter_map(Result::ok)
        .any(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(&format!("{FILE}.mismatch-"))
        });
    assert!(set_aside);
    assert_eq!(fs::read(cache.join(FILE)).unwrap(), s.archive);
}

#[test]
fn offline_uses_a_file_placed_in_the_cache_by_hand() {
    let s = Setup::new();
    s.env
        .strap(&[
            "install",
            "--offline",
            "--skip-preflight",
            "--sha256",
            &s.sha,
            VERSION,
        ])
        .assert()
        .code(1)
        .stderr(
            predicate::str::contains("--offline")
                .and(predicate::str::contains("cache/Python-3.99.1.tar.xz"))
                .and(predicate::str::contains("hint: or add a file:// mirror")),
        );
    let cache = s.env.root().join("cache");
    fs::create_dir_all(&cache).unwrap();
    fs::write(cache.join(FILE), &s.archive).unwrap();
    s.env
        .strap(&[
            "install",
            "--offline",
            "--skip-preflight",
            "--sha256",
            &s.sha,
            VERSION,
        ])
        .assert()
        .success()
        .stderr(predicate::str::contains("from the cache"));
    assert!(
        s.mirror.requests().is_empty(),
        "--offline went to the network"
    );
}

#[test]
fn offline_reads_file_mirrors() {
    // The `install --help` example: a file:// mirror is on this machine, so --offline uses it
    // (and still contacts no http mirror).
    let s = Setup::new();
    let dir = s.env.dir.path().join("srv/python");
    fs::create_dir_all(&dir).unwrap();
    let file_mirror = format!("file://{}/{{file}}", dir.display());
    let install = || {
        let mut cmd = s.env.strap(&[
            "install",
            "--offline",
            "--skip-preflight",
            "--sha256",
            &s.sha,
            "--mirror",
            &s.mirror.template("a"),
            "--mirror",
            &file_mirror,
            VERSION,
        ]);
        cmd.timeout(Duration::from_secs(60));
        cmd
    };
    // An empty mirror directory: the error names the cache and the file:// mirror tried.
    let out = install().output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr_of(&out);
    assert!(
        err.contains(
            "is not in the cache nor on a file:// mirror, and --offline forbids downloading"
        ),
        "{err}"
    );
    assert!(
        err.contains(&format!("file://{}/{FILE}: cannot read", dir.display())),
        "{err}"
    );
    s.assert_nothing_installed();
    fs::write(dir.join(FILE), &s.archive).unwrap();
    install()
        .assert()
        .success()
        .stderr(predicate::str::contains(format!("installed {VERSION}")));
    assert!(s.prefix().join("bin/python3").exists());
    assert!(s.env.root().join("cache").join(FILE).is_file());
    assert!(
        s.mirror.requests().is_empty(),
        "--offline went to the network"
    );
}

#[test]
fn hostile_archives_are_refused() {
    use tar::EntryType::{Block, Char, Link, Regular, Symlink};
    let cases = [
        (("/tmp/strap-evil", Regular, ""), "absolute"),
        (("Python-3.99.1/../../evil", Regular, ""), "'..'"),
        (
            ("Python-3.99.1/link", Symlink, "../../../etc"),
            "outside the tree",
        ),
        (
            ("Python-3.99.1/link", Symlink, "/etc/passwd"),
            "absolute path",
        ),
        (("Python-3.99.1/hl", Link, "../../etc/passwd"), "'..'"),
        (("Python-3.99.1/dev", Char, ""), "device"),
        (("Python-3.99.1/blk", Block, ""), "device"),
    ];
    for (entry, why) in cases {
        let s = Setup::new();
        s.install_archive(raw_tgz(&[entry]))
            .assert()
            .code(1)
            .stderr(predicate::str::contains("refusing entry").and(predicate::str::contains(why)));
        s.assert_nothing_installed();
        assert!(!std::path::Path::new("/tmp/strap-evil").exists());
    }
}

#[test]
fn a_corrupt_archive_with_a_matching_checksum_fails_clearly() {
    let s = Setup::new();
    s.install_archive(b"this is not gzip data at all".to_vec())
        .assert()
        .code(1)
        .stderr(predicate::str::contains("not a compressed tar archive"));
    s.assert_nothing_installed();
}

#[test]
fn a_compiler_that_does_not_work_fails_the_preflight_with_its_fix() {
    let s = Setup::new();
    // `false` exits without reading its input: strap must not die of SIGPIPE (exit 141, no
    // message) writing the probe to it. A file that is not executable cannot be run at all.
    let not_executable = s.env.write("not-a-compiler", "#!/bin/sh\nexit 0\n");
    let cases = [
        (
            "/bin/false".to_owned(),
            "the C compiler `/bin/false` (from CC) does not work: it fails on an empty input \
             (exit status: 1)"
                .to_owned(),
        ),
        (
            not_executable.display().to_string(),
            format!(
                "the C compiler `{}` (from CC) cannot be run: Permission denied",
                not_executable.display()
            ),
        ),
    ];
    for (cc, message) in cases {
        let out = s
            .env
            .strap(&["install", "--sha256", &s.sha])
            .args(["--mirror", &s.mirror.template("a"), VERSION])
            .env("CC", &cc)
            .output()
            .unwrap();
        let err = stderr_of(&out);
        assert_eq!(out.status.code(), Some(1), "{err}");
        assert!(err.contains(&format!("strap: error: {message}")), "{err}");
        assert!(
            err.contains(
                "hint: set CC to a working C compiler, or unset it to use the first of cc, gcc, \
                 clang on PATH"
            ),
            "{err}"
        );
        assert!(!err.contains("missing build prerequisites"), "{err}");
    }
    assert!(s.mirror.requests().is_empty(), "downloaded anyway");
    s.assert_nothing_installed();
}

#[test]
fn preflight_stops_before_downloading_and_names_the_fix() {
    let s = Setup::new();
    // A compiler that cannot find lzma.h (and finds every other header).
    let cc = s.env.dir.path().join("fakecc");
    write_script(&cc, "if grep -q lzma.h; then exit 1; fi; exit 0");
    let out = s
        .env
        .strap(&[
            "install",
            "--sha256",
            &s.sha,
            "--mirror",
            &s.mirror.template("a"),
            VERSION,
        ])
        .env("CC", &cc)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr_of(&out);
    assert!(
        err.contains("missing build prerequisites: lzma headers (for lzma)"),
        "{err}"
    );
    if fs::read_to_string("/etc/os-release").is_ok_and(|t| t.contains("debian")) {
        assert!(err.contains("sudo apt-get install -y liblzma-dev"), "{err}");
    }
    assert!(
        s.mirror.requests().is_empty(),
        "downloaded despite the failed preflight"
    );
    s.assert_nothing_installed();
}

#[test]
fn a_missing_required_module_fails_the_install_unless_allowed() {
    let s = Setup::new();
    s.install(
        &["a"],
        &["--configure-opts", "--simulate-missing=lzma,readline"],
    )
    .assert()
    .code(1)
    .stderr(predicate::str::contains(
        "without the required module(s) lzma",
    ))
    .stderr(predicate::str::contains("--allow-missing lzma"));
    s.assert_nothing_installed();
    s.install(
        &["a"],
        &[
            "--configure-opts",
            "--simulate-missing=lzma,readline",
            "--allow-missing",
            "lzma",
        ],
    )
    .assert()
    .success()
    .stderr(predicate::str::contains("optional module readline"));
}

#[test]
fn a_failed_build_shows_the_log_tail_and_keeps_the_tree_only_with_keep() {
    let s = Setup::new();
    let out = s
        .install(&["a"], &[])
        .env("FAKE_CONFIGURE_FAIL", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr_of(&out);
    assert!(err.contains("simulated configure failure"), "{err}");
    assert!(err.contains("/logs/python-3.99.1-"), "{err}");
    s.assert_nothing_installed();
    let out = s
        .install(&["a"], &["--keep"])
        .env("FAKE_CONFIGURE_FAIL", "1")
        .output()
        .unwrap();
    let err = stderr_of(&out);
    let kept = err
        .lines()
        .find_map(|l| l.strip_prefix("the build tree is kept at "))
        .unwrap_or_else(|| panic!("no kept path in: {err}"));
    assert!(std::path::Path::new(kept)
        .join("src/Python-3.99.1/configure.args")
        .exists());
    assert!(!s.prefix().exists());
}

#[test]
fn free_threaded_and_debug_builds_get_their_names_and_options() {
    let s = Setup::new();
    s.env
        .strap(&[
            "install",
            "--skip-preflight",
            "--sha256",
            &s.sha,
            "--mirror",
            &s.mirror.template("a"),
            "3.99.1t",
        ])
        .assert()
        .success();
    let args = fs::read_dir(s.env.root().join("logs"))
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| fs::read_to_string(e.path()).unwrap())
        .collect::<String>();
    assert!(args.contains("--disable-gil"));
    assert!(s.env.root().join("versions/3.99.1t/bin/python3").exists());
    s.install(&["a"], &["-g"]).assert().success();
    assert!(s
        .env
        .root()
        .join("versions/3.99.1-debug/bin/python3")
        .exists());
}

#[test]
fn old_releases_get_a_private_openssl_built_first() {
    // A catalog of our own (STRAP_PYTHON_CATALOG) marks a release as needing OpenSSL 1.1 and pins
    // the (fake) OpenSSL archive, which only its upstream URL serves.
    let s = Setup::new();
    let python = fake_python_tgz("3.98.1");
    let openssl = fake_openssl_tgz("1.1.1z");
    s.mirror
        .route("/a/Python-3.98.1.tgz", Behavior::Serve(python.clone()));
    s.mirror.route(
        "/upstream/openssl-1.1.1z.tar.gz",
        Behavior::Serve(openssl.clone()),
    );
    let catalog = s.env.write(
        "catalog.txt",
        &format!(
            "dep openssl11 openssl-1.1.1z.tar.gz http://127.0.0.1:{}/upstream/openssl-1.1.1z.tar.gz {}\n\
             3.98.1 Python-3.98.1.tgz:{} openssl11\n",
            s.mirror.port,
            sha256_hex(&openssl),
            sha256_hex(&python)
        ),
    );
    s.install_from_catalog(&catalog, "3.98.1")
        .assert()
        .success()
        .stderr(predicate::str::contains("==> openssl:"));
    let prefix = s.env.root().join("versions/3.98.1");
    assert!(prefix.join("openssl/include/openssl/ssl.h").exists());
    assert!(prefix.join("openssl/lib/libssl.so.1.1").exists());
    let log: String = fs::read_dir(s.env.root().join("logs"))
        .unwrap()
        .map(|e| fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    let openssl_prefix = prefix.join("openssl").display().to_string();
    assert!(
        log.contains(&format!("./config --prefix={openssl_prefix}")),
        "{log}"
    );
    assert!(log.contains("make install_sw DESTDIR="), "{log}");
    assert!(log.contains("--with-openssl="), "{log}");
    assert!(
        log.contains(
            "checking the run path the linker gets... \
             $ORIGIN/../lib:$ORIGIN/../openssl/lib:$ORIGIN/../../../openssl/lib"
        ),
        "{log}"
    );
    // The mirror that serves any file by name was asked for OpenSSL first.
    assert!(s
        .mirror
        .requests()
        .iter()
        .any(|r| r.path == "/a/openssl-1.1.1z.tar.gz"));
    // A malformed catalog names its file.
    s.env.write(
        "bad.txt",
        &format!(
            "dep openssl11 o.tgz http://x/o.tgz {}\n3.98.1 Python-3.98.1.tgz:nothex\n",
            "0".repeat(64)
        ),
    );
    s.env
        .strap(&["install", "3.98.1"])
        .env("STRAP_PYTHON_CATALOG", s.env.dir.path().join("bad.txt"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("bad.txt:2: "));
}

#[test]
fn sha256_is_for_one_exact_release_and_one_differing_from_the_pin_is_warned_about() {
    let s = Setup::new();
    // Several versions: refused before anything is fetched.
    s.env
        .strap(&["install", "--sha256", &s.sha, "3.99.1", "3.98.1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "strap: error: --sha256 is the checksum of one archive, but this installs 2 versions \
             (3.99.1, 3.98.1)",
        ))
        .stderr(predicate::str::contains(
            "hint: install them one at a time, each with its own --sha256",
        ));
    // A prefix: the hint names an exact version, not --sha256 again.
    s.env
        .strap(&["install", "--sha256", &s.sha, "3.12"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "strap: error: --sha256 needs an exact version such as 3.12.7, not '3.12'",
        ))
        .stderr(predicate::str::contains("hint: '3.12' selects 3.12."))
        .stderr(predicate::str::contains(" now: `strap install 3.12."))
        .stderr(predicate::str::contains("installs one the catalog lacks").not());
    assert!(s.mirror.requests().is_empty());
    // A release the catalog pins, given another checksum: warned about, then used.
    let pin = "0".repeat(64);
    let catalog = s
        .env
        .write("catalog.txt", &format!("3.99.1 {FILE}:{pin}\n"));
    s.install(&["a"], &[])
        .env("STRAP_PYTHON_CATALOG", &catalog)
        .assert()
        .success()
        .stderr(predicate::str::contains(format!(
            "strap: warning: --sha256 {} differs from the catalog's pin for {FILE} ({pin}); \
             using yours",
            s.sha
        )));
    assert!(s.prefix().join("bin/python3").exists());
    // The pinned checksum itself: no warning.
    let catalog = s
        .env
        .write("catalog.txt", &format!("3.99.1 {FILE}:{}\n", s.sha));
    s.install(&["a"], &["-f"])
        .env("STRAP_PYTHON_CATALOG", &catalog)
        .assert()
        .success()
        .stderr(predicate::str::contains("warning: --sha256").not());
}

#[test]
fn a_one_line_catalog_adds_its_release_to_the_embedded_ones() {
    let s = Setup::new();
    let catalog = s
        .env
        .write("catalog.txt", &format!("3.99.1 {FILE}:{}\n", s.sha));
    s.install_from_catalog(&catalog, "3.99").assert().success();
    assert!(s.prefix().join("bin/python3").exists());
    // The embedded releases are still known, the file's listed with them.
    let list = |prefix: &str| {
        let out = s
            .env
            .strap(&["install", "--list", "--bare", prefix])
            .env("STRAP_PYTHON_CATALOG", &catalog)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr_of(&out));
        stdout_of(&out)
    };
    assert!(list("3.12").lines().any(|l| l == "3.12.7"));
    assert_eq!(list("3.99"), "3.99.1\n3.99.1t\n");
    // A malformed file is a usage error naming the file and line, with the format.
    let bad = s.env.write("bad.txt", "# mine\n3.99.1 Python-3.99.1.tgz\n");
    s.env
        .strap(&["install", "3.99.1"])
        .env("STRAP_PYTHON_CATALOG", &bad)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!(
            "strap: error: {}:2: 'Python-3.99.1.tgz' is neither FILE:SHA256 nor a flag (openssl11, pre, t)",
            bad.display()
        )))
        .stderr(predicate::str::contains(
            "hint: a catalog line is `NAME FAMILY FIELD...`",
        ));
}

#[test]
fn install_without_arguments_installs_the_selected_version() {
    let s = Setup::new();
    s.env.write("work/.python-version", &format!("{VERSION}\n"));
    s.env
        .strap(&[
            "install",
            "--skip-preflight",
            "--sha256",
            &s.sha,
            "--mirror",
            &s.mirror.template("a"),
        ])
        .assert()
        .success();
    assert!(s.prefix().exists());
}

#[test]
fn list_unknown_versions_and_bad_flags() {
    let env = TestEnv::new();
    let out = env.strap(&["install", "--list", "3.11"]).output().unwrap();
    let listed = String::from_utf8(out.stdout).unwrap();
    assert!(listed.lines().any(|l| l == "3.11.2"));
    assert!(listed.lines().all(|l| l.starts_with("3.11.")));
    let all = env.strap(&["install", "-l"]).output().unwrap();
    let all = String::from_utf8(all.stdout).unwrap();
    assert!(all.lines().any(|l| l == "2.7.18") && all.lines().any(|l| l.starts_with("3.14")));
    // A prefix matches whole components: 3.1 is 3.1.x, not 3.10 or 3.11.
    let out = env.strap(&["install", "--list", "3.1"]).output().unwrap();
    let listed = String::from_utf8(out.stdout).unwrap();
    assert!(listed.lines().any(|l| l.starts_with("3.1.")), "{listed}");
    assert!(listed.lines().all(|l| l.starts_with("3.1.")), "{listed}");
    env.strap(&["install", "3.11.99"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "unknown CPython version '3.11.99'; nearest known: 3.11.",
        ))
        .stderr(predicate::str::contains("--sha256"));
    env.strap(&["install", "../../etc"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a CPython version"));
    env.strap(&["install", "--sha256", "xyz", "3.99.1"])
        .assert()
        .code(2);
    env.strap(&["install", "--jobs", "many", "3.11"])
        .assert()
        .code(2);
    assert!(!env.root().join("versions").exists());
}

/// Lines of `strap install --list ARGS`, asserting it succeeded.
fn listed(env: &TestEnv, args: &[&str]) -> Vec<String> {
    let mut all = vec!["install", "--list"];
    all.extend_from_slice(args);
    let out = env.strap(&all).output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    stdout_of(&out).lines().map(str::to_owned).collect()
}

#[test]
fn list_marks_installed_versions() {
    let env = TestEnv::new();
    env.fake_version("3.11.2", &["python3"]);
    env.fake_version("3.13.1t", &["python3"]);
    let lines = listed(&env, &["3.11"]);
    assert!(
        lines.contains(&"3.11.2  (installed)".to_owned()),
        "{lines:?}"
    );
    assert!(lines.contains(&"3.11.1".to_owned()), "{lines:?}");
    assert_eq!(lines.iter().filter(|l| l.contains("installed")).count(), 1);
    let all = listed(&env, &[]);
    assert!(all.contains(&"3.13.1t  (installed)".to_owned()));
    assert!(all.contains(&"3.13.1".to_owned()));
    // --bare: the names and nothing else (what shell completion reads).
    let bare = listed(&env, &["--bare"]);
    assert!(bare.contains(&"3.11.2".to_owned()) && bare.contains(&"3.13.1t".to_owned()));
    assert!(
        bare.iter().all(|l| !l.is_empty() && !l.contains(' ')),
        "{bare:?}"
    );
    assert_eq!(bare.len(), all.len());
}

#[test]
fn list_shows_free_threaded_builds_from_3_13_on() {
    let env = TestEnv::new();
    let free = listed(&env, &["3.13t"]);
    assert!(free.contains(&"3.13.0t".to_owned()), "{free:?}");
    assert!(free.contains(&"3.13.1t".to_owned()), "{free:?}");
    assert!(
        free.iter()
            .all(|l| l.starts_with("3.13.") && l.ends_with('t')),
        "{free:?}"
    );
    // Plain --list shows each free-threaded build right after its release, as pyenv does.
    let all = listed(&env, &[]);
    let at = |name: &str| all.iter().position(|l| l == name);
    assert_eq!(at("3.13.1t"), at("3.13.1").map(|i| i + 1), "{all:?}");
    assert!(at("3.14.0t").is_some());
    assert!(
        !all.iter()
            .any(|l| l.starts_with("3.12.") && l.ends_with('t')),
        "3.12 has no free-threaded build"
    );
    // A plain prefix lists both kinds.
    let both = listed(&env, &["3.13"]);
    assert!(both.contains(&"3.13.1".to_owned()) && both.contains(&"3.13.1t".to_owned()));
    // What is listed is installable: the name plans (and fails only at the download, offline).
    env.strap(&["install", "--offline", "--skip-preflight", "3.13.1t"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("==> CPython 3.13.1t"))
        .stderr(predicate::str::contains(
            "Python-3.13.1.tar.xz or Python-3.13.1.tgz",
        ));
    env.strap(&["install", "--list", "3.12t"])
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::contains("no known version matches '3.12t'"));
}

#[test]
fn list_without_a_match_fails() {
    let env = TestEnv::new();
    env.strap(&["install", "--list", "3.99"])
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::contains(
            "strap: error: no known version matches '3.99'",
        ))
        .stderr(predicate::str::contains("hint: nearest known: 3."));
    // With several prefixes, the matches are listed and the one without is named.
    let out = env
        .strap(&["install", "--list", "--bare", "3.99", "3.11"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout_of(&out).lines().any(|l| l == "3.11.2"));
    assert!(
        stderr_of(&out).contains("matches '3.99'") && !stderr_of(&out).contains("'3.11'"),
        "{}",
        stderr_of(&out)
    );
}

#[test]
fn list_as_json() {
    let env = TestEnv::new();
    env.fake_version("3.11.2", &["python3"]);
    let out = env
        .strap(&[
            "install", "--list", "--json", "3.11.2", "3.13.1t", "3.14.5rc",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let entries: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let find = |name: &str| {
        entries
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["version"] == name)
            .unwrap_or_else(|| panic!("{name} missing from {entries}"))
            .clone()
    };
    assert_eq!(
        find("3.11.2"),
        serde_json::json!({"version": "3.11.2", "family": "cpython", "prerelease": false, "free_threaded": false, "installed": true})
    );
    assert_eq!(
        find("3.13.1t"),
        serde_json::json!({"version": "3.13.1t", "family": "cpython", "prerelease": false, "free_threaded": true, "installed": false})
    );
    assert_eq!(find("3.14.5rc1")["prerelease"], true);
    env.strap(&["install", "--list", "--json", "3.99"])
        .assert()
        .code(1)
        .stdout("[]\n");
    // --json and --bare belong to --list, and exclude each other.
    env.strap(&["install", "--json", "3.11"]).assert().code(2);
    env.strap(&["install", "--bare", "3.11"]).assert().code(2);
    env.strap(&["install", "--list", "--bare", "--json"])
        .assert()
        .code(2);
}

/// A catalog of our own: 3.98.5, and 3.99.0 and 3.99.1 (the one the Setup mirror serves).
fn prefix_catalog(s: &Setup) -> std::path::PathBuf {
    let other = "0".repeat(64);
    s.env.write(
        "catalog.txt",
        &format!(
            "dep openssl11 o.tgz http://127.0.0.1:9/o.tgz {other}\n\
             3.98.5 Python-3.98.5.tgz:{other}\n\
             3.99.0 Python-3.99.0.tgz:{other}\n\
             3.99.1 {FILE}:{}\n",
            s.sha
        ),
    )
}

#[test]
fn install_without_arguments_installs_only_what_is_missing() {
    let s = Setup::new();
    let catalog = prefix_catalog(&s);
    let install = |extra: &[&str]| {
        let mut cmd = s.env.strap(&["install", "--skip-preflight"]);
        cmd.args(["--mirror", &s.mirror.template("a")])
            .args(extra)
            .env("STRAP_PYTHON_CATALOG", &catalog)
            .timeout(Duration::from_secs(60));
        cmd
    };
    // 3.98 is satisfied by an installed 3.98.x; 3.99 has no installed match: its newest known.
    s.env.fake_version("3.98.2", &["python3"]);
    let pin = s.env.write("work/.python-version", "3.98\n3.99\n");
    install(&[])
        .assert()
        .success()
        .stderr(predicate::str::contains(format!(
            "strap: 3.98 (set by {}) is satisfied by installed 3.98.2",
            pin.display()
        )))
        .stderr(predicate::str::contains("==> CPython 3.99.1 (for 3.99)"))
        .stderr(predicate::str::contains("3.98.5").not());
    assert!(s.prefix().join("bin/python3").exists());
    assert!(!s.env.root().join("versions/3.98.5").exists());
    // Now both are satisfied: nothing is downloaded or built.
    let requests = s.mirror.requests().len();
    fs::write(s.prefix().join("marker"), "kept").unwrap();
    install(&[])
        .assert()
        .success()
        .stderr(
            predicate::str::contains("3.99 (set by")
                .and(predicate::str::contains("is satisfied by installed 3.99.1")),
        )
        .stderr(predicate::str::contains("==>").not());
    assert_eq!(s.mirror.requests().len(), requests);
    // An exact pin that is installed.
    s.env.write("work/.python-version", "3.99.1\n");
    install(&[]).assert().success().stderr(
        predicate::str::contains("3.99.1 (set by")
            .and(predicate::str::contains("is already installed")),
    );
    assert!(s.prefix().join("marker").exists());
    // -f rebuilds the installed version the pin resolves to, not the newest known.
    s.env.write("work/.python-version", "3.99\n");
    install(&["-f"])
        .assert()
        .success()
        .stderr(predicate::str::contains("installed 3.99.1 in"));
    assert!(!s.prefix().join("marker").exists(), "-f did not rebuild");
}

#[test]
fn install_without_arguments_takes_a_selected_virtualenv_as_it_is() {
    let env = TestEnv::new();
    // A virtualenv as pyenv-virtualenv lays it out: its directory and an absolute link to it.
    let dir = env.fake_version("3.99.1/envs/tools", &["python"]);
    std::os::unix::fs::symlink(&dir, env.root().join("versions/tools")).unwrap();
    let install = |flags: &[&str]| {
        let mut cmd = env.strap(&["install", "--skip-preflight"]);
        cmd.args(flags).timeout(Duration::from_secs(60));
        cmd
    };
    for selected in ["tools", "3.99.1/envs/tools"] {
        let pin = env.write("work/.python-version", &format!("{selected}\n"));
        install(&[]).assert().success().stderr(format!(
            "strap: {selected} (set by {}) is already installed\n",
            pin.display()
        ));
        // -f rebuilds versions; a virtualenv is not one strap can rebuild, so it is left alone.
        install(&["-f"]).assert().success().stderr(format!(
            "strap: {selected} (set by {}) is a virtualenv: -f rebuilds versions, not \
             virtualenvs, so it is left as it is\n",
            pin.display()
        ));
    }
    assert!(dir.join("bin/python").exists());
    // A name that is neither installed nor a CPython version: not installed, not a parse error.
    let pin = env.write("work/.python-version", "tools\nproj\n");
    install(&[]).assert().code(1).stderr(format!(
        "strap: tools (set by {pin}) is already installed\n\
         strap: error: version 'proj' is not installed (set by {pin})\n\
         hint: proj is not a version strap can install (expected e.g. 3.12.7, 3.12, 3.13t or a \
         name `strap install --list` shows): if it names a virtualenv, make it with `strap \
         virtualenv PYTHON proj`; `strap versions` lists the installed ones\n",
        pin = pin.display()
    ));
}

#[test]
fn install_without_arguments_follows_the_shims_resolution() {
    // What `strap version` shows as selected is what counts as installed: a 3.99.0 that is
    // installed satisfies `3.99` though 3.99.1 is newer; a debug build or a free-threaded one
    // does not satisfy a plain pin.
    let s = Setup::new();
    let catalog = prefix_catalog(&s);
    s.env.fake_version("3.99.0", &["python3"]);
    s.env.write("work/.python-version", "3.99\n");
    s.env
        .strap(&["version"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("3.99.0 "));
    let run = || {
        let mut cmd = s.env.strap(&["install", "--skip-preflight"]);
        cmd.args(["--mirror", &s.mirror.template("a")])
            .env("STRAP_PYTHON_CATALOG", &catalog)
            .timeout(Duration::from_secs(60));
        cmd
    };
    run()
        .assert()
        .success()
        .stderr(predicate::str::contains("satisfied by installed 3.99.0"));
    assert!(!s.prefix().exists(), "3.99.1 was built for a satisfied pin");
    assert!(s.mirror.requests().is_empty());
    fs::remove_dir_all(s.env.root().join("versions/3.99.0")).unwrap();
    s.env.fake_version("3.99.0-debug", &["python3"]);
    run()
        .assert()
        .success()
        .stderr(predicate::str::contains("==> CPython 3.99.1 (for 3.99)"));
    assert!(s.prefix().join("bin/python3").exists());
}

#[test]
fn two_concurrent_installs_of_the_same_version() {
    let s = Setup::new();
    let spawn = || s.spawn_install("a", &[("FAKE_BUILD_SECONDS", "2")]);
    let first = spawn();
    let second = spawn();
    let outputs = [
        first.wait_with_output().unwrap(),
        second.wait_with_output().unwrap(),
    ];
    for out in &outputs {
        assert!(out.status.success(), "{}", stderr_of(out));
    }
    let texts: Vec<String> = outputs.iter().map(stderr_of).collect();
    assert_eq!(
        texts
            .iter()
            .filter(|t| t.contains(&format!("installed {VERSION} in")))
            .count(),
        1,
        "{texts:?}"
    );
    assert!(
        texts.iter().any(|t| t.contains("is already installed")),
        "{texts:?}"
    );
    assert!(s.prefix().join("bin/python3").exists());
    assert_eq!(crate::support::tmp_entries(&s.env.root()).len(), 0);
}

#[test]
fn ctrl_c_during_the_build_leaves_nothing_behind() {
    let s = Setup::new();
    let child = s.start_slow_install();
    signal(child.id(), libc::SIGINT);
    // The build would go on for 30 s and succeed: 130 is the build stopped.
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    assert!(
        stderr_of(&out).contains("interrupted"),
        "{}",
        stderr_of(&out)
    );
    s.assert_nothing_installed();
    // The download is kept (verified, in the cache) for the next attempt.
    assert!(s.env.root().join("cache").join(FILE).exists());
}

#[test]
fn ctrl_c_during_the_download_stops_at_once_and_the_next_run_resumes() {
    let s = Setup::new();
    let cut = s.archive.len() / 2;
    s.mirror.route(
        &format!("/slow/{FILE}"),
        Behavior::StallAfter(s.archive.clone(), cut),
    );
    let mut child = s.spawn_install("slow", &[]);
    let part = s.env.root().join("cache").join(format!("{FILE}.part"));
    wait_while_running(&mut child, "the download getting going", || {
        fs::metadata(&part).map_or(0, |m| m.len()) >= cut as u64
    });
    signal(child.id(), libc::SIGINT);
    // The mirror stalls for minutes; a download timeout would end in 1, not 130.
    let status = wait_for_exit(&mut child, "Ctrl-C did not stop the download");
    assert_eq!(status.code(), Some(130));
    assert_eq!(
        fs::metadata(&part).unwrap().len(),
        cut as u64,
        "the partial download was not kept"
    );
    s.assert_nothing_installed();
    s.install(&["slow"], &[]).assert().success();
    let last = s
        .mirror
        .requests()
        .into_iter()
        .rfind(|r| r.path.ends_with(FILE))
        .unwrap();
    assert_eq!(last.range, Some(format!("bytes={cut}-")));
}

#[test]
fn after_a_kill_the_next_install_cleans_up() {
    let s = Setup::new();
    let mut child = s.start_slow_install();
    signal(child.id(), libc::SIGKILL);
    child.wait().unwrap();
    assert!(!s.prefix().exists());
    assert_eq!(
        fs::read_dir(s.env.root().join("tmp")).unwrap().count(),
        1,
        "expected the killed build's tree"
    );
    s.install(&["a"], &[]).assert().success();
    assert_eq!(crate::support::tmp_entries(&s.env.root()).len(), 0);
}

#[test]
fn fetch_only_downloads_into_the_cache_and_builds_nothing() {
    let s = Setup::new();
    let out = s.install(&["a"], &["--fetch-only"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("3.99.1 is in the cache, ready to install"),
        "{}",
        stderr_of(&out)
    );
    assert!(!stderr_of(&out).contains("==> configure"));
    s.assert_nothing_installed();
    assert!(s.env.root().join("cache").join(FILE).is_file());
    // The install then needs no mirror.
    let out = s.install(&["nowhere"], &[]).output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("from the cache (sha256 verified)"));
}

#[test]
fn a_catalog_names_archives_as_strap_names_them() {
    // The cache file an archive is downloaded to is named by the catalog: a name strap does
    // not make (and `strap cache clean` would not know) is refused, one reaching outside the
    // cache above all.
    let s = Setup::new();
    s.mirror
        .route("/escape.tgz", Behavior::Serve(s.archive.clone()));
    let dep = format!(
        "dep openssl11 openssl-1.1.1u.tar.gz http://127.0.0.1:{}/o.tar.gz {}",
        s.mirror.port, s.sha
    );
    for (catalog, line, why) in [
        (
            format!("{dep}\n3.99.1 ../escape.tgz:{}\n", s.sha),
            2,
            "'../escape.tgz' is not a plain file name",
        ),
        (
            format!("{dep}\n3.99.1 notes.tgz:{}\n", s.sha),
            2,
            "'notes.tgz' is not named Python-<version>.tar.xz or .tgz",
        ),
    ] {
        let catalog = s.env.write("catalog.txt", &catalog);
        let out = s.install_from_catalog(&catalog, VERSION).output().unwrap();
        let err = stderr_of(&out);
        assert!(!out.status.success(), "{err}");
        assert!(
            err.contains(&format!("{}:{line}: {why}", catalog.display())),
            "{err}"
        );
        assert!(!s.env.root().join("escape.tgz").exists());
        assert!(!s.prefix().exists());
    }

    // The OpenSSL a release needs is checked when it is needed (a catalog without such
    // releases may name a placeholder).
    s.mirror
        .route("/escape.tar.gz", Behavior::Serve(s.archive.clone()));
    let catalog = s.env.write(
        "catalog.txt",
        &format!(
            "dep openssl11 escape.tar.gz http://127.0.0.1:{}/escape.tar.gz {}\n\
             3.99.1 Python-3.99.1.tgz:{} openssl11\n",
            s.mirror.port, s.sha, s.sha
        ),
    );
    s.install_from_catalog(&catalog, VERSION)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "strap: error: 'escape.tar.gz' is not a name strap gives an archive in its download cache",
        ))
        .stderr(predicate::str::contains("hint: name it as upstream does"));
    assert!(!s.env.root().join("cache/escape.tar.gz").exists());
    assert!(!s.prefix().exists());
}

//! The staged-install pipeline as users met its failures: signals and killed runs, odd settings,
//! bad mirror templates, misleading messages, phase reporting, receipts, a full disk.

use std::fs;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::time::Duration;

use predicates::prelude::*;

use crate::fake_source::{fake_python_tgz, sha256_hex};
use crate::mirror::{Behavior, Mirror};
use crate::support::{
    noise, processes_in, signal, signal_group, stderr_of, stdout_of, wait_for_no_processes_in,
    wait_until, wait_while_running, Setup, TestEnv, Tmpfs, Watched, PATIENCE,
};

const VERSION: &str = "3.99.1";
const FILE: &str = "Python-3.99.1.tgz";

#[test]
fn sigterm_acts_like_ctrl_c_the_build_is_stopped_and_removed() {
    let s = Setup::new();
    let child = s.start_slow_install();
    assert!(!processes_in(&s.env.root()).is_empty(), "no build running");
    signal(child.id(), libc::SIGTERM);
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", stderr_of(&out));
    let err = stderr_of(&out);
    assert!(err.contains("interrupted: nothing was installed"), "{err}");
    assert!(err.contains("compile interrupted after"), "{err}");
    assert!(!err.contains("compile done"), "{err}");
    assert_eq!(
        wait_for_no_processes_in(&s.env.root()),
        Vec::<u32>::new(),
        "build processes outlived strap"
    );
    s.assert_nothing_installed();
}

#[test]
fn ctrl_c_during_the_preflight_is_an_interruption_not_a_broken_compiler() {
    let s = Setup::new();
    // A compiler still probing when Ctrl-C comes: the terminal interrupts it and strap alike.
    let cc = s.env.dir.path().join("slow-cc");
    let started = s.env.dir.path().join("cc-started");
    crate::support::write_script(&cc, &format!("touch {}; exec sleep 300", started.display()));
    let child = s
        .env
        .strap_process(&[])
        .env("CC", &cc)
        .args([
            "install",
            "--sha256",
            &s.sha,
            "--mirror",
            &s.mirror.template("a"),
        ])
        .arg(VERSION)
        .process_group(0)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    assert!(
        wait_until(PATIENCE, || started.exists()),
        "the preflight never ran the compiler"
    );
    // As the terminal sends it: to the whole process group.
    signal_group(child.id(), libc::SIGINT);
    let out = child.wait_with_output().unwrap();
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(err.contains("preflight interrupted after"), "{err}");
    assert!(err.contains("interrupted: nothing was installed"), "{err}");
    assert!(!err.contains("does not work"), "{err}");
    assert!(s.mirror.requests().is_empty());
}

#[test]
fn ctrl_c_while_waiting_for_another_install_stops_at_once() {
    let s = Setup::new();
    let mut first = s.start_slow_install();
    let mut second = Watched::new(s.spawn_install("a", &[]));
    second.wait_for_stderr("waiting for another strap process installing 3.99.1");
    signal(second.child.id(), libc::SIGINT);
    // The first install compiles for 30 s more: an exit before it ends is the wait cut short.
    let (status, err) = second.finish();
    assert_eq!(status.code(), Some(130), "{err}");
    assert!(
        first.try_wait().unwrap().is_none(),
        "the first install ended first"
    );
    signal(first.id(), libc::SIGINT);
    first.wait().unwrap();
}

#[test]
fn a_build_never_outlives_a_killed_strap() {
    let s = Setup::new();
    let mut child = s.start_slow_install();
    signal(child.id(), libc::SIGKILL);
    child.wait().unwrap();
    assert_eq!(
        wait_for_no_processes_in(&s.env.root()),
        Vec::<u32>::new(),
        "make and its children run on after kill -9 of strap"
    );
    assert_eq!(fs::read_dir(s.env.root().join("tmp")).unwrap().count(), 1);
    s.install(&["a"], &[]).assert().success();
    assert_eq!(crate::support::tmp_entries(&s.env.root()).len(), 0);
}

#[test]
fn the_next_run_stops_a_group_recorded_in_a_leftover_work_dir() {
    let s = Setup::new();
    // What a killed run whose supervisor died too would leave: a work dir and a live group.
    let leftover = s.env.root().join(format!("tmp/python-{VERSION}.999999"));
    fs::create_dir_all(&leftover).unwrap();
    let mut orphan = std::process::Command::new("sleep")
        .arg("300")
        .current_dir(&leftover)
        .process_group(0)
        .spawn()
        .unwrap();
    fs::write(
        leftover.join("process-groups"),
        format!("{}\n", orphan.id()),
    )
    .unwrap();
    s.install(&["a"], &[]).assert().success();
    let status = orphan.wait().unwrap();
    assert!(!status.success(), "the leftover group was not stopped");
    assert!(!leftover.exists());
}

#[test]
fn a_kept_tree_stays_and_trees_of_dead_installs_of_other_versions_go() {
    let s = Setup::new();
    let out = s
        .install(&["a"], &["-k"])
        .env("FAKE_CONFIGURE_FAIL", "1")
        .output()
        .unwrap();
    let err = stderr_of(&out);
    let kept = err
        .lines()
        .find_map(|l| l.strip_prefix("the build tree is kept at "))
        .unwrap_or_else(|| panic!("no kept path in: {err}"))
        .to_owned();
    // Left by a killed install of another version: its process (pid 999999) is gone.
    let dead = s.env.root().join("tmp/python-3.98.7.999999");
    fs::create_dir_all(dead.join("src")).unwrap();
    s.install(&["a"], &[]).assert().success();
    assert!(
        Path::new(&kept).join("src").exists(),
        "the --keep tree was removed"
    );
    assert!(!dead.exists(), "a dead install's tree was left");
}

#[test]
fn odd_settings_are_usage_errors_naming_the_variable() {
    let env = TestEnv::new();
    for (var, value, expected) in [
        (
            "STRAP_DOWNLOAD_TIMEOUT",
            "inf",
            "STRAP_DOWNLOAD_TIMEOUT must be a number of seconds",
        ),
        ("STRAP_DOWNLOAD_TIMEOUT", "1e30", "not '1e30'"),
        ("STRAP_DOWNLOAD_TIMEOUT", "-5", "from 0.1 to 86400"),
        ("STRAP_DOWNLOAD_TIMEOUT", "NaN", "STRAP_DOWNLOAD_TIMEOUT"),
        ("STRAP_JOBS", "many", "STRAP_JOBS must be a whole number"),
        ("STRAP_JOBS", "0", "STRAP_JOBS must be from 1 to 1024"),
        (
            "STRAP_CONFIGURE_OPTS",
            "CFLAGS='-O2",
            "STRAP_CONFIGURE_OPTS: cannot split",
        ),
    ] {
        env.strap(&["install", "--skip-preflight", "3.11.2"])
            .env(var, value)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(expected))
            .stderr(predicate::str::contains("panicked").not());
    }
    env.strap(&["install", "--jobs", "0", "3.11.2"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--jobs must be from 1"));
    let config = env.write("config.toml", "[python]\njobs = 0\n");
    env.strap(&["install", "3.11.2"])
        .env("STRAP_CONFIG", &config)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!(
            "{} key python.jobs must be from 1",
            config.display()
        )));
    env.strap(&["install", "3.11.2"])
        .env("STRAP_CONFIG", env.dir.path().join("missing.toml"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("(named by STRAP_CONFIG)"));
    for mirrors in [",", " , "] {
        env.strap(&["install", "3.11.2"])
            .env("STRAP_PYTHON_MIRRORS", mirrors)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(
                "STRAP_PYTHON_MIRRORS names no mirror",
            ));
    }
    let config = env.write("bad.toml", "[python]\njobs = \"four\"\n");
    env.strap(&["install", "3.11.2"])
        .env("STRAP_CONFIG", &config)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!("{}:2:", config.display())));
    assert!(!env.root().join("versions").exists());
}

#[test]
fn mirror_templates_are_checked_before_anything_runs() {
    let s = Setup::new();
    // A compiler that records being run: the preflight must not start.
    let cc = s.env.dir.path().join("recording-cc");
    let ran = s.env.dir.path().join("cc-ran");
    crate::support::write_script(&cc, &format!("touch {}; exit 0", ran.display()));
    let config = s.env.write(
        "config.toml",
        "[python]\nmirrors = [\"mirror.example/{file}\"]\n",
    );
    let refused = |vars: &[(&str, &str)], flags: &[&str], expected: String| {
        s.env
            .strap(&["install", "--sha256", &s.sha])
            .args(flags)
            .arg(VERSION)
            .env("CC", &cc)
            .envs(vars.iter().copied())
            .assert()
            .code(2)
            .stderr(predicate::str::contains(expected))
            .stderr(predicate::str::contains("relative URL").not());
    };
    refused(
        &[("STRAP_PYTHON_MIRRORS", "{file}")],
        &[],
        "mirror template '{file}' (from STRAP_PYTHON_MIRRORS)".to_owned(),
    );
    refused(
        &[],
        &["--mirror", "ftp://host/{file}"],
        "mirror template 'ftp://host/{file}' (from --mirror)".to_owned(),
    );
    refused(
        &[("STRAP_CONFIG", config.to_str().unwrap())],
        &[],
        format!(
            "mirror template 'mirror.example/{{file}}' (from {} key python.mirrors)",
            config.display()
        ),
    );
    // A relative file URL would be read from the root (`file:m/{file}` as `/m/...`).
    let relative = "mirror template 'file:m/{file}' (from {}) is not a URL strap can download \
                    from: it is a relative file URL; a file URL names an absolute path: \
                    file:///absolute/path";
    refused(
        &[],
        &["--mirror", "file:m/{file}"],
        relative.replace("{}", "--mirror"),
    );
    refused(
        &[("STRAP_PYTHON_MIRRORS", "file:./m/{file}")],
        &[],
        relative
            .replace("file:m/", "file:./m/")
            .replace("{}", "STRAP_PYTHON_MIRRORS"),
    );
    s.env
        .strap(&["boost", "install", "1.86.0"])
        .env("STRAP_BOOST_MIRRORS", "file:m/{file}")
        .env("CXX", &cc)
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            relative.replace("{}", "STRAP_BOOST_MIRRORS"),
        ));
    assert!(
        !ran.exists(),
        "preflight ran before the templates were checked"
    );
    assert!(s.mirror.requests().is_empty());
}

#[test]
fn a_stall_an_html_page_and_the_formats_tried_are_named() {
    let s = Setup::new();
    // On a host of its own: a host that stalled is not asked again in the same run.
    let stalling = Mirror::start();
    stalling.route(
        &format!("/stall/{FILE}"),
        Behavior::StallAfter(s.archive.clone(), 100),
    );
    let portal =
        b"<!DOCTYPE html><html><body>Please log in to the hotel Wi-Fi</body></html>".to_vec();
    s.mirror
        .route(&format!("/portal/{FILE}"), Behavior::Serve(portal));
    let out = s
        .install(&["portal"], &["--mirror", &stalling.template("stall")])
        .env("STRAP_DOWNLOAD_TIMEOUT", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr_of(&out);
    assert!(
        err.contains(&format!(
            "/stall/{FILE}: no data for 1s (STRAP_DOWNLOAD_TIMEOUT"
        )),
        "{err}"
    );
    assert!(!err.contains("error decoding response body"), "{err}");
    assert!(
        err.contains(&format!("/portal/{FILE}: the mirror returned an HTML page")),
        "{err}"
    );
    assert!(
        err.contains("could not download Python-3.99.1.tar.xz or Python-3.99.1.tgz"),
        "{err}"
    );
    // Both formats appear in the attempts: the missing .tar.xz is listed, not warned about.
    assert!(
        err.contains("Python-3.99.1.tar.xz: not found (HTTP 404)"),
        "{err}"
    );
    assert!(
        !err.lines()
            .any(|l| l.contains("warning") && l.contains("HTTP 404")),
        "404s are not warnings:\n{err}"
    );
    assert!(err.contains("download failed after"), "{err}");
    assert!(!err.contains("download done"), "{err}");
    s.assert_nothing_installed();
    let offline = s.install(&["a"], &["--offline"]).output().unwrap();
    assert!(
        stderr_of(&offline)
            .contains("Python-3.99.1.tar.xz or Python-3.99.1.tgz is not in the cache"),
        "{}",
        stderr_of(&offline)
    );
}

#[test]
fn a_failed_build_points_to_keep_and_phases_read_failed() {
    let s = Setup::new();
    let out = s
        .install(&["a"], &[])
        .env("FAKE_CONFIGURE_FAIL", "1")
        .output()
        .unwrap();
    let err = stderr_of(&out);
    assert!(err.contains("configure failed after"), "{err}");
    assert!(!err.contains("configure done"), "{err}");
    assert!(
        err.contains("hint: the build tree was removed; rerun with -k"),
        "{err}"
    );
}

#[test]
fn a_header_names_what_is_built_and_a_total_closes() {
    let s = Setup::new();
    let python = fake_python_tgz("3.98.1");
    s.mirror
        .route("/a/Python-3.98.1.tgz", Behavior::Serve(python.clone()));
    let catalog = s.env.write(
        "catalog.txt",
        &format!(
            "dep openssl11 o.tgz http://127.0.0.1:9/o.tgz {}\n3.98.1 Python-3.98.1.tgz:{}\n",
            "0".repeat(64),
            sha256_hex(&python)
        ),
    );
    s.install_from_catalog(&catalog, "3.98")
        .assert()
        .success()
        .stderr(predicate::str::contains("==> CPython 3.98.1 (for 3.98)"))
        .stderr(predicate::str::is_match(r"\n    total \d+\.\ds\n").unwrap());
}

#[test]
fn every_install_carries_a_receipt() {
    let s = Setup::new();
    s.install(&["a"], &["--configure-opts", "--with-lto"])
        .assert()
        .success();
    let text = fs::read_to_string(s.prefix().join("strap-receipt.json")).unwrap();
    let receipt: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(receipt["kind"], "python");
    assert_eq!(receipt["name"], VERSION);
    assert_eq!(receipt["sources"][0]["file"], FILE);
    assert_eq!(receipt["sources"][0]["sha256"], s.sha.as_str());
    assert_eq!(receipt["strap_version"], env!("CARGO_PKG_VERSION"));
    assert!(receipt["options"]
        .as_array()
        .unwrap()
        .iter()
        .any(|o| o == "--with-lto"));
    assert!(receipt["date"].as_str().unwrap().ends_with('Z'));
}

#[test]
fn on_a_terminal_one_live_display_shows_each_phase_and_its_end() {
    let s = Setup::new();
    let command = format!(
        "{} install --skip-preflight --sha256 {} --mirror {} {VERSION}",
        crate::support::strap_bin().display(),
        s.sha,
        s.mirror.template("a")
    );
    let typescript = s.env.dir.path().join("typescript");
    let out = s
        .env
        .command("script")
        .args(["-qefc", &command])
        .arg(&typescript)
        .env("TERM", "xterm")
        .env("COLUMNS", "60")
        .env("FAKE_BUILD_SECONDS", "1")
        .output()
        .unwrap();
    let screen = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{screen}");
    for phase in [
        "download",
        "unpack",
        "configure",
        "compile",
        "install",
        "verify",
    ] {
        assert!(
            screen.contains(&format!("✓ {phase:<10} done in ")),
            "{phase} not shown as done:\n{screen}"
        );
    }
    assert!(screen.contains("==> CPython 3.99.1\r\n"), "{screen}");
    // No zero-length cursor moves (terminals read `ESC [ 0 A` as one line up).
    assert!(!screen.contains("\x1b[0A"), "{screen:?}");
    // The compile phase shows the build's latest output line while it runs.
    assert!(
        screen.contains("compiling the fake interpreter"),
        "{screen}"
    );
    // Finished lines are plain: not padded with spaces to the terminal's width.
    assert!(
        screen.contains("✓ verify     done in ") && !screen.contains("   \r\n"),
        "{screen:?}"
    );
}

/// `strap install` of the slow fake build in a real pseudo-terminal (`script`), with `input`
/// typed once the build compiles; returns the exit code and everything the terminal showed.
fn typed_during_the_build(s: &Setup, input: &[u8]) -> (Option<i32>, String) {
    let command = format!(
        "{} install --skip-preflight --sha256 {} --mirror {} {VERSION}",
        crate::support::strap_bin().display(),
        s.sha,
        s.mirror.template("a")
    );
    let mut child = std::process::Command::new("script")
        .args(["-qefc", &command, "/dev/null"])
        .env_clear()
        .envs(s.env.env_pairs())
        .env("TERM", "xterm")
        .env("FAKE_BUILD_SECONDS", "30")
        .current_dir(s.env.work())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    wait_while_running(&mut child, "the build compiling", || {
        processes_in(&s.env.root()).iter().any(|pid| {
            fs::read_to_string(format!("/proc/{pid}/cmdline")).is_ok_and(|c| c.starts_with("sleep"))
        })
    });
    crate::support::type_into(child, input)
}

#[test]
fn ctrl_c_typed_at_the_terminal_leaves_a_clean_screen() {
    let s = Setup::new();
    let (code, screen) = typed_during_the_build(&s, b"\x03");
    assert_eq!(code, Some(130), "{screen}");
    assert!(
        screen.contains("! compile    interrupted after"),
        "{screen:?}"
    );
    assert!(
        !screen.contains("^C"),
        "the terminal echoed ^C into the display: {screen:?}"
    );
    s.assert_nothing_installed();
    assert!(wait_for_no_processes_in(&s.env.root()).is_empty());
}

/// Runs ARGS in a new pseudo-terminal, reads what it shows for SECONDS, then closes the terminal
/// (a hang-up, as when a terminal window is closed); prints the exit code.
const HANG_UP: &str = r#"
import os, pty, select, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
end = time.time() + float(sys.argv[1])
while time.time() < end:
    if select.select([fd], [], [], 0.1)[0]:
        try:
            os.read(fd, 4096)
        except OSError:
            break
os.close(fd)
print(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
"#;

#[test]
fn closing_the_terminal_mid_build_cleans_up_like_ctrl_c() {
    let s = Setup::new();
    let out = s
        .env
        .command("/usr/bin/python3")
        .args(["-c", HANG_UP, "3"])
        .arg(crate::support::strap_bin())
        .args(["install", "--skip-preflight", "--sha256", &s.sha])
        .args(["--mirror", &s.mirror.template("a"), VERSION])
        .env("TERM", "xterm")
        .env("FAKE_BUILD_SECONDS", "30")
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    assert_eq!(stdout_of(&out).trim(), "130", "{}", stderr_of(&out));
    s.assert_nothing_installed();
    assert!(wait_for_no_processes_in(&s.env.root()).is_empty());
}

#[test]
#[ignore = "mounts a tmpfs: needs root; .ci/run runs it with --ignored"]
fn a_full_disk_during_the_download_is_named_and_stops() {
    let s = Setup::new();
    let big = noise(1024 * 1024);
    let cache = Tmpfs::mount(&s.env.dir.path().join("small-cache"), "256k");
    s.mirror
        .route(&format!("/big/{FILE}"), Behavior::Serve(big.clone()));
    s.mirror
        .route(&format!("/other/{FILE}"), Behavior::Serve(big.clone()));
    let out = s
        .env
        .strap(&["install", "--skip-preflight", "--sha256", &sha256_hex(&big)])
        .args(["--mirror", &s.mirror.template("big")])
        .args(["--mirror", &s.mirror.template("other"), VERSION])
        .env("STRAP_CACHE_DIR", &cache.0)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr_of(&out);
    assert!(err.contains("No space left on device"), "{err}");
    assert!(err.contains(&cache.0.display().to_string()), "{err}");
    assert!(!err.contains("every mirror failed"), "{err}");
    assert!(
        !s.mirror
            .requests()
            .iter()
            .any(|r| r.path == format!("/other/{FILE}")),
        "a full local disk is not the mirror's fault: the next mirror must not be tried"
    );
}

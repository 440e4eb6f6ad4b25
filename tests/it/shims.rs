//! Shims and rehash: links to the binary, stale removal, idempotency, concurrency, and the shim
//! path passing arguments, stdin, exit status and signals through untouched.

use std::fs;
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;

use predicates::prelude::*;

use crate::support::{stdout_of, strap_bin, write_script, TestEnv};

/// The shims that exist with no version installed, and that rehash never removes.
const ALWAYS: [&str; 4] = ["pip", "pip3", "python", "python3"];

fn shim_names(env: &TestEnv) -> Vec<String> {
    let out = env.strap(&["shims", "--short"]).output().unwrap();
    stdout_of(&out).lines().map(str::to_owned).collect()
}

#[test]
fn rehash_links_every_executable_name_to_strap() {
    let env = TestEnv::new();
    env.fake_version("3.12.7", &["python3", "pip3", "idle3"]);
    env.fake_version("2.7.18", &["python2.7", "python3"]);
    // Not executable and hidden files are not commands.
    env.write("root/versions/3.12.7/bin/README", "x");
    env.write("root/versions/3.12.7/bin/.hidden", "x");
    env.rehash();
    // `pip` and `python` too: the shims that always exist.
    assert_eq!(
        shim_names(&env),
        ["idle3", "pip", "pip3", "python", "python2.7", "python3"]
    );
    for name in ["python3", "python2.7"] {
        let target = fs::read_link(env.shims().join(name)).unwrap();
        assert_eq!(target, crate::support::shim_bin().canonicalize().unwrap());
    }
}

#[test]
fn a_link_to_strap_itself_also_works_as_a_shim() {
    let env = TestEnv::new();
    env.fake_version("3.12.7", &["python3"]);
    env.write("root/version", "3.12.7\n");
    let link = env.dir.path().join("python3");
    std::os::unix::fs::symlink(strap_bin(), &link).unwrap();
    env.command(&link)
        .arg("x")
        .assert()
        .success()
        .stdout("3.12.7 python3 x\n");
    // And the shim binary under its own name is the CLI.
    env.command(crate::support::shim_bin())
        .arg("version-name")
        .assert()
        .success()
        .stdout("3.12.7\n");
}

#[test]
fn rehash_removes_stale_shims_and_is_idempotent() {
    let env = TestEnv::new();
    env.fake_version("3.12.7", &["python3", "pip3"]);
    env.fake_version("2.7.18", &["python2.7"]);
    env.rehash();
    fs::remove_dir_all(env.root().join("versions/2.7.18")).unwrap();
    // As pyenv's, rehash says nothing when it succeeds.
    env.strap(&["rehash"])
        .assert()
        .success()
        .stdout("")
        .stderr("");
    assert_eq!(shim_names(&env), ["pip", "pip3", "python", "python3"]);
    // Nothing to do the second time: nothing said, nothing changed.
    let before = fs::symlink_metadata(env.shims().join("python3"))
        .unwrap()
        .modified()
        .unwrap();
    env.strap(&["rehash"]).assert().success().stderr("");
    let after = fs::symlink_metadata(env.shims().join("python3"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(before, after);
}

#[test]
fn rehash_repoints_a_shim_that_is_not_a_link_to_strap() {
    let env = TestEnv::new();
    env.fake_version("3.12.7", &["python3"]);
    // As in a pyenv root: the shims are bash scripts.
    write_script(
        &env.shims().join("python3"),
        "exec pyenv exec python3 \"$@\"",
    );
    env.rehash();
    assert!(fs::read_link(env.shims().join("python3")).is_ok());
}

#[test]
fn concurrent_rehashes_all_succeed_with_a_consistent_result() {
    let env = TestEnv::new();
    let commands: Vec<String> = (0..40).map(|i| format!("tool{i}")).collect();
    let refs: Vec<&str> = commands.iter().map(String::as_str).collect();
    env.fake_version("3.12.7", &refs);
    let children: Vec<_> = (0..8)
        .map(|_| {
            let mut cmd = std::process::Command::new(strap_bin());
            cmd.env_clear()
                .envs(env.env_pairs())
                .arg("rehash")
                .stderr(Stdio::piped());
            cmd.spawn().unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(shim_names(&env).len(), 40 + ALWAYS.len());
    let leftovers: Vec<_> = fs::read_dir(env.shims())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
        .collect();
    assert!(
        leftovers.is_empty(),
        "temporary links left behind: {leftovers:?}"
    );
}

#[test]
fn rehash_into_an_unwritable_shims_location_fails_clearly() {
    let env = TestEnv::new();
    env.fake_version("3.12.7", &["python3"]);
    // A file where the shims directory should be (permission bits do not stop root).
    fs::write(env.shims(), "not a directory").unwrap();
    env.strap(&["rehash"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("cannot create shims directory"))
        .stderr(predicate::str::contains(env.shims().display().to_string()));
}

#[test]
#[ignore = "runs strap as an unprivileged user: needs root and setpriv; .ci/run runs it with --ignored"]
fn rehash_into_a_read_only_shims_directory_fails_clearly() {
    use std::os::unix::fs::PermissionsExt;
    assert!(
        crate::support::can_drop_privileges(),
        "this test runs strap as user 65534: run it as root on a machine with /usr/bin/setpriv"
    );
    let env = TestEnv::new();
    env.fake_version("3.12.7", &["python3"]);
    fs::create_dir_all(env.shims()).unwrap();
    fs::create_dir_all(env.root().join("locks")).unwrap();
    for (dir, mode) in [
        (env.dir.path().to_path_buf(), 0o755),
        (env.root(), 0o755),
        (env.work(), 0o755),
        (env.root().join("locks"), 0o777),
        (env.shims(), 0o555),
    ] {
        fs::set_permissions(&dir, fs::Permissions::from_mode(mode)).unwrap();
    }
    env.strap_as_nobody(&["rehash"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(format!(
            "cannot create shim {}: Permission denied",
            env.shims().join("pip").display()
        )));
    assert!(fs::read_dir(env.shims()).unwrap().next().is_none());
}

#[test]
fn root_that_does_not_exist_is_created_on_demand() {
    let env = TestEnv::new();
    let fresh = env.dir.path().join("new/root");
    env.strap(&["versions", "--bare"])
        .env("STRAP_ROOT", &fresh)
        .assert()
        .success()
        .stdout("");
    env.strap(&["global", "system"])
        .env("STRAP_ROOT", &fresh)
        .assert()
        .success();
    assert_eq!(
        fs::read_to_string(fresh.join("version")).unwrap(),
        "system\n"
    );
    env.strap(&["rehash"])
        .env("STRAP_ROOT", &fresh)
        .assert()
        .success();
    assert!(fresh.join("shims").is_dir());
}

#[test]
fn shim_passes_arguments_stdin_and_exit_status() {
    let env = TestEnv::new();
    let bin = env.root().join("versions/3.12.7/bin");
    write_script(
        &bin.join("python3"),
        "for a in \"$@\"; do printf '[%s]' \"$a\"; done; echo; cat; exit 42",
    );
    env.write("root/version", "3.12.7\n");
    env.rehash();
    env.command(env.shims().join("python3"))
        .args(["a b", "", "--flag", "-c", "$HOME"])
        .write_stdin("from stdin\n")
        .assert()
        .code(42)
        .stdout("[a b][][--flag][-c][$HOME]\nfrom stdin\n");
}

#[test]
fn shim_delivers_signals_to_the_program_itself() {
    let env = TestEnv::new();
    let bin = env.root().join("versions/3.12.7/bin");
    // The program reports its own pid; with exec there is no strap process in between.
    write_script(&bin.join("python3"), "echo $$; exec sleep 30");
    env.write("root/version", "3.12.7\n");
    env.rehash();
    let mut child = std::process::Command::new(env.shims().join("python3"))
        .env_clear()
        .envs(env.env_pairs())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().unwrap()),
        &mut line,
    )
    .unwrap();
    assert_eq!(
        line.trim().parse::<u32>().unwrap(),
        child.id(),
        "the shim did not exec"
    );
    crate::support::signal(child.id(), libc::SIGTERM);
    let status = child.wait().unwrap();
    assert_eq!(status.signal(), Some(15));
}

#[test]
fn shim_puts_the_versions_bin_first_on_path() {
    let env = TestEnv::new();
    let bin = env.root().join("versions/3.12.7/bin");
    write_script(&bin.join("python3"), "echo \"$PATH\"");
    env.write("root/version", "3.12.7\n");
    env.rehash();
    let out = env.command(env.shims().join("python3")).output().unwrap();
    assert!(stdout_of(&out).starts_with(&format!("{}:", bin.display())));
}

#[test]
fn command_missing_from_the_selection_exits_127_naming_versions_that_have_it() {
    let env = TestEnv::new();
    env.fake_version("3.12.7", &["python3"]);
    env.fake_version("2.7.18", &["python2.7"]);
    env.fake_version("2.7.17", &["python2.7"]);
    env.write("root/version", "3.12.7\n");
    env.rehash();
    env.command(env.shims().join("python2.7"))
        .assert()
        .code(127)
        .stderr(predicate::str::contains("python2.7: command not found"))
        .stderr(predicate::str::contains("\n  2.7.17\n  2.7.18"))
        .stderr(predicate::str::contains("strap shell 2.7.17"));
    env.strap(&["which", "python2.7"]).assert().code(127);
    env.strap(&["exec", "python2.7"]).assert().code(127);
    env.strap(&["whence", "python2.7"])
        .assert()
        .success()
        .stdout("2.7.17\n2.7.18\n");
    env.strap(&["whence", "--path", "python2.7"])
        .assert()
        .stdout(format!(
            "{}\n{}\n",
            env.root().join("versions/2.7.17/bin/python2.7").display(),
            env.root().join("versions/2.7.18/bin/python2.7").display()
        ));
    env.strap(&["whence", "nothing"]).assert().code(1);
}

#[test]
fn exec_runs_like_a_shim() {
    let env = TestEnv::new();
    env.fake_version("3.12.7", &["pip"]);
    env.write("root/version", "3.12.7\n");
    env.strap(&["exec", "pip", "install", "--upgrade", "x"])
        .assert()
        .success()
        .stdout("3.12.7 pip install --upgrade x\n");
}

#[test]
fn a_shim_loop_is_stopped() {
    let env = TestEnv::new();
    let bin = env.root().join("versions/3.12.7/bin");
    fs::create_dir_all(&bin).unwrap();
    // A version whose python3 runs the shim again.
    write_script(
        &bin.join("python3"),
        &format!("exec {} \"$@\"", env.shims().join("python3").display()),
    );
    env.write("root/version", "3.12.7\n");
    env.rehash();
    env.command(env.shims().join("python3"))
        .timeout(std::time::Duration::from_secs(20))
        .assert()
        .code(1)
        .stderr(predicate::str::contains("shim loop"));
}

#[test]
fn uninstall_removes_the_version_and_its_stale_shims() {
    let env = TestEnv::new();
    env.fake_version("3.12.7", &["python3"]);
    env.fake_version("2.7.18", &["python2.7"]);
    env.rehash();
    env.strap(&["uninstall", "2.7.18"]).assert().success();
    assert!(!env.root().join("versions/2.7.18").exists());
    assert_eq!(shim_names(&env), ["pip", "pip3", "python", "python3"]);
    env.strap(&["uninstall", "2.7.18"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("'2.7.18' is not installed"));
    env.strap(&["uninstall", "-f", "2.7.18"]).assert().success();
    env.strap(&["uninstall", "../versions"]).assert().code(2);
    env.strap(&["uninstall", ".."]).assert().code(2);
    assert!(env.root().join("versions/3.12.7").exists());
}

#[test]
fn end_to_end_through_a_shim_to_a_real_interpreter() {
    let env = TestEnv::new();
    // The first python3 on PATH that is a real interpreter, not some tool's shim script.
    let path = std::env::var_os("PATH").unwrap_or_default();
    let real = std::env::split_paths(&path)
        .filter(|dir| !dir.ends_with("shims"))
        .filter_map(|dir| dir.join("python3").canonicalize().ok())
        .find(|exe| fs::read(exe).is_ok_and(|bytes| bytes.starts_with(b"\x7fELF")))
        .expect("a python3 interpreter on PATH");
    let bin = env.root().join("versions/3.11.2/bin");
    fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(&real, bin.join("python3")).unwrap();
    env.strap(&["global", "3.11"]).assert().success();
    env.rehash();
    env.command(env.shims().join("python3"))
        .args([
            "-c",
            "import sys; print(sys.argv[1:]); print(sys.stdin.read()); sys.exit(3)",
            "x y",
        ])
        .write_stdin("piped")
        .assert()
        .code(3)
        .stdout("['x y']\npiped\n");
}

/// A root `R` whose global version is 3.12.7, its shims made by `strap rehash` with
/// `STRAP_ROOT=R`, and a fake system `python3` on PATH (what a shim that lost its root runs).
fn root_with_shims(env: &TestEnv) {
    env.fake_version("3.12.7", &["python3"]);
    env.write("root/version", "3.12.7\n");
    env.fake_system("python3");
    env.rehash();
}

/// PATH without the shims (so a shim that does not know its root finds the fake system python3).
fn path_without_shims(env: &TestEnv) -> String {
    format!("{}:/usr/bin:/bin", env.sysbin().display())
}

#[test]
fn a_shim_run_by_its_path_without_strap_root_uses_the_root_it_lives_in() {
    let env = TestEnv::new();
    root_with_shims(&env);
    env.command(env.shims().join("python3"))
        .env_remove("STRAP_ROOT")
        .env("PATH", path_without_shims(&env))
        .arg("--x")
        .assert()
        .success()
        .stdout("3.12.7 python3 --x\n");
}

#[test]
fn a_shim_found_on_path_by_a_shell_without_strap_root_uses_the_root_it_lives_in() {
    let env = TestEnv::new();
    root_with_shims(&env);
    // PATH: the shims first, then the fake system python3.
    env.command("sh")
        .env_remove("STRAP_ROOT")
        .args(["-c", "python3 --x"])
        .assert()
        .success()
        .stdout("3.12.7 python3 --x\n");
}

#[test]
fn a_shim_run_by_a_relative_path_without_strap_root_uses_the_root_it_lives_in() {
    let env = TestEnv::new();
    root_with_shims(&env);
    for (cwd, program) in [(env.shims(), "./python3"), (env.root(), "shims/python3")] {
        env.command(program)
            .current_dir(&cwd)
            .env_remove("STRAP_ROOT")
            .env("PATH", path_without_shims(&env))
            .arg("--x")
            .assert()
            .success()
            .stdout("3.12.7 python3 --x\n");
    }
}

#[test]
fn a_shims_own_root_wins_over_a_strap_root_naming_another_root() {
    let env = TestEnv::new();
    root_with_shims(&env);
    let other = env.dir.path().join("other");
    env.write("other/version", "2.7.18\n");
    write_script(
        &other.join("versions/2.7.18/bin/python3"),
        "echo \"other 2.7.18 python3 $*\"",
    );
    env.command(env.shims().join("python3"))
        .env("STRAP_ROOT", &other)
        .env("PATH", path_without_shims(&env))
        .arg("--x")
        .assert()
        .success()
        .stdout("3.12.7 python3 --x\n");
    // Only the shim's root is its own: strap itself still follows STRAP_ROOT.
    env.strap(&["version-name"])
        .env("STRAP_ROOT", &other)
        .assert()
        .success()
        .stdout("2.7.18\n");
}

#[test]
fn a_shim_link_outside_a_shims_directory_uses_strap_root_then_the_default_root() {
    let env = TestEnv::new();
    root_with_shims(&env);
    let link = env.dir.path().join("bin/python3");
    fs::create_dir_all(link.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(crate::support::shim_bin(), &link).unwrap();
    env.command(&link)
        .env("PATH", path_without_shims(&env))
        .arg("--x")
        .assert()
        .success()
        .stdout("3.12.7 python3 --x\n");
    // Without STRAP_ROOT: the default root under HOME.
    env.write("home/.local/share/strap/version", "3.11.2\n");
    write_script(
        &env.home()
            .join(".local/share/strap/versions/3.11.2/bin/python3"),
        "echo \"default 3.11.2 python3 $*\"",
    );
    env.command(&link)
        .env_remove("STRAP_ROOT")
        .env("PATH", path_without_shims(&env))
        .arg("--x")
        .assert()
        .success()
        .stdout("default 3.11.2 python3 --x\n");
}

#[test]
fn a_link_to_a_shim_elsewhere_without_strap_root_uses_the_shims_root() {
    let env = TestEnv::new();
    root_with_shims(&env);
    let bin = env.dir.path().join("ubin");
    fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(env.shims().join("python3"), bin.join("python3")).unwrap();
    env.command("sh")
        .args(["-c", "python3 --x"])
        .env_remove("STRAP_ROOT")
        .env(
            "PATH",
            format!("{}:{}", bin.display(), path_without_shims(&env)),
        )
        .assert()
        .success()
        .stdout("3.12.7 python3 --x\n");
}

#[test]
fn strap_force_arg0_runs_the_shim_path_with_strap_root() {
    let env = TestEnv::new();
    root_with_shims(&env);
    env.command(strap_bin())
        .env("STRAP_FORCE_ARG0", "python3")
        .env("PATH", path_without_shims(&env))
        .arg("--x")
        .assert()
        .success()
        .stdout("3.12.7 python3 --x\n");
}

#[test]
fn the_python_and_pip_shims_exist_without_any_version_and_are_never_removed() {
    let env = TestEnv::new();
    env.strap(&["rehash"]).assert().success().stderr("");
    assert_eq!(shim_names(&env), ALWAYS);
    for name in ALWAYS {
        let target = fs::read_link(env.shims().join(name)).unwrap();
        assert_eq!(target, crate::support::shim_bin().canonicalize().unwrap());
    }
    env.fake_version("3.12.7", &["python3", "python3.12", "pip3"]);
    env.rehash();
    assert_eq!(
        shim_names(&env),
        ["pip", "pip3", "python", "python3", "python3.12"]
    );
    // Uninstalling the only version removes its other shims, not these.
    env.strap(&["uninstall", "3.12.7"]).assert().success();
    assert_eq!(shim_names(&env), ALWAYS);
    env.strap(&["rehash"]).assert().success().stderr("");
    assert_eq!(shim_names(&env), ALWAYS);
}

#[test]
fn a_pinned_version_that_is_not_installed_fails_through_the_shims_instead_of_running_the_system() {
    // A fresh clone: `.python-version` names 3.11, nothing is installed, the system has Python.
    let env = TestEnv::new();
    for name in ALWAYS {
        env.fake_system(name);
    }
    env.rehash();
    env.write("work/.python-version", "3.11\n");
    // Run by name through a shell, as a user types it (PATH: the shims, then the system).
    for name in ALWAYS {
        let out = env
            .command("/bin/sh")
            .args(["-c", &format!("{name} --version")])
            .output()
            .unwrap();
        let err = crate::support::stderr_of(&out);
        assert_eq!(out.status.code(), Some(1), "{name}: {err}");
        assert_eq!(stdout_of(&out), "", "{name} ran something");
        assert!(
            err.contains("version '3.11' is not installed (set by")
                && err.contains(".python-version"),
            "{name}: {err}"
        );
        assert!(err.contains("`strap install 3.11`"), "{name}: {err}");
    }
    env.strap(&["which", "python3"]).assert().code(1);
}

#[test]
fn with_system_or_no_selection_the_always_shims_run_the_system_programs() {
    let env = TestEnv::new();
    env.fake_system("python3");
    env.rehash();
    // Only the shims and the fake system directory: this machine's own pip stays out of it.
    let path = format!("{}:{}", env.shims().display(), env.sysbin().display());
    let sh = |script: &str| {
        let mut cmd = env.command("/bin/sh");
        cmd.env("PATH", &path).args(["-c", script]);
        cmd
    };
    for selection in [None, Some("system")] {
        if let Some(name) = selection {
            env.strap(&["global", name]).assert().success();
        }
        sh("python3 -V")
            .assert()
            .success()
            .stdout("system python3 -V\n");
        // No system pip: the shim says so as a shell would, with the shell's exit code.
        sh("pip install x")
            .assert()
            .code(127)
            .stdout("")
            .stderr(predicate::str::contains("pip: command not found"));
    }
}

// ---- A selected version whose command is present but broken (issue 18, C14) ----

/// Makes `path` a FIFO.
fn mkfifo(path: &std::path::Path) {
    let ok = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap()
        .success();
    assert!(ok, "mkfifo {}", path.display());
}

/// `python3` run by name through a shell (as a user types it), then `strap which` and `strap
/// exec`: each must fail with `code` and name the version, never run the system's `python3`.
fn assert_broken(env: &TestEnv, version: &str, code: i32, problem: &str) {
    let out = env
        .command("/bin/sh")
        .args(["-c", "python3 -c x"])
        .output()
        .unwrap();
    let err = crate::support::stderr_of(&out);
    assert_eq!(out.status.code(), Some(code), "{err}");
    assert_eq!(stdout_of(&out), "", "the system python3 ran: {err}");
    assert!(
        err.starts_with(&format!(
            "strap: error: version '{version}' is broken (set by {}): ",
            env.root().join("version").display()
        )) && err.contains(problem),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "hint: reinstall it with `strap install -f {version}`"
        )),
        "{err}"
    );
    for args in [&["which", "python3"][..], &["exec", "python3", "-c", "x"]] {
        env.strap(args)
            .assert()
            .code(code)
            .stdout("")
            .stderr(predicate::str::contains(format!(
                "version '{version}' is broken"
            )));
    }
}

#[test]
fn a_broken_python3_in_the_selected_version_fails_instead_of_running_the_system_one() {
    let env = TestEnv::new();
    env.fake_system("python3");
    let bin = env.root().join("versions/3.12.7/bin");
    fs::create_dir_all(&bin).unwrap();
    env.write("root/version", "3.12.7\n");
    env.rehash();
    let python3 = bin.join("python3");

    // A link whose target is gone, and a loop of links: no program, 127.
    std::os::unix::fs::symlink("/nonexistent/python3.12", &python3).unwrap();
    assert_broken(
        &env,
        "3.12.7",
        127,
        "python3 is a link to /nonexistent/python3.12, which does not exist",
    );
    fs::remove_file(&python3).unwrap();
    std::os::unix::fs::symlink("python3", &python3).unwrap();
    assert_broken(&env, "3.12.7", 127, "which does not exist");

    // A file without an execute bit, a directory, a FIFO: a program that cannot run, 126.
    fs::remove_file(&python3).unwrap();
    fs::write(&python3, "#!/bin/sh\necho never\n").unwrap();
    fs::set_permissions(
        &python3,
        std::os::unix::fs::PermissionsExt::from_mode(0o644),
    )
    .unwrap();
    assert_broken(&env, "3.12.7", 126, "python3 is not executable (mode 644)");
    fs::remove_file(&python3).unwrap();
    fs::create_dir(&python3).unwrap();
    assert_broken(&env, "3.12.7", 126, "python3 is a directory, not a program");
    fs::remove_dir(&python3).unwrap();
    mkfifo(&python3);
    assert_broken(&env, "3.12.7", 126, "python3 is a FIFO, not a program");

    // A version without `bin/`: nothing in it can run, 127.
    fs::remove_dir_all(&bin).unwrap();
    assert_broken(&env, "3.12.7", 127, "there is no directory");
}

#[test]
fn a_command_the_selected_version_lacks_still_comes_from_the_next_version_or_the_system() {
    let env = TestEnv::new();
    env.fake_system("pip");
    env.fake_version("3.12.7", &["python3"]);
    env.fake_version("2.7.18", &["python2.7"]);
    env.write("root/version", "3.12.7\n2.7.18\n");
    env.rehash();
    // No `pip` in 3.12.7 nor 2.7.18: the system's, as pyenv does.
    env.command("/bin/sh")
        .args(["-c", "pip list"])
        .assert()
        .success()
        .stdout("system pip list\n");
    env.command("/bin/sh")
        .args(["-c", "python2.7 -V"])
        .assert()
        .success()
        .stdout("2.7.18 python2.7 -V\n");
    // The second version's entry is broken: an error naming it, not the system's python2.7.
    env.fake_system("python2.7");
    let python27 = env.root().join("versions/2.7.18/bin/python2.7");
    fs::remove_file(&python27).unwrap();
    std::os::unix::fs::symlink("/nonexistent/python2.7", &python27).unwrap();
    env.command("/bin/sh")
        .args(["-c", "python2.7 -V"])
        .assert()
        .code(127)
        .stdout("")
        .stderr(predicate::str::contains(
            "version '2.7.18' is broken (set by",
        ))
        .stderr(predicate::str::contains("strap install -f 2.7.18"));
}

#[test]
fn rehash_keeps_the_shim_of_a_dangling_entry_so_it_cannot_fall_through_to_the_system() {
    let env = TestEnv::new();
    env.fake_system("python3.12");
    env.fake_version("3.12.7", &["python3"]);
    let link = env.root().join("versions/3.12.7/bin/python3.12");
    std::os::unix::fs::symlink("/nonexistent/python3.12", &link).unwrap();
    env.write("root/version", "3.12.7\n");
    env.rehash();
    assert!(shim_names(&env).contains(&"python3.12".to_owned()));
    env.command("/bin/sh")
        .args(["-c", "python3.12 -V"])
        .assert()
        .code(127)
        .stdout("")
        .stderr(predicate::str::contains("version '3.12.7' is broken"));
}

#[test]
fn a_broken_virtualenv_is_named_with_how_to_make_it_again() {
    let env = TestEnv::new();
    env.fake_system("python3");
    // A virtualenv whose interpreter links to a Python that is gone.
    let venv = env.root().join("versions/3.12.7/envs/proj");
    fs::create_dir_all(venv.join("bin")).unwrap();
    std::os::unix::fs::symlink("/nonexistent/bin/python3", venv.join("bin/python3")).unwrap();
    std::os::unix::fs::symlink(&venv, env.root().join("versions/proj")).unwrap();
    env.write("work/.python-version", "proj\n");
    env.rehash();
    env.command("/bin/sh")
        .args(["-c", "python3 -V"])
        .assert()
        .code(127)
        .stdout("")
        .stderr(predicate::str::contains("version 'proj' is broken (set by"))
        .stderr(predicate::str::contains(
            "`strap virtualenv-delete -f proj`, then `strap virtualenv PYTHON proj`",
        ));
}

// ---- The shims' hint for a version that is not installed (issue 18, C15) ----

/// The `hint:` line of a failed command's stderr.
fn hint_of(out: &std::process::Output) -> String {
    let err = crate::support::stderr_of(out);
    err.lines()
        .find(|line| line.starts_with("hint: "))
        .unwrap_or_else(|| panic!("no hint: {err}"))
        .to_owned()
}

#[test]
fn a_shim_suggests_strap_install_only_for_versions_strap_can_build() {
    let env = TestEnv::new();
    env.fake_system("python3");
    env.rehash();
    for (pinned, expected) in [
        ("3.99", "3.99 is not a CPython version strap knows"),
        ("proj", "proj is not a version strap can install"),
        ("3.12.7", "install it with `strap install 3.12.7`"),
    ] {
        env.write("work/.python-version", &format!("{pinned}\n"));
        let through_shim = env
            .command("/bin/sh")
            .args(["-c", "python3 -c x"])
            .output()
            .unwrap();
        assert_eq!(through_shim.status.code(), Some(1));
        assert_eq!(stdout_of(&through_shim), "", "the system python3 ran");
        let hint = hint_of(&through_shim);
        assert!(hint.contains(expected), "{pinned}: {hint}");
        if pinned != "3.12.7" {
            assert!(!hint.contains(&format!("strap install {pinned}")), "{hint}");
        }
        // The same hint as `strap version`'s.
        let cli = env.strap(&["version"]).output().unwrap();
        assert_eq!(hint, hint_of(&cli), "{pinned}");
    }
}

// ---- Nesting: only shim-to-shim starts count (issue 18, C17) ----

#[test]
fn pythons_nested_twenty_deep_through_shims_are_not_a_shim_loop() {
    let env = TestEnv::new();
    let bin = env.root().join("versions/3.12.7/bin");
    // Each level runs the next through the shim, as a child (a Python program starting Python).
    write_script(
        &bin.join("python3"),
        &format!(
            "n=${{1:-0}}\nif [ \"$n\" -lt 20 ]; then {} $((n + 1)) || exit $?; else echo \"depth $n\"; fi",
            env.shims().join("python3").display()
        ),
    );
    env.write("root/version", "3.12.7\n");
    env.rehash();
    env.command(env.shims().join("python3"))
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .success()
        .stdout("depth 20\n");
}

#[test]
fn a_version_whose_python_links_back_to_the_shim_is_a_shim_loop() {
    let env = TestEnv::new();
    let bin = env.root().join("versions/3.12.7/bin");
    fs::create_dir_all(&bin).unwrap();
    env.write("root/version", "3.12.7\n");
    env.rehash();
    std::os::unix::fs::symlink(env.shims().join("python3"), bin.join("python3")).unwrap();
    // `pip` too, whose installs run as a child of strap (the rehash after them).
    std::os::unix::fs::symlink(env.shims().join("pip"), bin.join("pip")).unwrap();
    for (name, args) in [("python3", ["-c", "x"]), ("pip", ["install", "x"])] {
        env.command(env.shims().join(name))
            .args(args)
            .timeout(std::time::Duration::from_secs(60))
            .assert()
            .code(1)
            .stderr(predicate::str::contains(format!(
                "shim loop: '{name}' was started through shims too many times in a row"
            )));
    }
}

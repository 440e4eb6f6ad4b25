//! Recipes: the engine with real shell steps in temporary directories, and the built-in recipes
//! against stub system tools (which record their arguments and keep state) and a `--sysroot`.

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;

use crate::support::{
    install_stub_tools, signal, stderr_of, stdout_of, wait_for_exit, wait_until,
    wait_while_running, TestEnv, PATIENCE,
};

/// A test machine for recipes: stub tools first on PATH, their state, a sysroot with a Debian
/// os-release run by systemd (`/run/systemd/system`), and the user's recipe directory.
pub(crate) struct Machine {
    pub(crate) env: TestEnv,
}

impl Machine {
    pub(crate) fn new() -> Machine {
        let env = TestEnv::new();
        install_stub_tools(&env.dir.path().join("stubs"));
        env.write(
            "sysroot/etc/os-release",
            "ID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n",
        );
        fs::create_dir_all(env.dir.path().join("sysroot/run/systemd/system")).unwrap();
        fs::create_dir_all(env.dir.path().join("state")).unwrap();
        env.fake_sudo();
        Machine { env }
    }

    /// A machine whose PID 1 is `pid1`, not systemd, with `dirs` made in the sysroot (OpenRC's
    /// `run/openrc`, …).
    fn booted_by(pid1: &str, dirs: &[&str]) -> Machine {
        let m = Machine::new();
        fs::remove_dir_all(m.sysroot().join("run/systemd")).unwrap();
        m.env.write("sysroot/proc/1/comm", &format!("{pid1}\n"));
        for dir in dirs {
            fs::create_dir_all(m.sysroot().join(dir)).unwrap();
        }
        m
    }

    pub(crate) fn sysroot(&self) -> PathBuf {
        self.env.dir.path().join("sysroot")
    }

    pub(crate) fn state(&self) -> PathBuf {
        self.env.dir.path().join("state")
    }

    /// `strap recipe run ARGS --sysroot <sysroot>` with the stubs first on PATH.
    pub(crate) fn run(&self, args: &[&str]) -> Command {
        Command::from_std(self.command(args))
    }

    /// [`Machine::run`] as a plain command, for tests that signal it while it runs.
    fn command(&self, args: &[&str]) -> std::process::Command {
        let mut cmd = self.strap(&["recipe", "run"]);
        cmd.args(args).arg("--sysroot").arg(self.sysroot());
        cmd
    }

    /// `strap ARGS` with the stubs first on PATH.
    fn strap(&self, args: &[&str]) -> std::process::Command {
        let mut cmd = self.env.strap_process(args);
        cmd.env(
            "PATH",
            format!(
                "{}:{}:/usr/bin:/bin",
                self.env.dir.path().join("stubs").display(),
                self.env.sysbin().display()
            ),
        )
        .env("STUB_STATE", self.state())
        .env("STUB_SYSROOT", self.sysroot())
        .env("XDG_CONFIG_HOME", self.env.home().join(".config"));
        cmd
    }

    /// Writes a recipe into the user's recipe directory.
    pub(crate) fn recipe(&self, name: &str, text: &str) -> PathBuf {
        self.env
            .write(&format!("home/.config/strap/recipes/{name}.toml"), text)
    }

    fn calls(&self) -> String {
        fs::read_to_string(self.state().join("calls.log")).unwrap_or_default()
    }

    fn state_file(&self, relative: &str) -> PathBuf {
        let path = self.state().join(relative);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        path
    }
}

fn summary_of(out: &std::process::Output) -> String {
    stdout_of(out)
        .lines()
        .find(|l| l.contains("ok=") && l.contains("failed="))
        .map(|l| l.split("   (log").next().unwrap().to_owned())
        .unwrap_or_else(|| panic!("no summary in:\n{}", stdout_of(out)))
}

fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "recipe run failed:\n{}\n{}",
        stdout_of(&out),
        String::from_utf8_lossy(&out.stderr)
    );
    summary_of(&out)
}

const ENGINE: &str = r#"
name = "engine"
description = "engine test"

[vars.flag]
type = "bool"
default = false

[[step]]
name = "create a"
check = "test -f {{ sysroot }}/a"
run = "touch {{ sysroot }}/a"
notify = ["count"]

[[step]]
name = "create b"
check = "test -f {{ sysroot }}/b"
run = "touch {{ sysroot }}/b"
notify = ["count"]

[[step]]
name = "only with flag"
when = "flag"
run = "touch {{ sysroot }}/flagged"

[[handler]]
name = "count"
run = "echo ran >> {{ sysroot }}/handler"
"#;

#[test]
fn steps_check_run_skip_and_a_second_run_changes_nothing() {
    let m = Machine::new();
    m.recipe("engine", ENGINE);
    assert_eq!(
        run_ok(&mut m.run(&["engine"])),
        "ok=0 changed=3 skipped=1 failed=0"
    );
    assert!(m.sysroot().join("a").exists() && m.sysroot().join("b").exists());
    assert!(!m.sysroot().join("flagged").exists());
    // The handler ran once although two steps notified it.
    assert_eq!(
        fs::read_to_string(m.sysroot().join("handler")).unwrap(),
        "ran\n"
    );
    assert_eq!(
        run_ok(&mut m.run(&["engine"])),
        "ok=2 changed=0 skipped=1 failed=0"
    );
    assert_eq!(
        fs::read_to_string(m.sysroot().join("handler")).unwrap(),
        "ran\n"
    );
    let logs: String = fs::read_dir(m.env.root().join("logs"))
        .unwrap()
        .map(|e| fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert!(
        logs.contains("$ /bin/sh -c 'touch ") && logs.contains("# exit: exit status: 0"),
        "{logs}"
    );
}

#[test]
fn dry_run_changes_nothing_and_detailed_exitcode_says_so() {
    let m = Machine::new();
    m.recipe("engine", ENGINE);
    let out = m
        .run(&["engine", "--dry-run", "--detailed-exitcode"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stdout_of(&out).contains("would change"));
    assert!(!m.sysroot().join("a").exists() && !m.sysroot().join("handler").exists());
    m.run(&["engine", "--dry-run"]).assert().code(0);
    run_ok(&mut m.run(&["engine"]));
    m.run(&["engine", "--dry-run", "--detailed-exitcode"])
        .assert()
        .code(0);
}

#[test]
fn a_failing_step_stops_the_run_and_shows_its_output() {
    let m = Machine::new();
    m.recipe(
        "fails",
        r#"
name = "fails"
[[step]]
name = "first"
run = "touch {{ sysroot }}/first"
[[step]]
name = "breaks"
run = "echo boom from the step; exit 3"
[[step]]
name = "never"
run = "touch {{ sysroot }}/never"
"#,
    );
    let out = m.run(&["fails"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = stdout_of(&out);
    assert!(
        text.contains("failed") && text.contains("boom from the step"),
        "{text}"
    );
    assert_eq!(summary_of(&out), "ok=0 changed=1 skipped=0 failed=1");
    assert!(!m.sysroot().join("never").exists());
}

#[test]
fn requires_runs_the_other_recipe_first_once() {
    let m = Machine::new();
    m.recipe("base", "name = \"base\"\n[[step]]\nname = \"base step\"\nrun = \"echo base >> {{ sysroot }}/order\"\n");
    m.recipe(
        "top",
        "name = \"top\"\nrequires = [\"base\", { recipe = \"base\" }]\n[[step]]\nname = \"top step\"\nrun = \"echo top >> {{ sysroot }}/order\"\n",
    );
    run_ok(&mut m.run(&["top"]));
    assert_eq!(
        fs::read_to_string(m.sysroot().join("order")).unwrap(),
        "base\ntop\n"
    );
    m.recipe(
        "loop1",
        "name = \"loop1\"\nrequires = [\"loop2\"]\n[[step]]\nname = \"x\"\nrun = \"true\"\n",
    );
    m.recipe(
        "loop2",
        "name = \"loop2\"\nrequires = [\"loop1\"]\n[[step]]\nname = \"x\"\nrun = \"true\"\n",
    );
    m.run(&["loop1"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("cycle"));
    let needs = m.recipe(
        "needs",
        "name = \"needs\"\nrequires = [\"nosuch\"]\n[[step]]\nname = \"x\"\nrun = \"true\"\n",
    );
    m.run(&["needs"])
        .assert()
        .code(1)
        .stderr(predicate::str::starts_with(format!(
            "strap: error: {}: requires 'nosuch': no recipe named 'nosuch'; built-in: can, docker, jenkins; yours (in ",
            needs.display()
        )));
}

/// The processes (not zombies) whose process group is `group`.
fn live_processes_in_group(group: u32) -> Vec<u32> {
    let mut live = Vec::new();
    for entry in fs::read_dir("/proc").unwrap().filter_map(Result::ok) {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if let Some((state, pgrp)) = process_state(pid) {
            if pgrp == group && state != 'Z' {
                live.push(pid);
            }
        }
    }
    live
}

/// A process's state letter and process group, from `/proc/PID/stat`.
fn process_state(pid: u32) -> Option<(char, u32)> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may hold spaces; the fields follow the last `)`.
    let mut fields = stat[stat.rfind(')')? + 1..].split_whitespace();
    let state = fields.next()?.chars().next()?;
    let pgrp = fields.nth(1)?.parse().ok()?;
    Some((state, pgrp))
}

/// The number a step's command wrote into `path`, once it is there.
fn wait_for_number(path: &Path) -> u32 {
    let read = || fs::read_to_string(path).ok()?.trim().parse().ok();
    assert!(
        wait_until(PATIENCE, || read().is_some()),
        "{} never written",
        path.display()
    );
    read().unwrap()
}

/// A step command that writes its process group into `{{ sysroot }}/group`, then leaves a
/// `sleep 60` in the background and waits for another in the foreground.
const SLEEPS_IN_ITS_GROUP: &str =
    "cut -d' ' -f5 /proc/$$/stat > {{ sysroot }}/group; sleep 60 & sleep 60";

fn assert_group_gone(group: u32) {
    assert!(
        wait_until(PATIENCE, || live_processes_in_group(group).is_empty()),
        "processes of the step's group survived: {:?}",
        live_processes_in_group(group)
    );
}

#[test]
fn a_step_timeout_stops_the_command_and_its_children() {
    let m = Machine::new();
    m.recipe(
        "slow",
        &format!(
            "name = \"slow\"\n[[step]]\nname = \"sleeps\"\ntimeout = 1\nrun = \"{SLEEPS_IN_ITS_GROUP}\"\n\
             [[step]]\nname = \"never\"\nrun = \"touch {{{{ sysroot }}}}/never\"\n"
        ),
    );
    m.run(&["slow"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("timed out after 1s: cut -d"));
    assert_group_gone(wait_for_number(&m.sysroot().join("group")));
    assert!(!m.sysroot().join("never").exists());
}

#[test]
fn sigterm_stops_the_run_and_the_steps_process_group_and_exits_130() {
    let m = Machine::new();
    m.recipe(
        "long",
        &format!(
            "name = \"long\"\n[[step]]\nname = \"waits\"\nrun = \"{SLEEPS_IN_ITS_GROUP}\"\n\
             [[step]]\nname = \"never\"\nrun = \"touch {{{{ sysroot }}}}/never\"\n"
        ),
    );
    let mut child = m
        .command(&["long"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let group = wait_for_number(&m.sysroot().join("group"));
    assert!(wait_until(PATIENCE, || live_processes_in_group(group)
        .len()
        >= 2));
    signal(child.id(), libc::SIGTERM);
    wait_for_exit(&mut child, "strap did not stop after SIGTERM");
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}\n{}",
        stdout_of(&out),
        String::from_utf8_lossy(&out.stderr)
    );
    let text = stdout_of(&out);
    assert!(
        text.contains("failed") && text.contains("interrupted"),
        "{text}"
    );
    assert_eq!(summary_of(&out), "ok=0 changed=0 skipped=0 failed=1");
    assert_group_gone(group);
    assert!(!m.sysroot().join("never").exists());
}

#[test]
fn hostile_values_are_refused_by_their_rule_or_quoted() {
    let m = Machine::new();
    m.recipe(
        "quote",
        r#"
name = "quote"
[vars.name]
type = "string"
default = "x"
[vars.iface]
type = "string"
default = "can0"
pattern = '[a-z]+[0-9]+'
[[step]]
name = "write"
run = "printf '%s' {{ name }} > {{ sysroot }}/out"
"#,
    );
    m.run(&["quote", "--set", "iface=can0; rm -rf /"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "'can0; rm -rf /' is not a valid value for iface: it must match /[a-z]+[0-9]+/",
        ));
    assert!(
        !m.sysroot().join("out").exists(),
        "a step ran before validation"
    );
    let hostile = "$(touch pwned); `touch pwned2` 'q\" ; rm -rf x";
    run_ok(
        m.run(&["quote", "--set", &format!("name={hostile}")])
            .current_dir(m.sysroot()),
    );
    assert_eq!(
        fs::read_to_string(m.sysroot().join("out")).unwrap(),
        hostile
    );
    assert!(!m.sysroot().join("pwned").exists() && !m.sysroot().join("pwned2").exists());
}

#[test]
fn bad_set_values_are_usage_errors_and_nothing_runs() {
    let m = Machine::new();
    m.recipe(
        "typed",
        r#"
name = "typed"
[vars.port]
type = "int"
default = 8080
pattern = '[1-9][0-9]{0,4}'
[vars.iface]
type = "string"
default = "can0"
pattern = '[a-z]+[0-9]+'
[vars.persist]
type = "bool"
default = false
[vars.mode]
type = "string"
default = "package"
choices = ["package", "container"]
[[step]]
name = "ran"
run = "touch {{ sysroot }}/ran; apt-get install -y x"
"#,
    );
    let bad_vars = m.env.write("bad-vars.toml", "port = \"eighty\"\n");
    let cases: [(&[&str], String); 8] = [
        (
            &["--set", "novalue"],
            "--set novalue: expected NAME=VALUE (`strap recipe show typed` lists the variables)"
                .into(),
        ),
        (
            &["--set", "nosuch=1"],
            "--set nosuch=1: recipe 'typed' has no variable 'nosuch' (its variables: iface, mode, persist, port)".into(),
        ),
        (
            &["--set", "port=eighty"],
            "--set port=eighty: variable 'port' of recipe 'typed': 'eighty' is not an integer".into(),
        ),
        (
            &["--set", "port=0"],
            "--set port=0: variable 'port' of recipe 'typed': '0' is not a valid value for port: it must match /[1-9][0-9]{0,4}/".into(),
        ),
        (
            &["--set", "iface=eth0; reboot"],
            "--set iface=eth0; reboot: variable 'iface' of recipe 'typed': 'eth0; reboot' is not a valid value for iface: it must match /[a-z]+[0-9]+/".into(),
        ),
        (
            &["--set", "persist=maybe"],
            "--set persist=maybe: variable 'persist' of recipe 'typed': 'maybe' is not true or false (nor yes/no, on/off, 1/0)".into(),
        ),
        (
            &["--set", "mode=vm"],
            "--set mode=vm: variable 'mode' of recipe 'typed': 'vm' is not a valid value for mode: choose one of package, container".into(),
        ),
        (
            &["--vars", bad_vars.to_str().unwrap()],
            format!(
                "{}: variable 'port' of recipe 'typed': 'eighty' is not an integer",
                bad_vars.display()
            ),
        ),
    ];
    for (args, message) in cases {
        let out = m.run(&[&["typed"], args].concat()).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            (out.status.code(), stderr.as_ref()),
            (Some(2), format!("strap: error: {message}\n").as_str()),
            "{args:?}"
        );
        assert_eq!(stdout_of(&out), "", "{args:?}");
    }
    assert!(!m.sysroot().join("ran").exists(), "a step ran");
    assert_eq!(m.calls(), "", "a tool ran");
}

#[test]
fn variables_from_a_file() {
    let m = Machine::new();
    m.recipe(
        "vars",
        "name = \"vars\"\n[vars.n]\ntype = \"int\"\ndefault = 1\n[[step]]\nname = \"w\"\nrun = \"echo {{ n }} > {{ sysroot }}/n\"\n",
    );
    let file = m.env.write("vars.toml", "n = 42\n");
    run_ok(&mut m.run(&["vars", "--vars", file.to_str().unwrap()]));
    assert_eq!(fs::read_to_string(m.sysroot().join("n")).unwrap(), "42\n");
    let bad = m.env.write("bad.toml", "n = \n");
    m.run(&["vars", "--vars", bad.to_str().unwrap()])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("bad.toml:1:"));
}

#[test]
fn a_malformed_recipe_is_reported_with_file_and_line_before_anything_runs() {
    let m = Machine::new();
    let path = m.env.write(
        "broken.toml",
        "name = \"broken\"\n[[step]]\nname = \"ok\"\nrun = \"touch {{ sysroot }}/ran\"\n\n[[step]]\nname = \"bad\"\nkind = \"teleport\"\n",
    );
    m.run(&[path.to_str().unwrap()])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(format!(
            "{}:6: unknown step kind 'teleport'",
            path.display()
        )));
    assert!(!m.sysroot().join("ran").exists());
    m.run(&["no-such-recipe"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no recipe named 'no-such-recipe'"));
}

#[test]
#[ignore = "needs root and /usr/bin/setpriv; .ci/run runs it with --ignored"]
fn a_step_that_needs_root_fails_clearly_without_root_or_sudo() {
    use std::os::unix::fs::PermissionsExt;
    assert!(
        crate::support::can_drop_privileges(),
        "this test runs as root with /usr/bin/setpriv, to run strap as an unprivileged user"
    );
    let m = Machine::new();
    m.recipe(
        "rooty",
        "name = \"rooty\"\n[[step]]\nname = \"as anyone\"\nrun = \"touch {{ sysroot }}/first\"\n\
         [[step]]\nname = \"a package\"\nkind = \"packages\"\nbecome = true\npackages = [\"curl\"]\n\
         [[step]]\nname = \"web running\"\nkind = \"service\"\nbecome = true\nservice = \"web\"\n\
         [[step]]\nname = \"as root\"\nbecome = true\nrun = \"touch {{ sysroot }}/done\"\n\
         [[step]]\nname = \"not here\"\nbecome = true\nwhen = \"distribution == 'nowhere'\"\nrun = \"true\"\n\
         notify = [\"reload\"]\n[[handler]]\nname = \"reload\"\nbecome = true\nrun = \"true\"\n",
    );
    let manifest = m
        .env
        .write("work/strap.toml", "[[recipe]]\nname = \"rooty\"\n");
    // A sudo that asks for a password (`-n`: it fails), beside the stubs.
    let with_sudo = m.env.dir.path().join("sudo-bin");
    fs::create_dir_all(&with_sudo).unwrap();
    crate::support::write_script(
        &with_sudo.join("sudo"),
        "echo 'sudo: a password is required' >&2; exit 1",
    );
    // The stubs and the system's tools (python3 for the stubs, grep), without any sudo.
    let sysbin = m.env.sysbin().display().to_string();
    let without_sudo = m.path_without(&["sudo"]);
    let without_sudo: Vec<&str> = without_sudo.split(':').filter(|d| *d != sysbin).collect();
    let without_sudo = without_sudo.join(":");
    // Everything writable for the unprivileged user; programs (sudo, the stubs) stay programs.
    for entry in walk(m.env.dir.path()) {
        let executable = fs::metadata(&entry).unwrap().permissions().mode() & 0o111 != 0;
        let mode = if entry.is_dir() || executable {
            0o777
        } else {
            0o666
        };
        fs::set_permissions(&entry, fs::Permissions::from_mode(mode)).unwrap();
    }
    let path_with_sudo = format!("{}:{without_sudo}", with_sudo.display());
    let as_nobody = |args: &[&str], path: &str| {
        let mut cmd = m.env.strap_as_nobody(args);
        cmd.env("PATH", path)
            .env("STUB_STATE", m.state())
            .env("XDG_CONFIG_HOME", m.env.home().join(".config"));
        cmd
    };
    // The steps whose `when` holds, and no handler: the one step that notifies it does not run.
    let needing = "these steps need root: rooty: a package, rooty: web running, rooty: as root; ";
    for (path, why) in [
        (
            without_sudo.clone(),
            "strap is not running as root and there is no sudo",
        ),
        (
            path_with_sudo,
            "strap is not running as root and sudo asks for a password (sudo -n true fails)",
        ),
    ] {
        // Running as an unprivileged user: refused before any step runs, naming the steps.
        let mut cmd = as_nobody(&["recipe", "run", "rooty", "--yes", "--sysroot"], &path);
        cmd.arg(m.sysroot());
        cmd.assert()
            .code(1)
            .stderr(predicate::str::contains(format!("strap: error: {needing}")))
            .stderr(predicate::str::contains(why))
            .stderr(predicate::str::contains("nothing was changed"));
        assert!(!m.sysroot().join("first").exists(), "a step ran");
        assert!(!m.sysroot().join("done").exists());

        // A dry run checks as this user: the package and service queries need no sudo.
        let _ = fs::remove_file(m.state().join("calls.log"));
        let mut cmd = as_nobody(&["recipe", "run", "rooty", "--dry-run", "--sysroot"], &path);
        let out = cmd.arg(m.sysroot()).output().unwrap();
        let text = stdout_of(&out);
        assert!(out.status.success(), "{text}{}", stderr_of(&out));
        assert_eq!(
            step_block(&text, "a package").get(1).copied(),
            Some("             | install curl"),
            "{text}"
        );
        assert!(
            step_block(&text, "web running")[0].starts_with("would change"),
            "{text}"
        );
        let calls = m.calls();
        assert!(
            calls.contains("dpkg-query -W") && calls.contains("systemctl is-enabled web"),
            "{calls}"
        );

        // `strap bootstrap` says the same of its recipe item, in its plan.
        let mut cmd = as_nobody(&["bootstrap", "--dry-run", "--sysroot"], &path);
        cmd.arg(m.sysroot()).arg("-f").arg(&manifest);
        let out = cmd.output().unwrap();
        let all = format!("{}{}", stdout_of(&out), stderr_of(&out));
        assert_eq!(out.status.code(), Some(1), "{all}");
        assert!(
            all.contains(&format!("  invalid   recipe     rooty  ({needing}{why}; nothing was changed; run strap as root")),
            "{all}"
        );
        assert!(!all.contains("its checks failed"), "{all}");
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut all = vec![dir.to_path_buf()];
    for entry in fs::read_dir(dir).unwrap().filter_map(Result::ok) {
        let path = entry.path();
        if path.is_dir() && !path.is_symlink() {
            all.extend(walk(&path));
        } else if !path.is_symlink() {
            all.push(path);
        }
    }
    all
}

#[test]
fn list_and_show() {
    let m = Machine::new();
    m.recipe(
        "mine",
        "name = \"mine\"\ndescription = \"my own\"\n[[step]]\nname = \"x\"\nrun = \"true\"\n",
    );
    let out = m
        .env
        .strap(&["recipe", "list"])
        .env("XDG_CONFIG_HOME", m.env.home().join(".config"))
        .output()
        .unwrap();
    let text = stdout_of(&out);
    for name in ["mine", "docker", "jenkins", "can"] {
        assert!(
            text.lines().any(|l| l.starts_with(name)),
            "{name} not listed:\n{text}"
        );
    }
    let show = m.env.strap(&["recipe", "show", "can"]).output().unwrap();
    let text = stdout_of(&show);
    assert!(
        text.contains("interfaces (list, default [\"can0\"])"),
        "{text}"
    );
    assert!(
        text.contains("CAN interface {{ item }} [can_interface] (conditional)"),
        "{text}"
    );
    m.env.strap(&["recipe", "show", "nope"]).assert().code(1);
}

#[test]
fn unsupported_systems_are_refused_clearly() {
    let m = Machine::new();
    m.env
        .write("sysroot/etc/os-release", "ID=fedora\nVERSION_ID=40\n");
    m.run(&["docker"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "recipe 'docker' supports debian, ubuntu; this system is fedora",
        ));
    assert_eq!(m.calls(), "");
}

const PACKAGES: &str = r#"
name = "pkgs"
[[step]]
name = "tools"
kind = "packages"
become = true
update = true
packages = ["curl", "can-utils", "iproute2"]
"#;

/// A `packages` step on a system whose os-release is `os_release` queries each package with
/// `query` and installs the missing ones with `refresh` then `install`; a second run is all ok.
fn packages_install_with(os_release: &str, query: &str, refresh: &str, install: &str) {
    let m = Machine::new();
    m.env.write("sysroot/etc/os-release", os_release);
    fs::write(m.state_file("pkgs/curl"), "").unwrap();
    m.recipe("pkgs", PACKAGES);
    let out = m.run(&["pkgs"]).output().unwrap();
    assert!(out.status.success(), "{}", stdout_of(&out));
    assert!(
        stdout_of(&out).contains("install can-utils iproute2"),
        "{}",
        stdout_of(&out)
    );
    let calls = m.calls();
    let lines: Vec<&str> = calls.lines().collect();
    for package in ["curl", "can-utils", "iproute2"] {
        assert!(
            lines.contains(&format!("{query} {package}").as_str()),
            "{calls}"
        );
    }
    let installs: Vec<&&str> = lines.iter().filter(|l| !l.starts_with(query)).collect();
    assert_eq!(
        installs,
        [&refresh, &format!("{install} can-utils iproute2").as_str()],
        "{calls}"
    );
    assert!(m.state().join("pkgs/can-utils").exists() && m.state().join("pkgs/iproute2").exists());
    fs::remove_file(m.state().join("calls.log")).unwrap();
    assert_eq!(
        run_ok(&mut m.run(&["pkgs"])),
        "ok=1 changed=0 skipped=0 failed=0"
    );
    assert!(
        m.calls().lines().all(|l| l.starts_with(query)),
        "the second run installed something:\n{}",
        m.calls()
    );
}

#[test]
fn packages_on_opensuse_install_with_zypper() {
    packages_install_with(
        "NAME=\"openSUSE Tumbleweed\"\nID=\"opensuse-tumbleweed\"\nID_LIKE=\"opensuse suse\"\n",
        "rpm -q",
        "zypper --non-interactive refresh",
        "zypper --non-interactive install",
    );
}

#[test]
fn packages_on_arch_install_with_pacman() {
    packages_install_with(
        "NAME=\"Arch Linux\"\nID=arch\n",
        "pacman -Q",
        "pacman -Sy --noconfirm",
        "pacman -S --needed --noconfirm",
    );
}

#[test]
fn packages_on_alpine_install_with_apk() {
    packages_install_with(
        "NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.20.0\n",
        "apk info -e",
        "apk update",
        "apk add",
    );
}

#[test]
fn a_packages_step_without_a_package_manager_fails_clearly() {
    let m = Machine::new();
    m.env.write("sysroot/etc/os-release", "ID=plan9\n");
    m.recipe("pkgs", PACKAGES);
    let empty = m.env.dir.path().join("empty");
    fs::create_dir_all(&empty).unwrap();
    let out = m.run(&["pkgs"]).env("PATH", &empty).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout_of(&out).contains(
            "no package manager found: the os-release ID 'plan9' is no distribution strap knows, \
             and none of apt-get, dnf, yum, zypper, pacman, apk is on PATH"
        ),
        "{}",
        stdout_of(&out)
    );
}

fn daemon_json(m: &Machine) -> serde_json::Value {
    serde_json::from_str(&fs::read_to_string(m.sysroot().join("etc/docker/daemon.json")).unwrap())
        .unwrap()
}

#[test]
fn docker_from_the_distribution_converges_then_reports_all_ok() {
    let m = Machine::new();
    fs::write(m.state_file("users/alice"), "alice").unwrap();
    m.env.write(
        "sysroot/etc/docker/daemon.json",
        "{\"log-driver\": \"journald\", \"debug\": true}\n",
    );
    let args = [
        "docker",
        "--set",
        "users=alice",
        "--set",
        "registry_mirrors=https://mirror.example:5000",
    ];
    let out = m.run(&args).output().unwrap();
    assert!(out.status.success(), "{}", stdout_of(&out));
    let text = stdout_of(&out);
    assert!(text.contains("root-equivalent"), "{text}");
    assert!(
        m.state().join("pkgs/docker.io").exists() && m.state().join("pkgs/docker-compose").exists()
    );
    assert!(m.state().join("enabled/docker").exists() && m.state().join("active/docker").exists());
    assert!(fs::read_to_string(m.state().join("users/alice"))
        .unwrap()
        .contains("docker"));
    let json = daemon_json(&m);
    assert_eq!(
        json["registry-mirrors"],
        serde_json::json!(["https://mirror.example:5000"])
    );
    assert_eq!(
        (json["log-driver"].as_str(), json["debug"].as_bool()),
        (Some("journald"), Some(true))
    );
    assert_eq!(
        fs::read_to_string(m.state().join("restarts/docker")).unwrap(),
        "x"
    );
    // The second run changes nothing and restarts nothing.
    let second = m.run(&args).output().unwrap();
    assert!(
        summary_of(&second).contains("changed=0 skipped"),
        "{}",
        stdout_of(&second)
    );
    assert_eq!(
        fs::read_to_string(m.state().join("restarts/docker")).unwrap(),
        "x"
    );
}

#[test]
fn docker_without_a_daemon_installs_the_cli_and_compose_only_for_ci() {
    let m = Machine::new();
    let args = ["docker", "--set", "daemon=false"];
    let out = m.run(&args).output().unwrap();
    assert!(out.status.success(), "{}", stdout_of(&out));
    assert!(
        m.state().join("pkgs/docker.io").exists() && m.state().join("pkgs/docker-compose").exists()
    );
    assert!(
        !m.state().join("enabled/docker").exists() && !m.state().join("active/docker").exists(),
        "no service"
    );
    let second = m.run(&args).output().unwrap();
    assert!(
        summary_of(&second).contains("changed=0 skipped"),
        "{}",
        stdout_of(&second)
    );
    // With DOCKER_HOST, the daemon it names must answer (here none does).
    let out = m
        .run(&args)
        .env("DOCKER_HOST", "tcp://docker:2375")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stdout_of(&out));
    assert!(
        stdout_of(&out).contains("the docker CLI answers"),
        "{}",
        stdout_of(&out)
    );
}

const DOCKER_KEY: &str =
    "FPR:9DC858229FC7DD38854AE2D88D81803C0EBFCD88\n-----BEGIN PGP PUBLIC KEY BLOCK-----\n";

#[test]
fn docker_from_dockers_repository_verifies_the_key() {
    let m = Machine::new();
    fs::write(m.state_file("keys/gpg"), DOCKER_KEY).unwrap();
    fs::write(m.state_file("pkgs/docker.io"), "").unwrap(); // conflicts with docker-ce
    run_ok(&mut m.run(&["docker", "--set", "source=docker"]));
    assert!(
        !m.state().join("pkgs/docker.io").exists(),
        "the conflicting package was not removed"
    );
    assert!(
        m.state().join("pkgs/docker-ce").exists()
            && m.state().join("pkgs/docker-compose-plugin").exists()
    );
    let list = fs::read_to_string(m.sysroot().join("etc/apt/sources.list.d/docker.list")).unwrap();
    assert_eq!(
        list,
        "deb [arch=amd64 signed-by=/etc/apt/keyrings/docker.asc] https://download.docker.com/linux/debian bookworm stable\n"
            .replace("amd64", if cfg!(target_arch = "aarch64") { "arm64" } else { "amd64" })
    );
    assert!(m.sysroot().join("etc/apt/keyrings/docker.asc").exists());
    let second = run_ok(&mut m.run(&["docker", "--set", "source=docker"]));
    assert!(second.contains("changed=0"), "{second}");
}

#[test]
fn docker_from_its_repository_without_a_daemon_installs_the_cli_compose_and_buildx_only() {
    let m = Machine::booted_by("sh", &[]);
    fs::write(m.state_file("keys/gpg"), DOCKER_KEY).unwrap();
    let args = ["docker", "--set", "source=docker", "--set", "daemon=false"];
    let out = m.run(&args).output().unwrap();
    let text = stdout_of(&out);
    assert!(out.status.success(), "{text}");
    let mut installed: Vec<String> = fs::read_dir(m.state().join("pkgs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    installed.sort();
    assert_eq!(
        installed,
        [
            "docker-buildx-plugin",
            "docker-ce-cli",
            "docker-compose-plugin"
        ],
        "{text}"
    );
    assert!(
        text.contains("install docker-ce-cli docker-compose-plugin docker-buildx-plugin"),
        "{text}"
    );
    let second = run_ok(&mut m.run(&args));
    assert!(second.contains("changed=0"), "{second}");
}

#[test]
fn jenkins_package_mode_converges_and_a_wrong_key_fingerprint_fails() {
    let m = Machine::new();
    fs::write(
        m.state_file("keys/jenkins.io-2023.key"),
        "FPR:0000000000000000000000000000000000000000\n",
    )
    .unwrap();
    let out = m.run(&["jenkins"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = stdout_of(&out);
    assert!(text.contains("fingerprint mismatch"), "{text}");
    assert!(
        text.contains("63667EE74BBA1F0A08A698725BA31D57EF5975CA"),
        "{text}"
    );
    assert!(!m
        .sysroot()
        .join("etc/apt/sources.list.d/jenkins.list")
        .exists());
    assert!(!m.state().join("pkgs/jenkins").exists());

    fs::write(
        m.state_file("keys/jenkins.io-2023.key"),
        "FPR:63667EE74BBA1F0A08A698725BA31D57EF5975CA\n",
    )
    .unwrap();
    let out = m.run(&["jenkins", "--set", "port=8090"]).output().unwrap();
    assert!(out.status.success(), "{}", stdout_of(&out));
    assert!(stdout_of(&out).contains("initialAdminPassword"));
    let dropin = fs::read_to_string(
        m.sysroot()
            .join("etc/systemd/system/jenkins.service.d/strap.conf"),
    )
    .unwrap();
    assert!(dropin.contains("JENKINS_PORT=8090"));
    assert!(m
        .calls()
        .contains("curl -fsS -o /dev/null http://localhost:8090/login"));
    let second = run_ok(&mut m.run(&["jenkins", "--set", "port=8090"]));
    assert!(second.contains("changed=0"), "{second}");
}

#[test]
fn jenkins_container_mode_runs_the_docker_recipe_first() {
    let m = Machine::new();
    let out = m
        .run(&["jenkins", "--set", "mode=container"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stdout_of(&out));
    let text = stdout_of(&out);
    let docker_at = text.find("docker ›").expect("docker steps");
    let jenkins_at = text.find("jenkins ›").expect("jenkins steps");
    assert!(docker_at < jenkins_at);
    let run = fs::read_to_string(m.state().join("containers/jenkins")).unwrap();
    assert!(
        run.contains("jenkins/jenkins:lts-jdk21") && run.contains("jenkins_home:/var/jenkins_home")
    );
    let second = run_ok(&mut m.run(&["jenkins", "--set", "mode=container"]));
    assert!(second.contains("changed=0"), "{second}");
}

fn can_link(m: &Machine, name: &str, bitrate: u32, up: bool) {
    let flags = if up {
        "[\"NOARP\", \"UP\"]"
    } else {
        "[\"NOARP\"]"
    };
    fs::write(
        m.state_file(&format!("links/{name}.json")),
        format!(
            "{{\"ifname\": \"{name}\", \"flags\": {flags}, \"txqlen\": 1000, \"linkinfo\": {{\"info_kind\": \"can\", \
             \"info_data\": {{\"ctrlmode\": [], \"restart_ms\": 100, \"bittiming\": {{\"bitrate\": {bitrate}, \"sample_point\": \"0.875\"}}}}}}}}"
        ),
    )
    .unwrap();
}

#[test]
fn can_reconfigures_only_the_interface_that_differs() {
    let m = Machine::new();
    can_link(&m, "can0", 250_000, true);
    can_link(&m, "can1", 500_000, true);
    let out = m
        .run(&["can", "--set", "interfaces=can0,can1"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stdout_of(&out));
    let calls = m.calls();
    assert!(calls.contains("ip link set dev can0 down"), "{calls}");
    assert!(
        calls.contains("ip link set dev can0 type can bitrate 500000 restart-ms 100"),
        "{calls}"
    );
    assert!(
        !calls.contains("ip link set dev can1"),
        "can1 was touched:\n{calls}"
    );
    assert!(calls.contains("modprobe -a can can_raw can_dev"));
    assert!(stdout_of(&out).contains("bitrate 250000 -> 500000"));
    let second = run_ok(&mut m.run(&["can", "--set", "interfaces=can0,can1"]));
    assert!(second.contains("changed=0"), "{second}");
}

#[test]
fn can_fd_modes_and_persistence() {
    let m = Machine::new();
    can_link(&m, "can0", 500_000, false);
    let args = [
        "can",
        "--set",
        "fd=true",
        "--set",
        "dbitrate=4000000",
        "--set",
        "triple_sampling=true",
        "--set",
        "sample_point=0.8",
        "--set",
        "persist=true",
        "--set",
        "txqueuelen=256",
    ];
    run_ok(&mut m.run(&args));
    let calls = m.calls();
    assert!(
        calls.contains("ip link set dev can0 type can bitrate 500000 sample-point 0.8 restart-ms 100 triple-sampling on fd on dbitrate 4000000"),
        "{calls}"
    );
    assert!(calls.contains("ip link set dev can0 txqueuelen 256"));
    let network = fs::read_to_string(
        m.sysroot()
            .join("etc/systemd/network/80-strap-can0.network"),
    )
    .unwrap();
    assert_eq!(
        network,
        "[Match]\nName=can0\n\n[CAN]\nBitRate=500000\nSamplePoint=80%\nRestartSec=100ms\n\
         Loopback=no\nListenOnly=no\nTripleSampling=yes\nFDMode=yes\nDataBitRate=4000000\n"
    );
    let link =
        fs::read_to_string(m.sysroot().join("etc/systemd/network/80-strap-can0.link")).unwrap();
    assert!(link.contains("TransmitQueueLength=256"));
    assert!(m.state().join("enabled/systemd-networkd").exists());
    let second = run_ok(&mut m.run(&args));
    assert!(second.contains("changed=0"), "{second}");
}

#[test]
fn can_virtual_interfaces_for_testing_without_hardware() {
    let m = Machine::new();
    let args = [
        "can",
        "--set",
        "virtual=true",
        "--set",
        "interfaces=vcan0,vcan1",
    ];
    run_ok(&mut m.run(&args));
    let calls = m.calls();
    assert!(
        calls.contains("ip link add dev vcan0 type vcan")
            && calls.contains("ip link set dev vcan1 up"),
        "{calls}"
    );
    let second = run_ok(&mut m.run(&args));
    assert!(second.contains("changed=0"), "{second}");
}

#[test]
fn a_missing_can_interface_fails_clearly() {
    let m = Machine::new();
    m.run(&["can"]).assert().code(1).stdout(
        predicate::str::contains("CAN interface can0 does not exist")
            .and(predicate::str::contains("virtual = true")),
    );
}

/// A service converged by a step and restarted by a handler its config step notifies.
const SERVICE: &str = r#"
name = "svc"

[[step]]
name = "config"
check = "test -f {{ sysroot }}/web.conf"
run = "touch {{ sysroot }}/web.conf"
notify = ["restart web"]

[[step]]
name = "web enabled and running"
kind = "service"
service = "web"

[[handler]]
name = "restart web"
kind = "service"
service = "web"
restarted = true
"#;

/// Runs [`SERVICE`] on `m` twice: the first run enables, starts and restarts `web` with the
/// commands `expected`; the second changes nothing.
fn service_converges(m: &Machine, expected: &[&str]) {
    m.recipe("svc", SERVICE);
    let out = m.run(&["svc"]).output().unwrap();
    assert!(out.status.success(), "{}", stdout_of(&out));
    assert_eq!(
        summary_of(&out),
        "ok=0 changed=3 skipped=0 failed=0",
        "{}",
        stdout_of(&out)
    );
    let stdout = stdout_of(&out);
    let line = step_block(&stdout, "web enabled and running")[0];
    assert!(line.ends_with("): enable web, start web"), "{line}");
    let calls = m.calls();
    for command in expected {
        assert!(
            calls.lines().any(|l| l == *command),
            "no `{command}` in:\n{calls}"
        );
    }
    assert_eq!(
        fs::read_to_string(m.state().join("restarts/web")).unwrap(),
        "x"
    );
    assert!(m.state().join("active/web").exists());
    let second = m.run(&["svc"]).output().unwrap();
    assert_eq!(
        summary_of(&second),
        "ok=2 changed=0 skipped=0 failed=0",
        "{}",
        stdout_of(&second)
    );
    assert_eq!(
        fs::read_to_string(m.state().join("restarts/web")).unwrap(),
        "x"
    );
}

#[test]
fn a_service_converges_with_systemd() {
    let m = Machine::new();
    service_converges(&m, &["systemctl enable --now web", "systemctl restart web"]);
    assert!(m.state().join("enabled/web").exists());
}

#[test]
fn a_service_converges_with_openrc() {
    let m = Machine::booted_by("init", &["run/openrc"]);
    service_converges(
        &m,
        &[
            "rc-update show default",
            "rc-update add web default",
            "rc-service web start",
            "rc-service web restart",
        ],
    );
    assert!(!m.calls().contains("systemctl"), "{}", m.calls());
}

#[test]
fn a_service_converges_with_sysv_init_through_update_rc_d_or_chkconfig() {
    let m = Machine::booted_by("init", &["etc/init.d"]);
    service_converges(
        &m,
        &[
            "update-rc.d web defaults",
            "service web status",
            "service web start",
            "service web restart",
        ],
    );
    assert!(m.sysroot().join("etc/rc2.d/S01web").is_symlink());
    assert!(!m.calls().contains("systemctl"), "{}", m.calls());

    // Where there is no update-rc.d (Red Hat's SysV), chkconfig enables it.
    let m = Machine::booted_by("init", &["etc/init.d"]);
    fs::remove_file(m.env.dir.path().join("stubs/update-rc.d")).unwrap();
    service_converges(&m, &["chkconfig web on", "service web start"]);
    assert!(m.sysroot().join("etc/rc5.d/S01web").is_symlink());
}

#[test]
fn without_a_service_manager_a_dry_run_is_unknown_and_a_run_fails_saying_what_to_do() {
    let m = Machine::booted_by("tini", &["etc/init.d"]);
    let unavailable = [
        "             | no service manager on this machine — PID 1 is `tini`, a container? \
         (`docker` cannot be managed here)",
        "             | instead: start dockerd in the job, use the CI's Docker service \
         (DOCKER_HOST) or a mounted socket, or set daemon = false (no daemon here)",
    ];
    let out = m
        .run(&["docker", "--dry-run", "--detailed-exitcode"])
        .output()
        .unwrap();
    let text = stdout_of(&out);
    // A run would fail the step: exit 1, not "changes pending".
    assert_eq!(out.status.code(), Some(1), "{text}");
    let block = step_block(&text, "docker service enabled and running");
    assert!(block[0].starts_with("unknown      docker ›"), "{text}");
    assert_eq!(block[1..], unavailable, "{text}");
    assert_eq!(
        summary_of(&out),
        "dry run: ok=0 changed=2 unknown=1 skipped=9 failed=0"
    );

    let out = m.run(&["docker"]).output().unwrap();
    let text = stdout_of(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    let block = step_block(&text, "docker service enabled and running");
    assert!(block[0].starts_with("failed       docker ›"), "{text}");
    assert_eq!(block[1..], unavailable, "{text}");
    // The steps before it made their changes; nothing asked a service manager.
    assert!(m.state().join("pkgs/docker.io").exists());
    assert!(!m.calls().contains("systemctl"), "{}", m.calls());
    assert!(!text.contains("docker answers"), "{text}");

    // The same machine with daemon = false: the CLI only, all ok.
    let second = run_ok(&mut m.run(&["docker", "--set", "daemon=false"]));
    assert!(second.contains("changed=0"), "{second}");
}

#[test]
fn the_service_manager_is_a_fact_for_when() {
    let recipe = r#"
name = "facts"
[[step]]
name = "in a container"
when = "service_manager == 'none'"
run = "echo {{ service_manager }} > {{ sysroot }}/seen"
[[step]]
name = "on a booted machine"
when = "service_manager != 'none'"
run = "echo {{ service_manager }} > {{ sysroot }}/seen"
"#;
    for (m, seen, summary) in [
        (
            Machine::booted_by("bash", &[]),
            "none",
            "ok=0 changed=1 skipped=1 failed=0",
        ),
        (
            Machine::new(),
            "systemd",
            "ok=0 changed=1 skipped=1 failed=0",
        ),
        (
            Machine::booted_by("openrc-init", &[]),
            "openrc",
            "ok=0 changed=1 skipped=1 failed=0",
        ),
        (
            Machine::booted_by("init", &[]),
            "sysv",
            "ok=0 changed=1 skipped=1 failed=0",
        ),
    ] {
        m.recipe("facts", recipe);
        let out = m.run(&["facts"]).output().unwrap();
        assert_eq!(summary_of(&out), summary);
        let expected_step = if seen == "none" {
            "in a container"
        } else {
            "on a booted machine"
        };
        assert!(
            step_block(&stdout_of(&out), expected_step)[0].starts_with("changed"),
            "{}",
            stdout_of(&out)
        );
        assert_eq!(
            fs::read_to_string(m.sysroot().join("seen")).unwrap(),
            format!("{seen}\n")
        );
    }
}

#[test]
fn a_service_of_another_manager_or_a_unit_systemd_lacks_is_unavailable() {
    let recipe = r#"
name = "only"
[[step]]
name = "networkd"
kind = "service"
service = "systemd-networkd"
managers = ["systemd"]
"#;
    let m = Machine::booted_by("openrc-init", &[]);
    m.recipe("only", recipe);
    let out = m.run(&["only"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        step_block(&stdout_of(&out), "networkd")[1..],
        [
            "             | `systemd-networkd` is a service of systemd; this machine runs OpenRC",
            "             | instead: start `systemd-networkd` yourself where this runs (in a CI \
             job: in its script), or use a service the CI provides",
        ]
    );
    let m = Machine::new();
    m.recipe("only", recipe);
    fs::write(m.state_file("missing-units/systemd-networkd"), "").unwrap();
    let out = m.run(&["only", "--dry-run"]).output().unwrap();
    assert_eq!(
        step_block(&stdout_of(&out), "networkd")[..2],
        [
            step_block(&stdout_of(&out), "networkd")[0],
            "             | systemd has no unit `systemd-networkd` (is its package installed?)",
        ]
    );
    assert!(step_block(&stdout_of(&out), "networkd")[0].starts_with("unknown"));
}

#[test]
fn jenkins_in_a_container_uses_the_ci_docker_service_without_managing_a_daemon() {
    let m = Machine::booted_by("sh", &[]);
    fs::write(m.state_file("remote-daemons/tcp:__docker:2375"), "").unwrap();
    let args = [
        "jenkins",
        "--set",
        "mode=container",
        "--set",
        "daemon=false",
        "--set",
        "host=docker",
    ];
    let out = m
        .run(&args)
        .env("DOCKER_HOST", "tcp://docker:2375")
        .output()
        .unwrap();
    let text = stdout_of(&out);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("Jenkins is on http://docker:8080/"), "{text}");
    let calls = m.calls();
    assert!(calls.contains("docker info"), "{calls}");
    assert!(
        calls.contains("curl -fsS -o /dev/null http://docker:8080/login"),
        "{calls}"
    );
    assert!(!calls.contains("systemctl"), "{calls}");
    assert!(m.state().join("containers/jenkins").exists());
    let second = m
        .run(&args)
        .env("DOCKER_HOST", "tcp://docker:2375")
        .output()
        .unwrap();
    assert!(
        summary_of(&second).contains("changed=0"),
        "{}",
        stdout_of(&second)
    );
    // Without the daemon DOCKER_HOST names, the docker recipe stops the run before any container.
    fs::remove_file(m.state().join("remote-daemons/tcp:__docker:2375")).unwrap();
    fs::remove_file(m.state().join("containers/jenkins")).unwrap();
    let out = m
        .run(&args)
        .env("DOCKER_HOST", "tcp://docker:2375")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stdout_of(&out));
    assert!(!m.state().join("containers/jenkins").exists());
}

#[test]
fn can_persistence_without_systemd_networkd_says_why_before_configuring_the_interface() {
    let m = Machine::booted_by("tini", &[]);
    can_link(&m, "can0", 250_000, true);
    let out = m.run(&["can", "--set", "persist=true"]).output().unwrap();
    let text = stdout_of(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    let block = step_block(&text, "CAN interface can0");
    assert!(block[0].starts_with("failed"), "{text}");
    assert_eq!(
        block[1..],
        [
            "             | cannot persist the settings of can0: systemd-networkd keeps them, and \
             no service manager on this machine — PID 1 is `tini`, a container?",
            "             | instead: leave `persist` off and configure can0 again at each boot, or \
             persist it with the system's own network configuration",
        ],
        "{text}"
    );
    assert!(!m.calls().contains("ip link set"), "{}", m.calls());
    assert!(!m.sysroot().join("etc/systemd/network").exists());

    // OpenRC runs no systemd-networkd either; without persist the same machine is configured.
    let m = Machine::booted_by("openrc-init", &[]);
    can_link(&m, "can0", 250_000, true);
    let out = m
        .run(&["can", "--set", "persist=true", "--dry-run"])
        .output()
        .unwrap();
    let text = stdout_of(&out);
    let block = step_block(&text, "CAN interface can0");
    assert!(block[0].starts_with("unknown"), "{text}");
    assert!(
        block[1]
            .ends_with("systemd-networkd keeps them, and this machine runs OpenRC, not systemd"),
        "{text}"
    );
    // What to do is said once, by the interface step; the networkd step is not for this machine.
    assert_eq!(text.matches("instead:").count(), 1, "{text}");
    assert!(
        step_block(&text, "systemd-networkd enabled")[0].starts_with("skipped"),
        "{text}"
    );
    run_ok(&mut m.run(&["can"]));
    assert!(m
        .calls()
        .contains("ip link set dev can0 type can bitrate 500000"));

    // systemd without systemd-networkd: the service step says so.
    let m = Machine::new();
    can_link(&m, "can0", 500_000, true);
    fs::write(m.state_file("missing-units/systemd-networkd"), "").unwrap();
    let out = m.run(&["can", "--set", "persist=true"]).output().unwrap();
    let text = stdout_of(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert_eq!(
        step_block(&text, "systemd-networkd enabled")[1..],
        [
            "             | systemd has no unit `systemd-networkd` (is its package installed?)",
            "             | instead: set persist = false and configure the interfaces at each boot, \
             or, under systemd, install systemd-networkd (Debian 13 has it in a package of its \
             own)",
        ],
        "{text}"
    );
}

#[test]
fn show_lists_the_variables_that_matter_in_ci() {
    let m = Machine::new();
    for (recipe, variables) in [
        ("docker", &["daemon"][..]),
        ("jenkins", &["host", "mode"][..]),
        ("can", &["persist", "virtual"][..]),
    ] {
        let out = m.env.strap(&["recipe", "show", recipe]).output().unwrap();
        let text = stdout_of(&out);
        let section: Vec<&str> = text
            .lines()
            .skip_while(|l| !l.starts_with("In CI"))
            .skip(1)
            .collect();
        let named: Vec<&str> = section
            .iter()
            .map(|l| l.trim_start().split(':').next().unwrap())
            .collect();
        assert_eq!(named, variables, "{text}");
    }
    let out = m.env.strap(&["recipe", "show", "docker"]).output().unwrap();
    assert!(
        stdout_of(&out).contains(
            "\nIn CI (a job's container runs no service manager):\n  daemon: false: no daemon \
             started or managed here (source = docker: only the CLI, compose and buildx; distro: \
             docker.io's dockerd installed but not started)"
        ),
        "{}",
        stdout_of(&out)
    );
}

/// The fresh-system `--dry-run` and `--json` outputs of each built-in, with timings and temporary
/// paths replaced, as snapshots (`tests/it/snapshots/recipe_*.snap`).
#[test]
fn built_in_dry_run_and_json_snapshots() {
    let settings = crate::support::snapshot::settings(&[
        (r"\(\d+\.\d+s\)", "(#s)"),
        (r#""seconds": [0-9.e-]+"#, "\"seconds\": 0"),
        (r"recipe-([a-z]+)-\d+-\d+\.log", "recipe-$1-[TIME].log"),
    ]);
    for (recipe, extra) in [
        ("docker", vec![]),
        ("jenkins", vec![]),
        ("can", vec!["--set", "virtual=true"]),
    ] {
        for mode in ["--dry-run", "--json"] {
            let m = Machine::new();
            let mut args = vec![recipe, "--dry-run"];
            if mode == "--json" {
                args.push("--json");
            }
            args.extend(&extra);
            let out = m.run(&args).output().unwrap();
            let name = format!(
                "recipe_{recipe}_{}",
                mode.trim_start_matches('-').replace('-', "_")
            );
            settings.bind(|| insta::assert_snapshot!(name, stdout_of(&out)));
        }
    }
}

impl Machine {
    /// A `PATH` as on a machine that lacks `missing`: the stubs and the system's own tools (from
    /// `/usr/bin` and `/bin`), each through a link, except those.
    fn path_without(&self, missing: &[&str]) -> String {
        let dir = self
            .env
            .dir
            .path()
            .join(format!("without-{}", missing.join("-")));
        let (stubs, system) = (dir.join("stubs"), dir.join("system"));
        fs::create_dir_all(&stubs).unwrap();
        fs::create_dir_all(&system).unwrap();
        let script = self.env.dir.path().join("stubs/stub_tools.py");
        for tool in crate::support::STUB_TOOLS
            .iter()
            .filter(|t| !missing.contains(t))
        {
            std::os::unix::fs::symlink(&script, stubs.join(tool)).unwrap();
        }
        for bin in ["/usr/bin", "/bin"] {
            for entry in fs::read_dir(bin).unwrap().filter_map(Result::ok) {
                let name = entry.file_name();
                let link = system.join(&name);
                if !missing.iter().any(|m| name == **m) && fs::symlink_metadata(&link).is_err() {
                    std::os::unix::fs::symlink(entry.path(), link).unwrap();
                }
            }
        }
        let sudo = self.env.sysbin();
        format!(
            "{}:{}:{}",
            stubs.display(),
            sudo.display(),
            system.display()
        )
    }

    /// Every recipe log's text.
    fn logs(&self) -> String {
        fs::read_dir(self.env.root().join("logs"))
            .unwrap()
            .map(|e| fs::read_to_string(e.unwrap().path()).unwrap())
            .collect()
    }
}

/// The lines of the step `step` (its status line and the `|` lines under it).
fn step_block<'a>(text: &'a str, step: &str) -> Vec<&'a str> {
    let mut lines = text
        .lines()
        .skip_while(|l| !l.contains(&format!("› {step} (")));
    let Some(first) = lines.next() else {
        panic!("no step '{step}' in:\n{text}")
    };
    std::iter::once(first)
        .chain(lines.take_while(|l| l.starts_with("             |")))
        .collect()
}

#[test]
fn a_dry_run_without_the_tools_names_what_is_missing_and_reports_every_step() {
    let m = Machine::new();
    let path = m.path_without(&["lsmod", "modprobe", "ip"]);
    let out = m
        .run(&["can", "--dry-run", "--detailed-exitcode"])
        .env("PATH", &path)
        .output()
        .unwrap();
    let text = stdout_of(&out);
    // Unknown is not "in sync": with --detailed-exitcode the dry run exits 2.
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert_eq!(
        step_block(&text, "CAN kernel modules")[1..],
        [
            "             | cannot check: `lsmod` not found (it comes with the kmod package)",
            "             | would run: modprobe -a can can_raw can_dev",
        ],
        "{text}"
    );
    assert!(
        step_block(&text, "CAN kernel modules")[0].starts_with("unknown      can ›"),
        "{text}"
    );
    let interface = step_block(&text, "CAN interface can0");
    assert!(interface[0].starts_with("unknown      can ›"), "{text}");
    assert!(
        interface[1].starts_with("             | cannot check: `ip` not found"),
        "{text}"
    );
    // Every step of the recipe is reported, the independent ones checked as usual.
    let steps: Vec<&str> = text.lines().filter(|l| l.contains(" can › ")).collect();
    assert_eq!(steps.len(), 7, "{text}");
    assert!(
        step_block(&text, "can-utils")[0].starts_with("would change"),
        "{text}"
    );
    assert_eq!(
        summary_of(&out),
        "dry run: ok=0 changed=1 unknown=2 skipped=4 failed=0"
    );
    let calls = m.calls();
    assert!(
        !calls.contains("apt-get") && !calls.contains("modprobe"),
        "a dry run changed something:\n{calls}"
    );

    let out = m
        .run(&["can", "--dry-run", "--json"])
        .env("PATH", &path)
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let modules = &json["steps"][1];
    assert_eq!(
        (&modules["step"], &modules["status"]),
        (&"CAN kernel modules".into(), &"unknown".into())
    );
    assert_eq!(
        modules["commands"],
        serde_json::json!(["modprobe -a can can_raw can_dev"])
    );
    assert_eq!(json["summary"]["unknown"], 2);
}

#[test]
fn a_dry_run_without_systemctl_or_docker_goes_on_and_defers_the_verification() {
    let m = Machine::new();
    let out = m
        .run(&["docker", "--dry-run"])
        .env("PATH", m.path_without(&["systemctl", "docker"]))
        .output()
        .unwrap();
    let text = stdout_of(&out);
    assert!(out.status.success(), "{text}");
    assert_eq!(
        step_block(&text, "docker service enabled and running"),
        [
            step_block(&text, "docker service enabled and running")[0],
            "             | cannot check: `systemctl` not found (it comes with the systemd package)",
        ]
    );
    assert!(step_block(&text, "docker service enabled and running")[0].starts_with("unknown"));
    assert_eq!(
        step_block(&text, "docker answers")[1],
        "             | not checked until the pending changes are made: docker info >/dev/null"
    );
    assert_eq!(
        summary_of(&out),
        "dry run: ok=0 changed=2 unknown=1 skipped=9 failed=0"
    );
}

#[test]
fn a_run_without_a_tool_fails_naming_it_and_its_package() {
    let m = Machine::new();
    let out = m
        .run(&["docker"])
        .env("PATH", m.path_without(&["systemctl"]))
        .output()
        .unwrap();
    let text = stdout_of(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains(
            "cannot run `systemctl enable --now docker`: `systemctl` not found (it comes with the \
             systemd package)"
        ),
        "{text}"
    );
    // The steps before it ran; the run stopped there.
    assert!(m.state().join("pkgs/docker.io").exists());
    assert!(!text.contains("docker answers"), "{text}");
}

#[test]
fn a_check_whose_command_is_missing() {
    let m = Machine::new();
    // A verification: it fails, naming the command.
    m.recipe(
        "verify",
        "name = \"verify\"\n[[step]]\nname = \"tool answers\"\ncheck = \"nosuch-tool-for-strap --version >/dev/null 2>&1\"\n",
    );
    for args in [&["verify", "--dry-run"][..], &["verify"]] {
        m.run(args)
            .assert()
            .code(1)
            .stdout(predicate::str::contains(
                "cannot check: `nosuch-tool-for-strap` not found",
            ));
    }
    // A check that looks for the tool its commands install: a run installs it, then checks.
    m.recipe(
        "tool",
        r#"
name = "tool"
[[step]]
name = "the tool"
check = "strap-test-tool --version"
run = "mkdir -p {{ sysroot }}/bin && printf '#!/bin/sh\nexit 0\n' > {{ sysroot }}/bin/strap-test-tool && chmod +x {{ sysroot }}/bin/strap-test-tool"
"#,
    );
    let path = format!(
        "{}:{}:/usr/bin:/bin",
        m.sysroot().join("bin").display(),
        m.env.dir.path().join("stubs").display()
    );
    let dry = m
        .run(&["tool", "--dry-run"])
        .env("PATH", &path)
        .output()
        .unwrap();
    let text = stdout_of(&dry);
    assert!(dry.status.success(), "{text}");
    let block = step_block(&text, "the tool");
    assert!(block[0].starts_with("unknown"), "{text}");
    assert_eq!(
        block[1],
        "             | cannot check: `strap-test-tool` not found"
    );
    assert!(
        block[2].starts_with("             | would run: mkdir -p "),
        "{text}"
    );
    assert_eq!(
        run_ok(m.run(&["tool"]).env("PATH", &path)),
        "ok=0 changed=1 skipped=0 failed=0"
    );
    assert_eq!(
        run_ok(m.run(&["tool"]).env("PATH", &path)),
        "ok=1 changed=0 skipped=0 failed=0"
    );
}

#[test]
fn a_dry_run_goes_on_after_a_failed_check_and_reports_every_step() {
    let m = Machine::new();
    let out = m.run(&["can", "--dry-run"]).output().unwrap();
    let text = stdout_of(&out);
    // can-utils is still to be installed: the interface check, which fails now, is reported as
    // one that may pass once the pending changes are made, with what it found.
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains(
            "not checked until the pending changes are made: CAN interface can0 does not exist"
        ),
        "{text}"
    );
    assert_eq!(
        text.lines().filter(|l| l.contains(" can › ")).count(),
        7,
        "{text}"
    );
    assert!(
        step_block(&text, "systemd-networkd enabled")[0].starts_with("skipped"),
        "{text}"
    );
}

#[test]
fn jenkins_dry_run_claims_nothing_that_the_pending_changes_would_bring() {
    let m = Machine::new();
    let out = m.run(&["jenkins", "--dry-run"]).output().unwrap();
    let text = stdout_of(&out);
    assert!(out.status.success(), "{text}");
    assert!(!text.contains("Jenkins is on"), "{text}");
    assert_eq!(
        step_block(&text, "Jenkins answers on /login")[1..],
        ["             | not checked until the pending changes are made: curl -fsS -o /dev/null http://localhost:8080/login"]
    );
    assert_eq!(
        step_block(&text, "initial admin password (package)")[1..],
        ["             | not shown until the pending changes are made"]
    );
    // Checked once, not waited for.
    let calls = m.calls();
    assert_eq!(calls.matches("/login").count(), 1, "{calls}");
}

const WAITS: &str = r#"
name = "waits"
[vars.seconds]
type = "int"
default = 20
[[step]]
name = "ready"
check = "test -f {{ sysroot }}/ready"
wait = "{{ seconds }}"
"#;

#[test]
fn a_verification_with_wait_retries_its_check() {
    let m = Machine::new();
    m.recipe("waits", WAITS);
    // A dry run checks once.
    let out = m.run(&["waits", "--dry-run"]).output().unwrap();
    assert_eq!(
        step_block(&stdout_of(&out), "ready")[1],
        format!(
            "             | the check fails now; a run waits up to 20s for it: test -f {}/ready",
            m.sysroot().display()
        )
    );
    // A run waits until the check passes.
    let mut child = m
        .command(&["waits"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Once the first check has failed (its end is in this run's log), the run is waiting.
    let logs = m.env.root().join("logs");
    let log_end = format!("-{}.log", child.id());
    wait_while_running(&mut child, "the first check failing", || {
        fs::read_dir(&logs)
            .into_iter()
            .flatten()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().ends_with(&log_end))
            .any(|e| fs::read_to_string(e.path()).is_ok_and(|l| l.contains("# exit: ")))
    });
    fs::write(m.sysroot().join("ready"), "").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stdout_of(&out));
    assert!(
        stdout_of(&out).contains("             | passed after "),
        "{}",
        stdout_of(&out)
    );
    // ... and fails when it does not pass in time.
    fs::remove_file(m.sysroot().join("ready")).unwrap();
    m.run(&["waits", "--set", "seconds=1"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(format!(
            "check still failing after 1s: test -f {}/ready",
            m.sysroot().display()
        )));
    // `wait` belongs to a verification.
    m.recipe(
        "bad-wait",
        "name = \"bad-wait\"\n[[step]]\nname = \"x\"\ncheck = \"true\"\nrun = \"true\"\nwait = 5\n",
    );
    m.run(&["bad-wait"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(
            "`wait` is for a verification: a `check` without `run`",
        ));
}

#[test]
fn the_log_names_each_step_with_its_values_filled_in() {
    let m = Machine::new();
    can_link(&m, "can0", 250_000, true);
    run_ok(&mut m.run(&["can"]));
    let logs = m.logs();
    assert!(logs.contains("# step CAN interface can0\n"), "{logs}");
    assert!(!logs.contains("{{"), "{logs}");
}

#[test]
fn list_bare_prints_only_the_names_that_run() {
    let m = Machine::new();
    m.recipe(
        "mine",
        "name = \"mine\"\n[[step]]\nname = \"x\"\nrun = \"true\"\n",
    );
    // A broken file is still a name to complete (running it reports what is wrong).
    m.recipe("broken", "name = ");
    // Yours override the built-ins: listed once, by the file's name.
    m.recipe(
        "can",
        "name = \"my-can\"\n[[step]]\nname = \"x\"\nrun = \"true\"\n",
    );
    let out = m
        .env
        .strap(&["recipe", "list", "--bare"])
        .env("XDG_CONFIG_HOME", m.env.home().join(".config"))
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(stdout_of(&out), "broken\ncan\nmine\ndocker\njenkins\n");
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    let out = m
        .env
        .strap(&["recipe", "list"])
        .env("XDG_CONFIG_HOME", m.env.home().join(".config"))
        .output()
        .unwrap();
    let text = stdout_of(&out);
    assert!(
        text.lines()
            .any(|l| l.starts_with("can ") && l.contains(".config/strap/recipes/can.toml")),
        "{text}"
    );
}

#[test]
fn show_prints_types_as_recipes_write_them_and_an_unknown_name_lists_the_known_ones() {
    let m = Machine::new();
    let show = m.env.strap(&["recipe", "show", "can"]).output().unwrap();
    let text = stdout_of(&show);
    for line in [
        "  interfaces (list, default [\"can0\"]) /[A-Za-z][A-Za-z0-9_.-]{0,14}/",
        "  bitrate (int, default 500000) /[1-9][0-9]{3,6}/",
        "  persist (bool, default false)",
        "  sample_point (string, default \"\") /(0\\.[0-9]{1,3})?/",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} not in:\n{text}");
    }
    let out = m.env.strap(&["recipe", "show", "nosuch"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "strap: error: no recipe named 'nosuch'; built-in: can, docker, jenkins; none of yours in {}\n{NO_SUCH_RECIPE_HINT}",
            m.env.home().join(".config/strap/recipes").display()
        )
    );
    m.recipe(
        "mine",
        "name = \"mine\"\n[[step]]\nname = \"x\"\nrun = \"true\"\n",
    );
    let out = m.env.strap(&["recipe", "show", "nosuch"]).output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "strap: error: no recipe named 'nosuch'; built-in: can, docker, jenkins; yours (in {}): mine\n{NO_SUCH_RECIPE_HINT}",
            m.env.home().join(".config/strap/recipes").display()
        )
    );
    let missing = m.env.dir.path().join("nowhere.toml");
    let out = m
        .env
        .strap(&["recipe", "show", missing.to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with(&format!(
            "strap: error: {}: cannot read: ",
            missing.display()
        )),
        "{stderr}"
    );
    m.run(&["can", "--set", "interfaces=x;y"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "'x;y' is not a valid value for interfaces: it must match /",
        ));
}

/// Runs a command with a pseudo-terminal as its stdin and controlling terminal, and its stdout and
/// stderr piped; answers a `[y/N]` prompt shown on the terminal with argv[1]. Prints what the
/// terminal, stdout and stderr showed, and the exit code, as JSON.
const ON_A_TERMINAL: &str = r#"
import json, os, pty, select, sys, time
answer, argv = sys.argv[1], sys.argv[2:]
out_r, out_w = os.pipe()
err_r, err_w = os.pipe()
pid, master = pty.fork()
if pid == 0:
    os.dup2(out_w, 1)
    os.dup2(err_w, 2)
    os.execv(argv[0], argv)
os.close(out_w)
os.close(err_w)
shown = {master: b"", out_r: b"", err_r: b""}
open_fds = [master, out_r, err_r]
answered = False
deadline = time.time() + 60
while open_fds and time.time() < deadline:
    ready, _, _ = select.select(open_fds, [], [], 0.2)
    for fd in ready:
        try:
            data = os.read(fd, 4096)
        except OSError:
            data = b""
        if not data:
            open_fds.remove(fd)
        shown[fd] += data
    if not answered and b"[y/N]" in shown[master]:
        os.write(master, answer.encode() + b"\n")
        answered = True
_, status = os.waitpid(pid, 0)
print(json.dumps({
    "terminal": shown[master].decode(errors="replace"),
    "stdout": shown[out_r].decode(errors="replace"),
    "stderr": shown[err_r].decode(errors="replace"),
    "code": os.waitstatus_to_exitcode(status),
}))
"#;

/// `strap recipe run ARGS` (with the machine's environment) on a terminal, answering `answer`.
fn on_a_terminal(m: &Machine, args: &[&str], answer: &str) -> serde_json::Value {
    let helper = m.env.write("on_a_terminal.py", ON_A_TERMINAL);
    let strap = m.command(args);
    let mut cmd = std::process::Command::new("/usr/bin/python3");
    cmd.env_clear()
        .envs(strap.get_envs().filter_map(|(k, v)| Some((k, v?))))
        .current_dir(strap.get_current_dir().unwrap())
        .arg(helper)
        .arg(answer)
        .arg(strap.get_program())
        .args(strap.get_args());
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn a_run_from_a_terminal_asks_with_the_pending_changes_even_when_output_is_piped() {
    let m = Machine::new();
    m.recipe("engine", ENGINE);
    let sysroot = m.sysroot().display().to_string();
    let refused = on_a_terminal(&m, &["engine"], "n");
    let terminal = refused["terminal"].as_str().unwrap();
    for shown in [
        format!("strap: recipe engine on {sysroot} — the checks found:"),
        "  would change engine › create a".to_owned(),
        format!("               | would run: touch {sysroot}/a"),
        "  would change engine › create b".to_owned(),
        "  would change engine › handler: count".to_owned(),
        format!("               | would run: echo ran >> {sysroot}/handler"),
        "strap: 3 steps to change; 0 ok. Make these changes? [y/N] n".to_owned(),
    ] {
        assert!(
            terminal.lines().any(|l| l.trim_end() == shown),
            "{shown:?} not on the terminal:\n{terminal}"
        );
    }
    // The step skipped by its `when` is not a pending change.
    assert!(!terminal.contains("only with flag"), "{terminal}");
    assert_eq!(refused["code"], 1, "{refused}");
    assert_eq!(refused["stdout"], "", "{refused}");
    assert_eq!(
        refused["stderr"],
        "strap: error: cancelled; nothing was changed\n"
    );
    assert!(!m.sysroot().join("a").exists() && !m.sysroot().join("handler").exists());

    let accepted = on_a_terminal(&m, &["engine"], "y");
    assert!(
        accepted["terminal"].as_str().unwrap().contains("[y/N] y"),
        "{accepted}"
    );
    assert_eq!(accepted["code"], 0, "{accepted}");
    let stdout = accepted["stdout"].as_str().unwrap();
    assert!(
        stdout.contains("changed      engine › create a") && !stdout.contains("[y/N]"),
        "{stdout}"
    );
    assert!(
        stdout.contains("ok=0 changed=3 skipped=1 failed=0"),
        "{stdout}"
    );
    assert!(m.sysroot().join("a").exists() && m.sysroot().join("b").exists());

    // Nothing left to change: nothing to ask.
    let again = on_a_terminal(&m, &["engine"], "n");
    assert_eq!(again["code"], 0, "{again}");
    assert!(
        !again["terminal"].as_str().unwrap().contains("[y/N]"),
        "{again}"
    );
    assert!(
        again["stdout"]
            .as_str()
            .unwrap()
            .contains("ok=2 changed=0 skipped=1 failed=0"),
        "{again}"
    );
    // --yes never asks.
    fs::remove_file(m.sysroot().join("a")).unwrap();
    let yes = on_a_terminal(&m, &["engine", "--yes"], "n");
    assert_eq!(yes["code"], 0, "{yes}");
    assert!(
        !yes["terminal"].as_str().unwrap().contains("[y/N]"),
        "{yes}"
    );
    assert!(m.sysroot().join("a").exists());
}

#[test]
fn the_example_manifest_sets_up_its_virtual_can_bus_through_bootstrap() {
    let m = Machine::new();
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/strap.toml");
    let bootstrap = || {
        let out = m
            .strap(&["bootstrap", "--only", "recipe", "--sysroot"])
            .arg(m.sysroot())
            .arg("-f")
            .arg(&example)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let first = bootstrap();
    assert!(first.contains("  apply     recipe     can"), "{first}");
    assert!(first.contains("0 ok, 1 changed, 0 failed"), "{first}");
    assert!(
        m.calls().contains("ip link add dev vcan0 type vcan"),
        "{}",
        m.calls()
    );
    let second = bootstrap();
    assert!(
        second.contains("the one item is ok; nothing to do"),
        "{second}"
    );
}

#[test]
fn a_file_step_never_writes_through_a_link_planted_where_its_temporary_file_went() {
    let m = Machine::new();
    m.recipe(
        "conf",
        "name = \"conf\"\ndescription = \"a file\"\n\n[[step]]\nname = \"write the file\"\nkind = \"file\"\npath = \"/etc/app.conf\"\ncontent = \"key = 1\\n\"\n",
    );
    let victim = m.env.write("victim.txt", "precious\n");
    let etc = m.sysroot().join("etc");
    std::os::unix::fs::symlink(&victim, etc.join(".app.conf.strap-tmp")).unwrap();
    run_ok(&mut m.run(&["conf"]));
    assert_eq!(fs::read_to_string(&victim).unwrap(), "precious\n");
    let conf = etc.join("app.conf");
    assert!(fs::symlink_metadata(&conf).unwrap().is_file());
    assert_eq!(fs::read_to_string(&conf).unwrap(), "key = 1\n");
}

#[test]
fn a_file_step_whose_target_is_a_fifo_or_a_device_fails_at_once() {
    let m = Machine::new();
    let etc = m.sysroot().join("etc");
    fs::create_dir_all(&etc).unwrap();
    assert!(std::process::Command::new("mkfifo")
        .arg(etc.join("app.conf"))
        .status()
        .unwrap()
        .success());
    std::os::unix::fs::symlink("/dev/zero", etc.join("zero.conf")).unwrap();
    for file in ["app.conf", "zero.conf"] {
        m.recipe(
            "conf",
            &format!("name = \"conf\"\ndescription = \"a file\"\n\n[[step]]\nname = \"write the file\"\nkind = \"file\"\npath = \"/etc/{file}\"\ncontent = \"key = 1\\n\"\n"),
        );
        let out = m
            .run(&["conf"])
            .timeout(std::time::Duration::from_secs(60))
            .output()
            .unwrap();
        let text = format!("{}{}", stdout_of(&out), stderr_of(&out));
        assert_eq!(out.status.code(), Some(1), "{text}");
        assert!(text.contains("not a regular file"), "{text}");
    }
}

#[test]
fn a_key_download_never_writes_through_a_link_planted_where_it_used_to_go() {
    let m = Machine::new();
    fs::write(m.state_file("keys/gpg"), DOCKER_KEY).unwrap();
    let victim = m.env.write("victim.txt", "precious\n");
    let keyrings = m.sysroot().join("etc/apt/keyrings");
    fs::create_dir_all(&keyrings).unwrap();
    let planted = keyrings.join("docker.download");
    std::os::unix::fs::symlink(&victim, &planted).unwrap();
    run_ok(&mut m.run(&["docker", "--set", "source=docker"]));
    assert_eq!(fs::read_to_string(&victim).unwrap(), "precious\n");
    assert!(fs::symlink_metadata(keyrings.join("docker.asc"))
        .unwrap()
        .is_file());
    let names: Vec<String> = fs::read_dir(&keyrings)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        names.len(),
        2,
        "only the key and the planted link: {names:?}"
    );
}

/// The hint line after "no recipe named …".
const NO_SUCH_RECIPE_HINT: &str =
    "hint: `strap recipe list` shows what each recipe does; a recipe \
    file of your own is named by its path (./NAME.toml)\n";

/// A recipe name that names nothing is "not found" (with a next step), not an error in a recipe
/// file: for `show`, `run`, and a recipe whose `requires` names it.
#[test]
fn a_recipe_that_does_not_exist_is_not_found_with_a_hint() {
    let m = Machine::new();
    for args in [
        &["recipe", "show", "nosuch"][..],
        &["recipe", "run", "nosuch"],
    ] {
        let out = m.env.strap(args).output().unwrap();
        assert_eq!(out.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.starts_with("strap: error: no recipe named 'nosuch'; built-in: "),
            "{stderr}"
        );
        assert!(stderr.ends_with(NO_SUCH_RECIPE_HINT), "{stderr}");
    }
    let needs = m.recipe(
        "needs",
        "name = \"needs\"\nrequires = [\"nosuch\"]\n[[step]]\nname = \"x\"\nrun = \"true\"\n",
    );
    let out = m.run(&["needs"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with(&format!(
            "strap: error: {}: requires 'nosuch': no recipe named 'nosuch'; ",
            needs.display()
        )),
        "{stderr}"
    );
    assert!(stderr.ends_with(NO_SUCH_RECIPE_HINT), "{stderr}");
}

const UNAVAILABLE_THEN_CHECKS: &str = r#"
name = "svc"
[[step]]
name = "web running"
kind = "service"
service = "web"
[[step]]
name = "web's config is there"
check = "true"
"#;

#[test]
fn an_unavailable_service_is_no_pending_change_and_the_checks_after_it_still_run() {
    let m = Machine::booted_by("tini", &[]);
    m.recipe("svc", UNAVAILABLE_THEN_CHECKS);
    let out = m
        .run(&["svc", "--dry-run", "--detailed-exitcode"])
        .output()
        .unwrap();
    let text = stdout_of(&out);
    // A run would fail the service step: 1, not 2 ("changes pending") forever.
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        step_block(&text, "web running")[0].starts_with("unknown"),
        "{text}"
    );
    // Not deferred as "not checked until the pending changes are made": checked, and ok.
    assert_eq!(
        step_block(&text, "web's config is there"),
        [step_block(&text, "web's config is there")[0]]
    );
    assert!(
        step_block(&text, "web's config is there")[0].starts_with("ok"),
        "{text}"
    );
    assert_eq!(
        summary_of(&out),
        "dry run: ok=1 changed=0 unknown=1 skipped=0 failed=0"
    );
    let out = m.run(&["svc", "--dry-run", "--json"]).output().unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["summary"]["unknown"], 1, "{report}");
    assert_eq!(report["summary"]["unavailable"], 1, "{report}");
    assert_eq!(report["steps"][0]["unavailable"], true, "{report}");
    assert_eq!(report["steps"][1].get("unavailable"), None, "{report}");
    // Without --detailed-exitcode a dry run that found nothing wrong exits 0.
    m.run(&["svc", "--dry-run"]).assert().success();
}

#[test]
fn jenkins_in_a_container_without_curl_installs_it_for_its_login_check() {
    let m = Machine::booted_by("sh", &[]);
    fs::write(m.state_file("remote-daemons/tcp:__docker:2375"), "").unwrap();
    let path = m.path_without(&["curl"]);
    let args = [
        "jenkins",
        "--set",
        "mode=container",
        "--set",
        "daemon=false",
        "--set",
        "host=docker",
    ];
    let out = m
        .run(&args)
        .env("PATH", &path)
        .env("DOCKER_HOST", "tcp://docker:2375")
        .output()
        .unwrap();
    let text = stdout_of(&out);
    assert!(out.status.success(), "{text}");
    assert!(
        step_block(&text, "curl (fetches the apt key, asks /login)")[0]
            .starts_with("changed      jenkins › curl (fetches the apt key, asks /login) (")
            && text.contains(": install curl\n"),
        "{text}"
    );
    let calls = m.calls();
    assert!(
        calls.contains("apt-get install -y --no-install-recommends curl"),
        "{calls}"
    );
    assert!(
        calls.contains("curl -fsS -o /dev/null http://docker:8080/login"),
        "{calls}"
    );
    let second = m
        .run(&args)
        .env("PATH", &path)
        .env("DOCKER_HOST", "tcp://docker:2375")
        .output()
        .unwrap();
    assert!(
        summary_of(&second).contains("changed=0"),
        "{}",
        stdout_of(&second)
    );
}

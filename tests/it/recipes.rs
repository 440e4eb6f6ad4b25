//! Recipes: the engine with real shell steps in temporary directories, and the built-in recipes
//! against stub system tools (which record their arguments and keep state) and a `--sysroot`.

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;

use crate::support::{stdout_of, TestEnv};

/// A test machine for recipes: stub tools first on PATH, their state, a sysroot with a Debian
/// os-release, and the user's recipe directory.
struct Machine {
    env: TestEnv,
}

const STUBS: &[&str] = &[
    "apt-get",
    "dpkg-query",
    "systemctl",
    "ip",
    "modprobe",
    "lsmod",
    "docker",
    "id",
    "usermod",
    "curl",
    "gpg",
];

impl Machine {
    fn new() -> Machine {
        let env = TestEnv::new();
        let stubs = env.dir.path().join("stubs");
        fs::create_dir_all(&stubs).unwrap();
        let script = stubs.join("stub_tools.py");
        fs::write(&script, include_str!("stub_tools.py")).unwrap();
        for tool in STUBS {
            std::os::unix::fs::symlink(&script, stubs.join(tool)).unwrap();
        }
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).unwrap();
        env.write(
            "sysroot/etc/os-release",
            "ID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n",
        );
        fs::create_dir_all(env.dir.path().join("state")).unwrap();
        Machine { env }
    }

    fn sysroot(&self) -> PathBuf {
        self.env.dir.path().join("sysroot")
    }

    fn state(&self) -> PathBuf {
        self.env.dir.path().join("state")
    }

    /// `strap recipe run ARGS --sysroot <sysroot>` with the stubs first on PATH.
    fn run(&self, args: &[&str]) -> Command {
        let mut cmd = self.env.strap(&["recipe", "run"]);
        cmd.args(args)
            .arg("--sysroot")
            .arg(self.sysroot())
            .env(
                "PATH",
                format!(
                    "{}:/usr/bin:/bin",
                    self.env.dir.path().join("stubs").display()
                ),
            )
            .env("STUB_STATE", self.state())
            .env("XDG_CONFIG_HOME", self.env.home().join(".config"));
        cmd
    }

    /// Writes a recipe into the user's recipe directory.
    fn recipe(&self, name: &str, text: &str) -> PathBuf {
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
        logs.contains("$ touch") && logs.contains("# exit: exit status: 0"),
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
}

#[test]
fn a_step_that_runs_too_long_times_out() {
    let m = Machine::new();
    m.recipe(
        "slow",
        "name = \"slow\"\n[[step]]\nname = \"sleeps\"\ntimeout = 1\nrun = \"sleep 30\"\n",
    );
    let started = std::time::Instant::now();
    m.run(&["slow"])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("timed out after 1s"));
    assert!(started.elapsed() < std::time::Duration::from_secs(15));
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
        .code(1)
        .stderr(predicate::str::contains(
            "'can0; rm -rf /' is not a valid iface: it must match /[a-z]+[0-9]+/",
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
    m.run(&["quote", "--set", "nosuch=1"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no variable 'nosuch'"));
    m.run(&["quote", "--set", "novalue"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("NAME=VALUE"));
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
        .stderr(predicate::str::contains("no such recipe"));
}

#[test]
fn a_step_that_needs_root_fails_clearly_without_root_or_sudo() {
    use std::os::unix::fs::PermissionsExt;
    if !crate::support::can_drop_privileges() {
        return;
    }
    let m = Machine::new();
    m.recipe(
        "rooty",
        "name = \"rooty\"\n[[step]]\nname = \"as root\"\nbecome = true\nrun = \"touch {{ sysroot }}/done\"\n",
    );
    for entry in walk(m.env.dir.path()) {
        let mode = if entry.is_dir() { 0o777 } else { 0o666 };
        fs::set_permissions(&entry, fs::Permissions::from_mode(mode)).unwrap();
    }
    // No sudo on this PATH (only the stubs), running as an unprivileged user.
    let mut cmd = m
        .env
        .strap_as_nobody(&["recipe", "run", "rooty", "--sysroot"]);
    cmd.arg(m.sysroot())
        .env("PATH", m.env.dir.path().join("stubs"))
        .env("STUB_STATE", m.state())
        .env("XDG_CONFIG_HOME", m.env.home().join(".config"));
    cmd.assert().code(1).stdout(predicate::str::contains(
        "this step needs root: run strap as root, or install sudo",
    ));
    assert!(!m.sysroot().join("done").exists());
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
        text.contains("interfaces (List, default [\"can0\"])"),
        "{text}"
    );
    assert!(text.contains("CAN interface {{ item }}"), "{text}");
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
    assert!(
        network.contains("BitRate=500000\nSamplePoint=80%\nRestartSec=100ms\nTripleSampling=yes"),
        "{network}"
    );
    assert!(
        network.contains("FDMode=yes\nDataBitRate=4000000"),
        "{network}"
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

/// The fresh-system `--dry-run` and `--json` outputs of each built-in, with timings and temporary
/// paths replaced, compared with the files in `tests/it/snapshots/`.
#[test]
fn built_in_dry_run_and_json_snapshots() {
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
            let text = normalize(&stdout_of(&out), &m);
            let name = format!(
                "recipe_{recipe}_{}.txt",
                mode.trim_start_matches('-').replace('-', "_")
            );
            check_snapshot(&name, &text);
        }
    }
}

fn normalize(text: &str, m: &Machine) -> String {
    let seconds = regex::Regex::new(r"\(\d+\.\d+s\)").unwrap();
    let json_seconds = regex::Regex::new(r#""seconds": [0-9.e-]+"#).unwrap();
    let log = regex::Regex::new(r"recipe-([a-z]+)-\d+-\d+\.log").unwrap();
    let text = text.replace(&m.env.dir.path().display().to_string(), "[TMP]");
    let text = seconds.replace_all(&text, "(#s)");
    let text = json_seconds.replace_all(&text, "\"seconds\": 0");
    log.replace_all(&text, "recipe-$1-[TIME].log").into_owned()
}

fn check_snapshot(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/it/snapshots")
        .join(name);
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, actual).unwrap();
        return;
    }
    let expected = fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "missing snapshot {}; run with UPDATE_SNAPSHOTS=1",
            path.display()
        )
    });
    assert_eq!(
        actual, expected,
        "snapshot {name} differs (UPDATE_SNAPSHOTS=1 rewrites it)"
    );
}

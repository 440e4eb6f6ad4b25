//! What a recipe run shows: a changed step is one line (the packages, each file's diff stat, the
//! command that ran); what its commands printed appears with `--verbose` or when the step fails,
//! and always in the log and in `--json`. `strap bootstrap` shows a recipe's steps under its item
//! and puts them in its `--json` outcome.

use std::fs;
use std::path::{Path, PathBuf};

use crate::recipes::Machine;
use crate::support::{stderr_of, stdout_of, write_script, TestEnv};

/// How many lines the chatty `apt-get` prints before it installs.
const CHATTER: usize = 150;

/// The `n`th line the chatty `apt-get` prints.
fn chatter(n: usize) -> String {
    format!("Unpacking chatty-package-{n} (1.0-{n}) ...")
}

const PACKAGES: &str = r#"
name = "pkgs"
description = "packages from a chatty apt"

[[step]]
name = "tools"
kind = "packages"
packages = ["curl", "jq"]
"#;

/// A machine whose `apt-get` prints [`CHATTER`] lines, then does what the stub does.
fn chatty_machine() -> (Machine, PathBuf) {
    let m = Machine::new();
    let chatty = m.env.dir.path().join("chatty");
    let stub = m.env.dir.path().join("stubs/apt-get");
    write_script(
        &chatty.join("apt-get"),
        &format!(
            "i=1\nwhile [ $i -le {CHATTER} ]; do\n  echo \"Unpacking chatty-package-$i (1.0-$i) ...\"\n  i=$((i + 1))\ndone\nexec {} \"$@\"",
            stub.display()
        ),
    );
    m.recipe("pkgs", PACKAGES);
    (m, chatty)
}

/// `strap recipe run pkgs ARGS` on the machine, the chatty `apt-get` first on PATH.
fn run_pkgs(m: &Machine, chatty: &Path, args: &[&str]) -> std::process::Output {
    let path = format!(
        "{}:{}:{}:/usr/bin:/bin",
        chatty.display(),
        m.env.dir.path().join("stubs").display(),
        m.env.sysbin().display()
    );
    m.run(&[&["pkgs"], args].concat())
        .env("PATH", path)
        .output()
        .unwrap()
}

/// Forgets the installed packages, so that the next run installs them again.
fn uninstall(m: &Machine) {
    for package in ["curl", "jq"] {
        let _ = fs::remove_file(m.state().join("pkgs").join(package));
    }
}

/// The log the summary line names.
fn log_of(stdout: &str) -> String {
    let path = stdout
        .lines()
        .find_map(|l| l.split("(log: ").nth(1))
        .and_then(|rest| rest.strip_suffix(')'))
        .unwrap_or_else(|| panic!("no log named in:\n{stdout}"));
    fs::read_to_string(path).unwrap()
}

fn count_chatter(text: &str) -> usize {
    (1..=CHATTER)
        .filter(|n| text.contains(&chatter(*n)))
        .count()
}

#[test]
fn a_changed_packages_step_is_one_line_and_its_output_is_in_the_log() {
    let (m, chatty) = chatty_machine();
    let out = run_pkgs(&m, &chatty, &[]);
    let stdout = stdout_of(&out);
    assert!(out.status.success(), "{stdout}{}", stderr_of(&out));
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines.len(),
        2,
        "one line for the step, then the summary:\n{stdout}"
    );
    assert!(
        lines[0].starts_with("changed      pkgs › tools (")
            && lines[0].ends_with("s): install curl jq"),
        "{stdout}"
    );
    assert!(lines[1].starts_with("ok=0 changed=1 skipped=0 failed=0   (log: "));
    assert_eq!(count_chatter(&stdout), 0, "{stdout}");
    assert_eq!(count_chatter(&stderr_of(&out)), 0, "{}", stderr_of(&out));
    // The log has all of it.
    let log = log_of(&stdout);
    assert_eq!(count_chatter(&log), CHATTER, "{log}");
    assert!(
        log.contains("apt-get install -y --no-install-recommends curl jq"),
        "{log}"
    );
    // Once installed the step is ok, and says nothing else.
    let again = stdout_of(&run_pkgs(&m, &chatty, &[]));
    assert!(again.starts_with("ok           pkgs › tools ("), "{again}");
    assert_eq!(again.lines().count(), 2, "{again}");
}

#[test]
fn verbose_shows_what_a_changed_step_printed() {
    let (m, chatty) = chatty_machine();
    for flag in ["-v", "--verbose"] {
        uninstall(&m);
        let out = run_pkgs(&m, &chatty, &[flag]);
        let stdout = stdout_of(&out);
        assert!(out.status.success(), "{stdout}");
        assert!(
            stdout.starts_with("changed      pkgs › tools ("),
            "{stdout}"
        );
        for n in 1..=CHATTER {
            let line = format!("\n             | {}\n", chatter(n));
            assert!(stdout.contains(&line), "{flag}: {line:?} in:\n{stdout}");
        }
    }
}

#[test]
fn a_failed_step_shows_its_whole_output_without_verbose() {
    let (m, chatty) = chatty_machine();
    fs::create_dir_all(m.state().join("fail-install")).unwrap();
    fs::write(m.state().join("fail-install/jq"), "").unwrap();
    let out = run_pkgs(&m, &chatty, &[]);
    let stdout = stdout_of(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines[0].starts_with("failed       pkgs › tools ("),
        "{stdout}"
    );
    assert!(
        lines[1].starts_with("             | `")
            && lines[1].ends_with("apt-get install -y --no-install-recommends curl jq` failed"),
        "{stdout}"
    );
    assert_eq!(count_chatter(&stdout), CHATTER, "{stdout}");
    assert!(
        stdout.contains("             | E: Unable to locate package jq\n"),
        "{stdout}"
    );
    let json = run_pkgs(&m, &chatty, &["--json"]);
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let step = &report["steps"][0];
    assert_eq!(step["status"], "failed", "{report}");
    let output = step["output"].as_str().unwrap();
    assert_eq!(count_chatter(output), CHATTER, "{report}");
    assert!(
        output.ends_with("E: Unable to locate package jq"),
        "{report}"
    );
    assert!(
        step["message"].as_str().unwrap().ends_with("` failed"),
        "{report}"
    );
}

#[test]
fn json_carries_each_steps_whole_output() {
    let (m, chatty) = chatty_machine();
    let out = run_pkgs(&m, &chatty, &["--json"]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let step = &report["steps"][0];
    assert_eq!(step["status"], "changed", "{report}");
    assert_eq!(step["diff"], "install curl jq", "{report}");
    let output = step["output"].as_str().unwrap();
    let expected: Vec<String> = (1..=CHATTER).map(chatter).collect();
    assert_eq!(output, expected.join("\n"), "the whole output, in order");
    assert!(step.get("message").is_none(), "{report}");
    // An ok step ran only checks: no output.
    let again = run_pkgs(&m, &chatty, &["--json"]);
    let report: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    let step = report["steps"][0].as_object().unwrap();
    assert_eq!(step["status"], "ok");
    let fields: Vec<&str> = step.keys().map(String::as_str).collect();
    assert_eq!(fields, ["recipe", "seconds", "status", "step"], "{report}");
}

const FILES: &str = r##"
name = "files"
description = "a file and a command"

[vars.who]
type = "string"
default = "ops"

[[step]]
name = "config"
kind = "file"
path = "/etc/app.conf"
content = "# written by strap\nowner = {{ who }}\nlevel = 3\n"

[[step]]
name = "stamp"
check = "grep -qx {{ who }} {{ sysroot }}/stamp"
run = ["echo {{ who }} > {{ sysroot }}/stamp", "echo stamped for {{ who }}"]
warn = "{{ who }} now owns this machine"
"##;

#[test]
fn a_changed_file_shows_its_diff_stat_and_a_command_the_command_that_ran() {
    let m = Machine::new();
    m.recipe("files", FILES);
    let sysroot = m.sysroot();
    let conf = sysroot.join("etc/app.conf");
    let out = m.run(&["files"]).output().unwrap();
    let stdout = stdout_of(&out);
    assert!(out.status.success(), "{stdout}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert!(
        lines[0].starts_with("changed      files › config (")
            && lines[0].ends_with(&format!("s): {} +3 -0", conf.display())),
        "{stdout}"
    );
    assert!(
        lines[1].starts_with("changed      files › stamp (")
            && lines[1].ends_with(&format!(
                "s): ran echo ops > {}/stamp; ran echo stamped for ops",
                sysroot.display()
            )),
        "{stdout}"
    );
    // The warning is for the reader, always; the command's output only with -v.
    assert_eq!(
        lines[2], "             | ops now owns this machine",
        "{stdout}"
    );
    assert!(lines[3].starts_with("ok=0 changed=2 "), "{stdout}");
    assert!(!stdout.contains("| stamped for"), "{stdout}");

    let out = m
        .run(&["files", "--set", "who=dev", "-v"])
        .output()
        .unwrap();
    let stdout = stdout_of(&out);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains(&format!("s): {} +1 -1\n", conf.display())),
        "{stdout}"
    );
    for line in [
        "             | -owner = ops",
        "             | +owner = dev",
        "             |  level = 3",
        "             | stamped for dev",
        "             | dev now owns this machine",
    ] {
        assert!(
            stdout.contains(&format!("{line}\n")),
            "{line:?} in:\n{stdout}"
        );
    }
}

const MARKER: &str = r#"
name = "marker"
description = "a file and a chatty command"

[vars.text]
type = "string"
default = "unset"

[[step]]
name = "marker file"
kind = "file"
path = "/marker"
content = "{{ text }}\n"

[[step]]
name = "announce"
check = "test -f {{ sysroot }}/announced-{{ text }}"
run = "echo announcing {{ text }}; touch {{ sysroot }}/announced-{{ text }}"
"#;

/// A project whose `strap.toml` has one recipe item, `recipe` (as `marker.toml`) with `text`.
fn marker_project(env: &TestEnv, recipe: &str, text: &str) -> PathBuf {
    env.write("work/proj/marker.toml", recipe);
    env.write(
        "work/proj/strap.toml",
        &format!("[[recipe]]\npath = \"marker.toml\"\nvars = {{ text = \"{text}\" }}\n"),
    );
    env.work().join("proj")
}

fn bootstrap(env: &TestEnv, dir: &Path, sysroot: &Path, args: &[&str]) -> std::process::Output {
    env.strap(&[&["bootstrap"], args, &["--sysroot"]].concat())
        .arg(sysroot)
        .current_dir(dir)
        .output()
        .unwrap()
}

#[test]
fn bootstrap_shows_a_recipes_steps_under_its_item() {
    let env = TestEnv::new();
    let dir = marker_project(&env, MARKER, "one");
    let sysroot = env.work().join("sysroot");
    fs::create_dir_all(&sysroot).unwrap();
    let out = bootstrap(&env, &dir, &sysroot, &[]);
    let err = stderr_of(&out);
    assert!(out.status.success(), "{err}");
    let lines: Vec<&str> = err.lines().collect();
    let item = lines
        .iter()
        .position(|l| l.starts_with("strap: bootstrap: apply     recipe     "))
        .unwrap_or_else(|| panic!("no item line in:\n{err}"));
    let marker = sysroot.join("marker");
    let steps = &lines[item + 1..item + 4];
    assert!(
        steps[0].starts_with("    changed      marker › marker file (")
            && steps[0].ends_with(&format!("s): {} +1 -0", marker.display())),
        "{err}"
    );
    assert!(
        steps[1].starts_with("    changed      marker › announce (")
            && steps[1].contains("s): ran echo announcing one; touch "),
        "{err}"
    );
    assert!(
        steps[2].starts_with("    ok=0 changed=2 skipped=0 failed=0   (log: "),
        "{err}"
    );
    assert_eq!(
        lines[item + 4],
        "strap: bootstrap: 0 ok, 1 changed, 0 failed",
        "{err}"
    );
    assert!(
        !err.contains("             | "),
        "nothing more without -v: {err}"
    );

    // -v passes through to the recipe run.
    let dir = marker_project(&env, MARKER, "two");
    let out = bootstrap(&env, &dir, &sysroot, &["-v"]);
    let err = stderr_of(&out);
    assert!(out.status.success(), "{err}");
    for line in [
        "                 | -one",
        "                 | +two",
        "                 | announcing two",
    ] {
        assert!(err.contains(&format!("\n{line}\n")), "{line:?} in:\n{err}");
    }
}

#[test]
fn bootstraps_json_outcome_of_a_recipe_carries_its_steps() {
    let env = TestEnv::new();
    let dir = marker_project(&env, MARKER, "one");
    let sysroot = env.work().join("sysroot");
    fs::create_dir_all(&sysroot).unwrap();
    let out = bootstrap(&env, &dir, &sysroot, &["--json"]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let outcome = &report["items"][0]["outcome"];
    assert_eq!(outcome["result"], "changed", "{report}");
    assert_eq!(outcome["summary"]["changed"], 2, "{report}");
    assert!(outcome["log"].as_str().is_some(), "{report}");
    let steps = outcome["steps"].as_array().unwrap();
    let names: Vec<&str> = steps.iter().map(|s| s["step"].as_str().unwrap()).collect();
    assert_eq!(names, ["marker file", "announce"], "{report}");
    assert!(
        steps[0]["diff"]
            .as_str()
            .unwrap()
            .ends_with("@@ -0,0 +1 @@\n+one\n"),
        "{report}"
    );
    assert_eq!(steps[1]["output"], "announcing one", "{report}");

    // A failing step fails the item, naming the step, and its outcome says why.
    let failing = MARKER.replace(
        "echo announcing {{ text }}; touch",
        "echo cannot announce && false && touch",
    );
    assert_ne!(failing, MARKER);
    let dir = marker_project(&env, &failing, "three");
    let out = bootstrap(&env, &dir, &sysroot, &["--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains(": step marker › announce failed\n"),
        "{}",
        stderr_of(&out)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let outcome = &report["items"][0]["outcome"];
    assert_eq!(outcome["result"], "failed", "{report}");
    assert_eq!(
        outcome["detail"], "step marker › announce failed",
        "{report}"
    );
    let failed = &outcome["steps"][1];
    assert_eq!(failed["status"], "failed", "{report}");
    assert_eq!(failed["output"], "cannot announce", "{report}");
}

#[test]
fn control_characters_in_names_messages_and_output_are_shown_escaped() {
    let m = Machine::new();
    m.recipe(
        "noisy",
        r#"
name = "noisy"
[[step]]
name = "title\u001b]0;pwned\u0007"
run = "printf '\\033]0;x\\007 done\\n'"
warn = "careful\u001b[2J"
"#,
    );
    let out = m.run(&["noisy", "-v"]).output().unwrap();
    let text = stdout_of(&out);
    assert!(out.status.success(), "{text}{}", stderr_of(&out));
    assert!(
        !text.contains('\u{1b}') && !text.contains('\u{7}'),
        "{text:?}"
    );
    assert!(text.contains("› title\\x1b]0;pwned\\x07 ("), "{text}");
    assert!(text.contains("| careful\\x1b[2J\n"), "{text}");
    assert!(text.contains("| \\x1b]0;x\\x07 done\n"), "{text}");
    // The JSON report keeps the output as it was (JSON escapes it).
    let out = m.run(&["noisy", "--json"]).output().unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["steps"][0]["output"], "\u{1b}]0;x\u{7} done");

    // `strap bootstrap` shows the steps under its item, and a failed step in its summary, the
    // same way.
    let env = TestEnv::new();
    let failing = "name = \"noisy\"\n[[step]]\nname = \"title\\u001b]0;pwned\\u0007\"\n\
                   run = \"printf '\\\\033]0;x\\\\007 done\\\\n'; exit 3\"\n";
    env.write("work/proj/noisy.toml", failing);
    env.write(
        "work/proj/strap.toml",
        "[[recipe]]\npath = \"noisy.toml\"\n",
    );
    let dir = env.work().join("proj");
    let sysroot = env.work().join("sysroot");
    fs::create_dir_all(&sysroot).unwrap();
    let out = bootstrap(&env, &dir, &sysroot, &["-v"]);
    let err = stderr_of(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(!err.contains('\u{1b}') && !err.contains('\u{7}'), "{err:?}");
    assert!(
        err.contains("noisy.toml: step noisy › title\\x1b]0;pwned\\x07 failed\n"),
        "{err}"
    );
    assert!(err.contains("| \\x1b]0;x\\x07 done\n"), "{err}");
}

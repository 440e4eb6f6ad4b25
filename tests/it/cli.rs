//! The CLI surface: help with examples, listings, global/local/shell, usage errors, completions.

use predicates::prelude::*;

use crate::support::{stdout_of, TestEnv};

const COMMANDS: &[&str] = &[
    "root",
    "install",
    "recipe",
    "versions",
    "version",
    "version-name",
    "version-origin",
    "version-file",
    "global",
    "local",
    "shell",
    "latest",
    "prefix",
    "which",
    "whence",
    "exec",
    "rehash",
    "shims",
    "uninstall",
    "init",
    "completions",
];

#[test]
fn every_command_has_help_with_an_example() {
    let env = TestEnv::new();
    for cmd in COMMANDS {
        let out = env.strap(&[cmd, "--help"]).output().unwrap();
        assert!(out.status.success(), "{cmd} --help failed");
        let text = stdout_of(&out);
        assert!(
            text.contains("Example"),
            "{cmd} --help shows no example:\n{text}"
        );
        let example = text.split("Example").nth(1).unwrap_or_default();
        assert!(
            example.contains(&format!("strap {cmd}")),
            "{cmd} --help: the example does not show `strap {cmd}`:\n{text}"
        );
    }
}

#[test]
fn version_flag_prints_the_version() {
    TestEnv::new()
        .strap(&["--version"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("strap "));
}

#[test]
fn unknown_commands_and_flags_are_usage_errors() {
    let env = TestEnv::new();
    env.strap(&["frobnicate"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("frobnicate"));
    env.strap(&["versions", "--nope"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--nope"));
    env.strap(&["local", "3.12", "--unset"]).assert().code(2);
    env.strap(&[]).assert().code(2);
}

#[test]
fn root_prints_the_root() {
    let env = TestEnv::new();
    env.strap(&["root"])
        .assert()
        .stdout(format!("{}\n", env.root().display()));
    let other = env.dir.path().join("elsewhere");
    env.strap(&["--root", other.to_str().unwrap(), "root"])
        .assert()
        .stdout(format!("{}\n", other.display()));
}

#[test]
fn versions_marks_the_selected_ones_with_their_origin() {
    let env = TestEnv::new();
    env.fake_system("python3");
    env.fake_version("3.12.7", &["python3"]);
    env.fake_version("3.11.9", &["python3"]);
    env.fake_version("3.9.18", &["python3"]);
    env.write("work/.python-version", "3.12\n3.9.18\n");
    let origin = env.work().join(".python-version");
    env.strap(&["versions"]).assert().success().stdout(format!(
        "  system\n* 3.9.18 (set by {o})\n  3.11.9\n* 3.12.7 (set by {o})\n",
        o = origin.display()
    ));
    env.strap(&["versions", "--bare"])
        .assert()
        .stdout("3.9.18\n3.11.9\n3.12.7\n");
    let out = env.strap(&["versions", "--json"]).output().unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let entries = json.as_array().unwrap();
    assert_eq!(entries.len(), 4);
    assert_eq!(entries[0]["name"], "system");
    assert_eq!(entries[0]["prefix"], env.dir.path().display().to_string());
    assert_eq!(entries[3]["name"], "3.12.7");
    assert_eq!(entries[3]["selected"], true);
    assert_eq!(entries[3]["origin"], origin.display().to_string());
    assert_eq!(entries[2]["selected"], false);
}

#[test]
fn versions_warns_about_a_selected_version_that_is_missing() {
    let env = TestEnv::new();
    env.fake_version("3.12.7", &["python3"]);
    env.write("root/version", "3.8.1\n");
    env.strap(&["versions"])
        .env("PATH", env.sysbin())
        .assert()
        .success()
        .stdout("  3.12.7\n")
        .stderr(predicate::str::contains("version '3.8.1' is not installed"));
}

#[test]
fn global_shows_and_sets() {
    let env = TestEnv::new();
    env.fake_version("3.12.7", &["python3"]);
    env.strap(&["global"]).assert().stdout("system\n");
    env.strap(&["global", "3.12"]).assert().success();
    env.strap(&["global"]).assert().stdout("3.12\n");
    env.strap(&["global", "3.99"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("version '3.99' is not installed"));
    env.strap(&["global"]).assert().stdout("3.12\n");
}

#[test]
fn local_shows_sets_and_unsets() {
    let env = TestEnv::new();
    env.fake_version("3.12.7", &["python3"]);
    env.strap(&["local"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no local version"));
    env.strap(&["local", "3.12.7", "system"]).assert().success();
    assert_eq!(
        std::fs::read_to_string(env.work().join(".python-version")).unwrap(),
        "3.12.7\nsystem\n"
    );
    env.strap(&["local"]).assert().stdout("3.12.7\nsystem\n");
    env.strap(&["local", "--unset"]).assert().success();
    assert!(!env.work().join(".python-version").exists());
    // A name that reaches outside versions/ is a usage error.
    env.strap(&["local", "../x"]).assert().code(2);
    assert!(!env.work().join(".python-version").exists());
}

#[test]
fn shell_without_the_integration_explains_what_to_do() {
    let env = TestEnv::new();
    env.fake_version("3.12.7", &["python3"]);
    env.strap(&["shell", "3.12.7"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("strap init"));
    env.strap(&["shell"])
        .env("STRAP_PYTHON_VERSION", "3.12.7")
        .assert()
        .success()
        .stdout("3.12.7\n");
    env.strap(&["shell"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("no shell-specific version"));
}

#[test]
fn sh_shell_emits_quoted_code_and_validates_first() {
    let env = TestEnv::new();
    env.fake_version("3.12.7", &["python3"]);
    env.strap(&["sh-shell", "--shell", "bash", "3.12.7"])
        .assert()
        .stdout("export STRAP_PYTHON_VERSION=3.12.7\n");
    env.strap(&["sh-shell", "--shell", "fish", "--unset"])
        .assert()
        .stdout("set -e STRAP_PYTHON_VERSION\n");
    env.strap(&["sh-shell", "--shell", "bash", "3.1'; rm -rf /"])
        .assert()
        .code(2)
        .stdout("");
}

#[test]
fn prefix_of_selection_and_of_system() {
    let env = TestEnv::new();
    env.fake_system("python3");
    env.fake_version("3.12.7", &["python3"]);
    env.fake_version("2.7.18", &["python2.7"]);
    env.write("root/version", "3.12.7\n2.7.18\n");
    env.strap(&["prefix"]).assert().stdout(format!(
        "{}:{}\n",
        env.root().join("versions/3.12.7").display(),
        env.root().join("versions/2.7.18").display()
    ));
    env.strap(&["prefix", "system"])
        .assert()
        .stdout(format!("{}\n", env.dir.path().display()));
    env.strap(&["prefix", "3.8"]).assert().code(1);
}

#[test]
fn init_prints_code_or_instructions() {
    let env = TestEnv::new();
    env.strap(&["init"])
        .env("SHELL", "/usr/bin/zsh")
        .assert()
        .success()
        .stdout(
            predicate::str::contains("eval \"$(strap init zsh)\"")
                .and(predicate::str::contains("~/.zshrc")),
        );
    env.strap(&["init", "fish"])
        .assert()
        .stdout(predicate::str::contains(format!(
            "set -gx PATH '{}'",
            env.shims().display()
        )));
    env.strap(&["init", "-"])
        .env("SHELL", "/bin/bash")
        .assert()
        .stdout(predicate::str::contains("strap() {"));
    env.strap(&["init", "tcsh"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("unsupported shell"));
}

#[test]
fn completions_for_each_shell() {
    let env = TestEnv::new();
    for shell in ["bash", "zsh", "fish"] {
        env.strap(&["completions", shell])
            .assert()
            .success()
            .stdout(predicate::str::contains("version-name"));
    }
    env.strap(&["completions", "tcsh"]).assert().code(2);
}

#[test]
fn a_closed_pipe_ends_the_listing_quietly() {
    let env = TestEnv::new();
    for i in 0..3000 {
        std::fs::create_dir_all(env.root().join(format!("versions/3.{i}.0"))).unwrap();
    }
    let path = format!(
        "{}:/usr/bin:/bin",
        crate::support::strap_bin().parent().unwrap().display()
    );
    let out = env
        .command("bash")
        .args([
            "-c",
            "strap versions --bare | head -1; echo \"status=${PIPESTATUS[0]}\"",
        ])
        .env("PATH", path)
        .output()
        .unwrap();
    let stdout = stdout_of(&out);
    assert!(stdout.starts_with("3.0.0\n"), "{stdout}");
    // Like any Unix filter: success, or ended by SIGPIPE (128 + 13); never an error message.
    assert!(
        stdout.ends_with("status=0\n") || stdout.ends_with("status=141\n"),
        "{stdout}"
    );
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

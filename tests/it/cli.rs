//! The CLI surface: help with examples, listings, global/local/shell, usage errors, completions.

use predicates::prelude::*;

use crate::support::{stderr_of, stdout_of, TestEnv};

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
    "cache",
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
fn help_lists_commands_in_the_order_a_user_needs_them() {
    let out = TestEnv::new().strap(&["--help"]).output().unwrap();
    let text = stdout_of(&out);
    let position = |cmd: &str| {
        text.find(&format!("\n  {cmd} "))
            .unwrap_or_else(|| panic!("{cmd} missing:\n{text}"))
    };
    let order = [
        "install",
        "uninstall",
        "versions",
        "global",
        "local",
        "shell",
        "bootstrap",
        "boost",
        "recipe",
        "root",
    ];
    for pair in order.windows(2) {
        assert!(position(pair[0]) < position(pair[1]), "{pair:?}:\n{text}");
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
    // The previous selection is kept in a shell variable, for `strap shell -`.
    env.strap(&["sh-shell", "--shell", "bash", "3.12.7"])
        .assert()
        .stdout(
            "STRAP_PYTHON_VERSION_OLD=\"${STRAP_PYTHON_VERSION-}\"\n\
             export STRAP_PYTHON_VERSION=3.12.7\n",
        );
    env.strap(&["sh-shell", "--shell", "fish", "--unset"])
        .assert()
        .stdout(
            "set -gu STRAP_PYTHON_VERSION_OLD \"$STRAP_PYTHON_VERSION\"\n\
             set -e STRAP_PYTHON_VERSION\n",
        );
    // Selecting what is selected keeps the previous selection (as pyenv does).
    env.strap(&["sh-shell", "--shell", "bash", "3.12.7"])
        .env("STRAP_PYTHON_VERSION", "3.12.7")
        .assert()
        .success()
        .stdout("");
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
fn init_refuses_a_shell_it_cannot_integrate_with_instead_of_printing_bash_code() {
    let env = TestEnv::new();
    for args in [&["init"][..], &["init", "-"], &["init", "--pyenv"]] {
        env.strap(args)
            .env("SHELL", "/bin/tcsh")
            .assert()
            .code(2)
            .stdout("")
            .stderr(
                "strap: error: unsupported shell '/bin/tcsh' ($SHELL): strap integrates with \
                 bash, zsh and fish\nhint: name it: `strap init bash`, `strap init zsh` or \
                 `strap init fish`\n",
            );
    }
    // Refused before anything is linked.
    assert!(!env.home().join(".pyenv/bin/pyenv").exists());
    for args in [&["init"][..], &["init", "-"]] {
        env.strap(args)
            .assert()
            .code(2)
            .stdout("")
            .stderr(predicate::str::contains(
                "cannot tell your shell: $SHELL is not set",
            ));
    }
    // `init --pyenv` without $SHELL (a container) links, and prints bash's lines, saying so.
    env.strap(&["init", "--pyenv"])
        .assert()
        .success()
        .stdout(predicate::str::contains("~/.bashrc"));
}

#[test]
fn root_help_states_the_precedence_the_code_applies() {
    let env = TestEnv::new();
    env.strap(&["--help"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "The strap root; it wins over $STRAP_ROOT, which wins over the default,",
        ));
    // --root wins over STRAP_ROOT, which wins over $XDG_DATA_HOME/strap.
    let xdg = env.dir.path().join("xdg");
    env.strap(&["--root", "/r", "root"])
        .env("XDG_DATA_HOME", &xdg)
        .assert()
        .stdout("/r\n");
    env.strap(&["root"])
        .env("XDG_DATA_HOME", &xdg)
        .assert()
        .stdout(format!("{}\n", env.root().display()));
    env.strap(&["root"])
        .env_remove("STRAP_ROOT")
        .env("XDG_DATA_HOME", &xdg)
        .assert()
        .stdout(format!("{}/strap\n", xdg.display()));
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

#[test]
fn usage_errors_speak_strap_style_with_the_closest_suggestion_first() {
    let env = TestEnv::new();
    let out = env.strap(&["instal"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr_of(&out);
    assert!(
        err.starts_with("strap: error: unrecognized subcommand 'instal'\n"),
        "{err}"
    );
    assert!(
        err.contains("tip: some similar subcommands exist: 'install', "),
        "{err}"
    );
    assert!(err.contains("\nUsage: strap "), "{err}");
    assert!(!err.contains("\u{1b}["), "{err:?}");
    env.strap(&["versions", "--nope"])
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with(
            "strap: error: unexpected argument '--nope' found",
        ));
    env.strap(&["completions", "bah"])
        .assert()
        .code(2)
        .stderr(predicate::str::starts_with(
            "strap: error: invalid value 'bah'",
        ));
    // Help and version are not errors: stdout, exit 0.
    env.strap(&["--help"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("Usage: strap"))
        .stderr("");
    env.strap(&["help", "install"]).assert().code(0);
    env.strap(&["--version"]).assert().code(0);
}

#[test]
fn version_and_which_as_json() {
    let env = TestEnv::new();
    env.fake_system("python3");
    env.fake_system("gcc");
    env.fake_version("3.12.7", &["python3"]);
    env.fake_version("2.7.18", &["python2.7"]);
    env.write("work/.python-version", "3.12\n2.7.18\n");
    let origin = env.work().join(".python-version").display().to_string();
    let out = env.strap(&["version", "--json"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        json,
        serde_json::json!([
            {
                "name": "3.12.7",
                "requested": "3.12",
                "prefix": env.root().join("versions/3.12.7").display().to_string(),
                "origin": origin,
            },
            {
                "name": "2.7.18",
                "requested": "2.7.18",
                "prefix": env.root().join("versions/2.7.18").display().to_string(),
                "origin": origin,
            },
        ])
    );
    let which = |command: &str| {
        let out = env.strap(&["which", command, "--json"]).output().unwrap();
        assert!(out.status.success(), "{}", stderr_of(&out));
        serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()
    };
    assert_eq!(
        which("python2.7"),
        serde_json::json!({
            "command": "python2.7",
            "path": env.root().join("versions/2.7.18/bin/python2.7").display().to_string(),
            "version": "2.7.18",
            "origin": origin,
        })
    );
    // From the system because no selected version has it: no origin.
    assert_eq!(
        which("gcc"),
        serde_json::json!({
            "command": "gcc",
            "path": env.sysbin().join("gcc").display().to_string(),
            "version": "system",
            "origin": null,
        })
    );
    // The system selected explicitly.
    let out = env
        .strap(&["version", "--json"])
        .env("STRAP_PYTHON_VERSION", "system")
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json[0]["name"], "system");
    assert_eq!(json[0]["prefix"], env.dir.path().display().to_string());
    assert_eq!(
        json[0]["origin"],
        "STRAP_PYTHON_VERSION environment variable"
    );
    // Errors stay errors: nothing on stdout, the message and exit code of the plain form.
    env.strap(&["which", "nosuch", "--json"])
        .assert()
        .code(127)
        .stdout("");
    env.write("work/.python-version", "3.9.1\n");
    env.strap(&["version", "--json"])
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::contains("version '3.9.1' is not installed"));
}

#[test]
fn uninstall_refuses_system_and_never_suggests_installing() {
    let env = TestEnv::new();
    env.fake_system("python3");
    let out = env.strap(&["uninstall", "system"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr_of(&out);
    assert!(
        err.starts_with("strap: error: 'system' is the Python found on PATH outside strap, not a version strap manages"),
        "{err}"
    );
    assert!(!err.contains("strap install"), "{err}");
    env.strap(&["uninstall", "-f", "system"]).assert().code(2);
    let out = env.strap(&["uninstall", "3.8.1"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr_of(&out);
    assert_eq!(
        err,
        "strap: error: version '3.8.1' is not installed\nhint: `strap versions --bare` lists the installed versions\n"
    );
    env.strap(&["uninstall", "-f", "3.8.1"])
        .assert()
        .success()
        .stderr("");
    env.strap(&["uninstall", "../x"]).assert().code(2);
}

#[test]
fn uninstall_without_a_terminal_removes_exact_names_only() {
    let env = TestEnv::new();
    let v = env.fake_version("3.11.2", &["python3"]);
    let out = env.strap(&["uninstall", "3.11"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr_of(&out),
        "strap: error: version '3.11' is not installed; it is a prefix of the installed 3.11.2\n\
         hint: without a terminal to confirm on, uninstall removes exact names only: `strap uninstall 3.11.2`\n"
    );
    assert!(v.exists());
    // -f: exact names only, and success; the near miss is reported.
    env.strap(&["uninstall", "-f", "3.11"])
        .assert()
        .success()
        .stderr(predicate::str::contains(
            "strap: warning: '3.11' is not installed, nothing removed for it (-f removes exact names only; installed: 3.11.2)",
        ));
    assert!(v.exists());
    // Every argument is checked before anything is removed.
    env.fake_version("3.11.9", &["python3"]);
    let out = env
        .strap(&["uninstall", "3.11.2", "3.11"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr_of(&out).contains("'3.11' matches several installed versions: 3.11.2, 3.11.9"),
        "{}",
        stderr_of(&out)
    );
    assert!(v.exists());
    env.strap(&["uninstall", "3.11.2"])
        .assert()
        .success()
        .stderr("strap: uninstalled 3.11.2\n");
    assert!(!v.exists());
}

/// `strap ARGS` in a pseudo-terminal (`script`), `typed` sent as keyboard input; returns the exit
/// code and what the terminal showed.
fn on_a_terminal(env: &TestEnv, args: &str, typed: &str) -> (Option<i32>, String) {
    let command = format!("{} {args}", crate::support::strap_bin().display());
    let child = std::process::Command::new("script")
        .args(["-qefc", &command, "/dev/null"])
        .env_clear()
        .envs(env.env_pairs())
        .env("TERM", "dumb")
        .current_dir(env.work())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (code, screen) = crate::support::type_into(child, typed.as_bytes());
    (code, screen.replace("\r\n", "\n"))
}

#[test]
fn uninstall_on_a_terminal_confirms_the_full_name_of_a_prefix() {
    let env = TestEnv::new();
    let v = env.fake_version("3.11.2", &["python3"]);
    let (code, screen) = on_a_terminal(&env, "uninstall 3.11", "n\n");
    assert_eq!(code, Some(1), "declined, like a declined recipe: {screen}");
    assert!(
        screen.contains(&format!(
            "strap: 3.11 is 3.11.2: remove {}? [y/N] ",
            v.display()
        )),
        "{screen:?}"
    );
    assert!(
        screen.contains("strap: error: cancelled; kept 3.11.2"),
        "{screen:?}"
    );
    assert!(v.exists());
    let (code, screen) = on_a_terminal(&env, "uninstall 3.11", "y\n");
    assert_eq!(code, Some(0), "{screen}");
    assert!(screen.contains("strap: uninstalled 3.11.2"), "{screen:?}");
    assert!(!v.exists());
    // An exact name: the question has no stray space before the `?`.
    let v = env.fake_version("3.12.7", &["python3"]);
    let (_, screen) = on_a_terminal(&env, "uninstall 3.12.7", "y\n");
    assert!(
        screen.contains(&format!("strap: remove {}? [y/N] ", v.display())),
        "{screen:?}"
    );
    assert!(!v.exists());
}

#[test]
fn uninstall_on_a_terminal_names_the_virtualenvs_that_go_with_a_version() {
    let env = TestEnv::new();
    let v = env.fake_version("3.11.2", &["python3"]);
    for name in ["u1", "u2"] {
        crate::support::fake_virtualenv(&env, "3.11.2", name);
    }
    let (code, screen) = on_a_terminal(&env, "uninstall 3.11.2", "n\n");
    assert_eq!(code, Some(1), "{screen}");
    assert!(
        screen.contains(&format!(
            "strap: remove {} and its virtualenvs u1, u2? [y/N] ",
            v.display()
        )) && screen.contains("strap: error: cancelled; kept 3.11.2\n"),
        "{screen:?}"
    );
    assert!(v.join("envs/u1").exists());
    let (code, screen) = on_a_terminal(&env, "uninstall u1", "y\n");
    assert_eq!(code, Some(0), "{screen}");
    assert!(
        screen.contains(&format!(
            "strap: remove the virtualenv u1 ({})? [y/N] ",
            v.join("envs/u1").display()
        )) && screen.contains("strap: removed virtualenv u1 ("),
        "{screen:?}"
    );
    assert!(!v.join("envs/u1").exists());
}

#[test]
fn uninstall_warns_about_selections_that_still_name_the_version() {
    let env = TestEnv::new();
    env.fake_version("3.11.1", &["python3"]);
    env.fake_version("3.11.2", &["python3"]);
    env.fake_version("3.12.7", &["python3"]);
    env.fake_version("2.7.18", &["python3"]);
    env.write("root/version", "3.12.7\n");
    env.write("work/.python-version", "3.11\n");
    env.write(".python-version", "2.7.18\n");
    let local = env.work().join(".python-version");
    let above = env.dir.path().join(".python-version");
    let global = env.root().join("version");

    let out = env
        .strap(&["uninstall", "-f", "3.11.2"])
        .env("STRAP_PYTHON_VERSION", "3.11.2")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert_eq!(
        stderr_of(&out),
        format!(
            "strap: uninstalled 3.11.2\n\
             strap: warning: STRAP_PYTHON_VERSION still names 3.11.2, which is no longer installed; `strap shell <version>` selects another, `strap shell --unset` drops it\n\
             strap: warning: {} selected 3.11.2 (as '3.11'); it now selects 3.11.1\n",
            local.display()
        )
    );
    env.strap(&["uninstall", "-f", "3.12.7", "2.7.18"])
        .assert()
        .success()
        .stderr(format!(
            "strap: uninstalled 3.12.7\n\
             strap: warning: {} still names 3.12.7, which is no longer installed; `strap global <version>` selects another\n\
             strap: uninstalled 2.7.18\n\
             strap: warning: {} still names 2.7.18, which is no longer installed; `strap local <version>` in {} selects another\n",
            global.display(),
            above.display(),
            env.dir.path().display()
        ));
    // On a terminal, the question says what selects it.
    let v = env.fake_version("3.11.9", &["python3"]);
    let (_, screen) = on_a_terminal(&env, "uninstall 3.11.9", "n\n");
    assert!(
        screen.contains(&format!(
            "strap: remove {} (selected by {})? [y/N] ",
            v.display(),
            local.display()
        )),
        "{screen:?}"
    );
    assert!(v.exists());
}

//! Virtualenvs as pyenv-virtualenv makes them: `versions/<python>/envs/<name>` plus a
//! `versions/<name>` link, selected and run through the shims, listed by `strap versions`, and
//! reported when their Python is uninstalled.

use std::fs;
use std::time::Duration;

use crate::support::{fake_virtualenv, linked_system_python, stderr_of, stdout_of, Setup, TestEnv};

/// A wheel of the pure-Python package `strapdemo` (module `strapdemo`, `answer() == 42`),
/// written into `dir` by the system Python's zipfile; returns its path.
fn demo_wheel(dir: &std::path::Path) -> std::path::PathBuf {
    fs::create_dir_all(dir).unwrap();
    let wheel = dir.join("strapdemo-1.0-py3-none-any.whl");
    let script = r#"
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w") as z:
    z.writestr("strapdemo.py", "def answer():\n    return 42\n")
    z.writestr("strapdemo-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: strapdemo\nVersion: 1.0\n")
    z.writestr("strapdemo-1.0.dist-info/WHEEL", "Wheel-Version: 1.0\nGenerator: strap-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
    z.writestr("strapdemo-1.0.dist-info/RECORD", "")
"#;
    let out = std::process::Command::new("/usr/bin/python3")
        .args(["-c", script])
        .arg(&wheel)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    wheel
}

#[test]
fn a_virtualenv_is_made_listed_selected_and_run_through_the_shims() {
    let s = Setup::new();
    s.install(&["a"], &[]).assert().success();
    let wheels = s.env.work().join("wheels");
    demo_wheel(&wheels);
    let requirements = s.env.write(
        "work/requirements.txt",
        &format!("--no-index\n--find-links {}\nstrapdemo\n", wheels.display()),
    );
    let out = s
        .env
        .strap(&["virtualenv", "3.99.1", "proj", "--requirements"])
        .arg(&requirements)
        .timeout(Duration::from_secs(180))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
    let env_dir = s.env.root().join("versions/3.99.1/envs/proj");
    let link = s.env.root().join("versions/proj");
    assert!(env_dir.join("bin/python").exists());
    assert_eq!(
        fs::read_link(&link).unwrap(),
        env_dir,
        "an absolute link, as pyenv-virtualenv makes"
    );

    let versions = s.env.strap(&["versions"]).output().unwrap();
    assert_eq!(
        stdout_of(&versions),
        format!(
            "* system (set by {})\n  3.99.1\n  3.99.1/envs/proj\n  proj --> {}\n",
            s.env.root().join("version").display(),
            env_dir.display()
        )
    );
    s.env
        .strap(&["versions", "--bare", "--skip-envs"])
        .assert()
        .success()
        .stdout("3.99.1\nproj\n");
    s.env
        .strap(&["virtualenvs", "--bare"])
        .assert()
        .success()
        .stdout("proj\n");

    s.env.strap(&["local", "proj"]).assert().success();
    let run = s
        .env
        .command(s.env.shims().join("python"))
        .args([
            "-c",
            "import sys, strapdemo; print(sys.prefix, strapdemo.answer())",
        ])
        .output()
        .unwrap();
    assert_eq!(
        stdout_of(&run),
        format!("{} 42\n", link.display()),
        "the shim runs versions/proj/bin/python, as pyenv's does: {}",
        stderr_of(&run)
    );
    s.env
        .strap(&["versions"])
        .assert()
        .success()
        .stdout(predicates::str::contains(format!(
            "* proj --> {} (set by ",
            env_dir.display()
        )));
}

#[test]
fn bad_requests_are_refused_and_leave_nothing() {
    let s = Setup::new();
    s.install(&["a"], &[]).assert().success();
    let envs = s.env.root().join("versions/3.99.1/envs");
    let cases: [(&[&str], i32, &str); 5] = [
        (&["3.99.1", "../x"], 2, "is not a virtualenv name"),
        (
            &["3.99.1", "3.99.1"],
            1,
            "'3.99.1' is already an installed version",
        ),
        (&["system", "proj"], 1, "not the system Python"),
        (&["3.42", "proj"], 1, "not installed"),
        (
            &["3.99.1", "proj", "-r", "missing.txt"],
            1,
            "missing.txt cannot be read",
        ),
    ];
    for (args, code, expected) in cases {
        let out = s.env.strap(&["virtualenv"]).args(args).output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(code),
            "{args:?}: {}",
            stderr_of(&out)
        );
        assert!(
            stderr_of(&out).contains(expected),
            "{args:?}: {}",
            stderr_of(&out)
        );
        assert!(!s.env.root().join("versions/proj").exists(), "{args:?}");
        assert!(
            fs::read_dir(&envs).map(|d| d.count()).unwrap_or(0) == 0,
            "{args:?} left an env"
        );
    }
}

#[test]
fn a_virtualenv_whose_python_is_gone_is_reported_and_deleted() {
    let env = TestEnv::new();
    env.fake_version("3.99.1", &["python3"]);
    fake_virtualenv(&env, "3.99.1", "proj");
    // Removed behind strap's back (pyenv without pyenv-virtualenv, `rm -rf`).
    fs::remove_dir_all(env.root().join("versions/3.99.1")).unwrap();
    let out = env.strap(&["versions", "--bare"]).output().unwrap();
    assert_eq!(stdout_of(&out), "");
    assert!(
        stderr_of(&out).contains("warning: proj points to")
            && stderr_of(&out).contains("its Python was uninstalled"),
        "{}",
        stderr_of(&out)
    );
    let out = env.strap(&["virtualenvs"]).output().unwrap();
    assert!(
        stderr_of(&out).contains("`strap virtualenv-delete proj` removes the link"),
        "{}",
        stderr_of(&out)
    );
    env.strap(&["virtualenv-delete", "proj"]).assert().success();
    assert!(!env.root().join("versions/proj").is_symlink());
    let out = env.strap(&["virtualenv-delete", "proj"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr_of(&out).contains("no virtualenv named 'proj'"));
    env.strap(&["virtualenv-delete", "-f", "proj"])
        .assert()
        .success();
}

#[test]
fn virtualenv_delete_removes_the_env_and_its_link() {
    let s = Setup::new();
    s.install(&["a"], &[]).assert().success();
    for name in ["one", "two"] {
        s.env
            .strap(&["virtualenv", "3.99.1", name])
            .timeout(Duration::from_secs(180))
            .assert()
            .success();
    }
    s.env
        .strap(&["virtualenv-delete", "-f", "3.99.1/envs/one"])
        .assert()
        .success();
    s.env
        .strap(&["virtualenv-delete", "-f", "two"])
        .assert()
        .success();
    let root = s.env.root();
    for gone in [
        "versions/one",
        "versions/two",
        "versions/3.99.1/envs/one",
        "versions/3.99.1/envs/two",
    ] {
        assert!(
            !root.join(gone).exists() && !root.join(gone).is_symlink(),
            "{gone}"
        );
    }
    assert!(root.join("versions/3.99.1/bin/python3").exists());
    let json = s.env.strap(&["virtualenvs", "--json"]).output().unwrap();
    let value: serde_json::Value = serde_json::from_str(&stdout_of(&json)).unwrap();
    assert_eq!(value["virtualenvs"], serde_json::json!([]));
}

/// `strap ARGS` started in the background, stderr piped.
fn spawn_strap(env: &TestEnv, args: &[&str]) -> std::process::Child {
    env.strap_process(&[])
        .args(args)
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// Asserts `versions/proj` links to `3.99.1/envs/proj`, whose Python runs as that virtualenv.
fn assert_working_proj(env: &TestEnv) {
    let dir = env.root().join("versions/3.99.1/envs/proj");
    assert_eq!(
        fs::read_link(env.root().join("versions/proj")).unwrap(),
        dir
    );
    let out = std::process::Command::new(dir.join("bin/python"))
        .args(["-c", "import sys; print(sys.prefix)"])
        .output()
        .unwrap();
    assert_eq!(stdout_of(&out), format!("{}\n", dir.display()));
}

#[test]
fn virtualenv_delete_removes_nothing_outside_versions() {
    let env = TestEnv::new();
    env.fake_version("3.99.1", &["python3"]);
    let outside = env.dir.path().join("x");
    fs::create_dir_all(&outside).unwrap();
    let dangling = outside.join("dl");
    std::os::unix::fs::symlink("/nonexistent/target", &dangling).unwrap();
    // A dangling link in versions/ that is no virtualenv's link is not strap's either.
    let foreign = env.root().join("versions/foreign");
    std::os::unix::fs::symlink("/nonexistent/target", &foreign).unwrap();
    let absolute = dangling.display().to_string();
    for name in [
        absolute.as_str(),
        "../../x/dl",
        "3.99.1/envs/../../../x/dl",
        "../envs/../../x/dl",
    ] {
        for force in [true, false] {
            let mut args = vec!["virtualenv-delete"];
            if force {
                args.push("-f");
            }
            args.push(name);
            let out = env.strap(&args).output().unwrap();
            assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr_of(&out));
            assert!(
                stderr_of(&out).contains("is not a virtualenv name"),
                "{args:?}: {}",
                stderr_of(&out)
            );
            assert!(
                dangling.is_symlink(),
                "{args:?} removed {}",
                dangling.display()
            );
        }
    }
    env.strap(&["virtualenv-delete", "-f", "foreign"])
        .assert()
        .success();
    env.strap(&["virtualenv-delete", "foreign"])
        .assert()
        .code(1);
    assert!(
        foreign.is_symlink(),
        "a link strap did not make was removed"
    );
    assert!(stderr_of(&env.strap(&["virtualenvs"]).output().unwrap()).is_empty());
}

#[test]
fn two_runs_at_once_make_one_virtualenv_and_both_succeed() {
    let env = TestEnv::new();
    linked_system_python(&env, "3.99.1");
    let runs: Vec<_> = (0..2)
        .map(|_| spawn_strap(&env, &["virtualenv", "3.99.1", "proj"]))
        .collect();
    let outputs: Vec<_> = runs
        .into_iter()
        .map(|run| run.wait_with_output().unwrap())
        .collect();
    for out in &outputs {
        assert!(out.status.success(), "{}", stderr_of(out));
    }
    let said: String = outputs.iter().map(stderr_of).collect();
    assert_eq!(
        said.matches("strap: created virtualenv proj").count(),
        1,
        "{said}"
    );
    assert!(
        said.contains("strap: virtualenv proj (from 3.99.1) is already in "),
        "{said}"
    );
    assert_working_proj(&env);
    // A third run changes nothing and says so.
    env.strap(&["virtualenv", "3.99.1", "proj"])
        .assert()
        .success()
        .stderr(predicates::str::contains("is already in"));
    assert_working_proj(&env);
    // Made from a virtualenv: from the version it was made from, as pyenv-virtualenv does.
    env.strap(&["virtualenv", "proj", "p2"])
        .timeout(Duration::from_secs(180))
        .assert()
        .success()
        .stderr(predicates::str::contains(
            "strap: created virtualenv p2 from 3.99.1 in ",
        ));
    assert_eq!(
        fs::read_link(env.root().join("versions/p2")).unwrap(),
        env.root().join("versions/3.99.1/envs/p2")
    );
}

#[test]
fn one_argument_while_a_virtualenv_is_selected_makes_it_beside_that_one() {
    let env = TestEnv::new();
    linked_system_python(&env, "3.99.1");
    let make = |args: &[&str]| {
        env.strap(args)
            .timeout(Duration::from_secs(180))
            .assert()
            .success()
    };
    make(&["virtualenv", "3.99.1", "tools"]);
    env.write("work/.python-version", "tools\n");
    // Made from the selected virtualenv's Python, next to it, never inside it.
    let n2 = env.root().join("versions/3.99.1/envs/n2");
    make(&["virtualenv", "n2"]).stderr(predicates::str::contains(format!(
        "strap: created virtualenv n2 from 3.99.1 in {}",
        n2.display()
    )));
    assert_eq!(fs::read_link(env.root().join("versions/n2")).unwrap(), n2);
    assert!(!env.root().join("versions/3.99.1/envs/tools/envs").exists());
    let out = std::process::Command::new(n2.join("bin/python"))
        .args(["-c", "import sys; print(sys.prefix)"])
        .output()
        .unwrap();
    assert_eq!(stdout_of(&out), format!("{}\n", n2.display()));
    env.strap(&["virtualenvs", "--bare"])
        .assert()
        .success()
        .stdout("n2\ntools\n");
    env.strap(&["virtualenv-delete", "-f", "n2"])
        .assert()
        .success()
        .stderr(predicates::str::contains("removed virtualenv n2"));
    assert!(!n2.exists());
    assert!(fs::symlink_metadata(env.root().join("versions/n2")).is_err());
    env.strap(&["virtualenvs", "--bare"])
        .assert()
        .success()
        .stdout("tools\n");
}

#[test]
fn two_bootstraps_at_once_converge_on_one_virtualenv() {
    let env = TestEnv::new();
    linked_system_python(&env, "3.99.1");
    env.write(
        "work/strap.toml",
        "[python]\nversions = [\"3.99.1\"]\n\n[[virtualenv]]\nname = \"proj\"\npython = \"3.99.1\"\n",
    );
    let runs: Vec<_> = (0..2).map(|_| spawn_strap(&env, &["bootstrap"])).collect();
    for run in runs {
        let out = run.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", stderr_of(&out));
    }
    assert_working_proj(&env);
}

#[test]
fn an_existing_virtualenv_directory_without_its_link_is_refused_and_kept() {
    let env = TestEnv::new();
    linked_system_python(&env, "3.99.1");
    let dir = env.root().join("versions/3.99.1/envs/proj");
    let notes = env.write("root/versions/3.99.1/envs/proj/notes.txt", "mine\n");
    let failing = env.write("work/requirements.txt", "--no-index\nno-such-package\n");
    for extra in [&[][..], &["-r", failing.to_str().unwrap()][..]] {
        let out = env
            .strap(&["virtualenv", "3.99.1", "proj"])
            .args(extra)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{extra:?}: {}", stderr_of(&out));
        assert_eq!(
            stderr_of(&out),
            format!(
                "strap: error: {} already exists, but {} does not link to it\n\
                 hint: strap does not reuse a directory it did not just make: pick another \
                 name, or remove it (strap virtualenv-delete 3.99.1/envs/proj)\n",
                dir.display(),
                env.root().join("versions/proj").display()
            )
        );
        assert_eq!(fs::read_to_string(&notes).unwrap(), "mine\n");
        assert!(!env.root().join("versions/proj").is_symlink());
    }
}

#[test]
fn a_failed_virtualenv_removes_only_what_it_made() {
    let env = TestEnv::new();
    linked_system_python(&env, "3.99.1");
    let failing = env.write("work/requirements.txt", "--no-index\nno-such-package\n");
    let out = env
        .strap(&["virtualenv", "3.99.1", "proj", "-r"])
        .arg(&failing)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("pip install --disable-pip-version-check -r"),
        "{}",
        stderr_of(&out)
    );
    let envs = env.root().join("versions/3.99.1/envs");
    assert_eq!(fs::read_dir(&envs).unwrap().count(), 0);
    assert!(!env.root().join("versions/proj").is_symlink());
}

#[test]
fn virtualenvs_are_made_only_in_directories_strap_owns() {
    let env = TestEnv::new();
    linked_system_python(&env, "3.99.1");
    // `envs` planted as a link to a directory outside the root.
    let outside = env.dir.path().join("outside");
    fs::create_dir_all(&outside).unwrap();
    std::os::unix::fs::symlink(&outside, env.root().join("versions/3.99.1/envs")).unwrap();
    let out = env
        .strap(&["virtualenv", "3.99.1", "proj"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("is a link or not a directory"),
        "{}",
        stderr_of(&out)
    );
    assert_eq!(fs::read_dir(&outside).unwrap().count(), 0);
    // A version that is a link (a Python installed elsewhere) is not written into.
    std::os::unix::fs::symlink(&outside, env.root().join("versions/elsewhere")).unwrap();
    let out = env
        .strap(&["virtualenv", "elsewhere", "proj"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("'elsewhere' is a link, not a version installed under versions/"),
        "{}",
        stderr_of(&out)
    );
    assert_eq!(fs::read_dir(&outside).unwrap().count(), 0);
}

#[test]
fn one_argument_naming_an_installed_version_hints_at_naming_the_virtualenv_too() {
    let env = TestEnv::new();
    env.fake_version("3.12.7", &["python3"]);
    let out = env.strap(&["virtualenv", "3.12.7"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr_of(&out),
        "strap: error: '3.12.7' is already an installed version\n\
         hint: with one argument, `strap virtualenv NAME` makes a virtualenv named NAME from the \
         selected version; to make one from 3.12.7, name it too: `strap virtualenv 3.12.7 NAME`\n"
    );
    // With two, the name is taken by a version: no virtualenv-delete for a version either.
    let out = env
        .strap(&["virtualenv", "3.12.7", "3.12.7"])
        .output()
        .unwrap();
    assert_eq!(
        stderr_of(&out),
        "strap: error: '3.12.7' is already an installed version\nhint: pick another name\n"
    );
}

#[test]
fn an_interrupted_virtualenv_leaves_nothing_and_exits_130() {
    let env = TestEnv::new();
    // A Python whose `venv` never ends.
    crate::support::write_script(&env.root().join("versions/3.99.1/bin/python3"), "sleep 600");
    let run = spawn_strap(&env, &["virtualenv", "3.99.1", "proj"]);
    let dir = env.root().join("versions/3.99.1/envs/proj");
    assert!(
        crate::support::wait_until(crate::support::PATIENCE, || dir.exists()),
        "strap never made {}",
        dir.display()
    );
    crate::support::signal(run.id(), libc::SIGTERM);
    let out = run.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", stderr_of(&out));
    assert!(!dir.exists(), "the half-made virtualenv was left behind");
    assert!(!env.root().join("versions/proj").is_symlink());
}

#[test]
fn uninstall_removes_a_virtualenv_with_its_link_and_a_version_with_its_virtualenvs() {
    let env = TestEnv::new();
    env.fake_version("3.11.2", &["python3"]);
    let versions = env.root().join("versions");
    let p1 = fake_virtualenv(&env, "3.11.2", "p1");
    let u2 = fake_virtualenv(&env, "3.11.2", "u2");
    // By its link's name: the directory goes too.
    env.strap(&["uninstall", "p1"])
        .assert()
        .success()
        .stderr(format!("strap: removed virtualenv p1 ({})\n", p1.display()));
    assert!(!p1.exists() && !versions.join("p1").is_symlink());
    // By the name `versions --bare` lists.
    let bare = stdout_of(&env.strap(&["versions", "--bare"]).output().unwrap());
    assert!(bare.lines().any(|l| l == "3.11.2/envs/u2"), "{bare}");
    env.strap(&["uninstall", "3.11.2/envs/u2"])
        .assert()
        .success()
        .stderr(format!(
            "strap: removed virtualenv 3.11.2/envs/u2 ({})\n",
            u2.display()
        ));
    assert!(!u2.exists() && !versions.join("u2").is_symlink());
    env.strap(&["uninstall", "-f", "3.11.2/envs/u2"])
        .assert()
        .success()
        .stderr("");
    env.strap(&["uninstall", "3.11.2/envs/u2"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains(
            "version '3.11.2/envs/u2' is not installed",
        ));
    env.strap(&["uninstall", "3.11.2/envs/../../x"])
        .assert()
        .code(2);
    // A version takes its virtualenvs' links along; another version's are kept.
    fake_virtualenv(&env, "3.11.2", "v3");
    env.fake_version("3.12.7", &["python3"]);
    let other = fake_virtualenv(&env, "3.12.7", "other");
    env.strap(&["uninstall", "3.11.2"]).assert().success();
    assert!(!versions.join("3.11.2").exists());
    assert!(
        !versions.join("v3").is_symlink(),
        "a dangling link was left"
    );
    assert_eq!(fs::read_link(versions.join("other")).unwrap(), other);
    let out = env.strap(&["versions", "--bare"]).output().unwrap();
    assert_eq!(stdout_of(&out), "3.12.7\n3.12.7/envs/other\nother\n");
    assert_eq!(stderr_of(&out), "");
}

#[test]
fn uninstall_names_the_virtualenvs_removed_with_a_version() {
    let env = TestEnv::new();
    env.fake_version("3.11.2", &["python3"]);
    env.fake_version("3.12.7", &["python3"]);
    let a = fake_virtualenv(&env, "3.11.2", "a");
    fake_virtualenv(&env, "3.11.2", "b");
    env.strap(&["uninstall", "-f", "3.11.2", "3.12.7"])
        .assert()
        .success()
        .stderr(
            "strap: uninstalled 3.11.2 and its virtualenvs a, b\n\
             strap: uninstalled 3.12.7\n",
        );
    assert!(!a.exists() && !env.root().join("versions/a").is_symlink());
}

#[test]
fn the_usage_line_says_python_is_optional_and_name_required() {
    let env = TestEnv::new();
    let usage = "Usage: strap virtualenv [OPTIONS] [PYTHON] <NAME>\n";
    let help = env.strap(&["virtualenv", "--help"]).assert().success();
    assert!(stdout_of(help.get_output()).contains(usage));
    env.strap(&["virtualenv"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("<NAME>"));
    env.strap(&["virtualenv", "3.11.2", "a", "b"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(usage));
    // One argument is the NAME, made from the selected version; two are PYTHON and NAME.
    env.fake_version("3.11.2", &["python3"]);
    env.strap(&["virtualenv", "3.11.2", "a"])
        .assert()
        .success()
        .stderr(predicates::str::contains(
            "created virtualenv a from 3.11.2",
        ));
    env.strap(&["virtualenv", "b"])
        .assert()
        .code(1)
        .stderr(predicates::str::contains(
            "virtualenvs are made from an installed version, not the system Python",
        ));
}

#[test]
fn hostile_locks_and_requirements_are_refused() {
    let env = TestEnv::new();
    linked_system_python(&env, "3.99.1");
    // A lock file planted as a link to a file outside: never truncated or written.
    let precious = env.write("precious.txt", "precious\n");
    let locks = env.root().join("locks");
    fs::create_dir_all(&locks).unwrap();
    std::os::unix::fs::symlink(&precious, locks.join("python-proj.lock")).unwrap();
    let out = env
        .strap(&["virtualenv", "3.99.1", "proj"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("cannot lock through the link"),
        "{}",
        stderr_of(&out)
    );
    assert_eq!(fs::read_to_string(&precious).unwrap(), "precious\n");
    // Requirements that are no regular file are not handed to pip (which would read for ever).
    let fifo = env.work().join("requirements.fifo");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    for file in [fifo.as_path(), std::path::Path::new("/dev/zero")] {
        let out = env
            .strap(&["virtualenv", "3.99.1", "other", "-r"])
            .arg(file)
            .timeout(Duration::from_secs(120))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
        assert!(
            stderr_of(&out).contains("not a regular file"),
            "{}",
            stderr_of(&out)
        );
    }
    assert!(!env.root().join("versions/3.99.1/envs/other").exists());
}

#[test]
fn a_run_waiting_for_the_lock_stops_on_a_signal() {
    let env = TestEnv::new();
    linked_system_python(&env, "3.99.1");
    let lock = env.root().join("locks/python-proj.lock");
    fs::create_dir_all(lock.parent().unwrap()).unwrap();
    // Another process holds the lock of versions/proj for a while.
    let mut holder = std::process::Command::new("flock")
        .arg(&lock)
        .args(["sleep", "60"])
        .spawn()
        .unwrap();
    let free = || {
        std::process::Command::new("flock")
            .arg("-n")
            .arg(&lock)
            .arg("true")
            .status()
            .unwrap()
            .success()
    };
    assert!(
        crate::support::wait_until(crate::support::PATIENCE, || !free()),
        "the holder never took the lock"
    );
    let mut run = spawn_strap(&env, &["virtualenv", "3.99.1", "proj"]);
    let mut err = std::io::BufReader::new(run.stderr.take().unwrap());
    let mut line = String::new();
    std::io::BufRead::read_line(&mut err, &mut line).unwrap();
    assert!(
        line.starts_with("strap: waiting for another strap process working on proj"),
        "{line}"
    );
    crate::support::signal(run.id(), libc::SIGINT);
    let status = run.wait().unwrap();
    let _ = holder.kill();
    let _ = holder.wait();
    assert_eq!(status.code(), Some(130));
    assert!(!env.root().join("versions/3.99.1/envs/proj").exists());
}

#[test]
fn a_selected_virtualenv_path_that_is_missing_is_not_installed_not_invalid() {
    let env = TestEnv::new();
    env.fake_version("3.12.7", &["python3"]);
    env.rehash();
    env.write("work/.python-version", "3.12.7/envs/foo\n");
    let shim = env.shims().join("python3");
    for mut cmd in [env.strap(&["version"]), env.command(&shim)] {
        let out = cmd.output().unwrap();
        let err = stderr_of(&out);
        assert!(!out.status.success(), "{err}");
        assert!(
            err.contains("version '3.12.7/envs/foo' is not installed"),
            "{err}"
        );
        assert!(
            err.contains("make the virtualenv with `strap virtualenv 3.12.7 foo`"),
            "{err}"
        );
    }
    // A name that leaves versions/ stays invalid.
    env.write("work/.python-version", "3.12.7/envs/../../../x\n");
    let out = env.strap(&["version"]).output().unwrap();
    assert!(
        stderr_of(&out).contains("invalid version name"),
        "{}",
        stderr_of(&out)
    );
}

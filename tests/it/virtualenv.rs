//! Virtualenvs as pyenv-virtualenv makes them: `versions/<python>/envs/<name>` plus a
//! `versions/<name>` link, selected and run through the shims, listed by `strap versions`, and
//! reported when their Python is uninstalled.

use std::fs;
use std::time::Duration;

use crate::install::Setup;
use crate::support::{stderr_of, stdout_of};

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
    let cases: [(&[&str], &str); 5] = [
        (&["3.99.1", "../x"], "is not a virtualenv name"),
        (
            &["3.99.1", "3.99.1"],
            "is already an installed version or virtualenv",
        ),
        (&["system", "proj"], "not the system Python"),
        (&["3.42", "proj"], "not installed"),
        (
            &["3.99.1", "proj", "-r", "missing.txt"],
            "missing.txt cannot be read",
        ),
    ];
    for (args, expected) in cases {
        let out = s.env.strap(&["virtualenv"]).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr_of(&out));
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
fn a_virtualenv_whose_python_is_uninstalled_is_reported_and_deleted() {
    let s = Setup::new();
    s.install(&["a"], &[]).assert().success();
    s.env
        .strap(&["virtualenv", "3.99.1", "proj"])
        .timeout(Duration::from_secs(180))
        .assert()
        .success();
    s.env
        .strap(&["uninstall", "-f", "3.99.1"])
        .assert()
        .success();
    let out = s.env.strap(&["versions", "--bare"]).output().unwrap();
    assert_eq!(stdout_of(&out), "");
    assert!(
        stderr_of(&out).contains("warning: proj points to")
            && stderr_of(&out).contains("its Python was uninstalled"),
        "{}",
        stderr_of(&out)
    );
    let out = s.env.strap(&["virtualenvs"]).output().unwrap();
    assert!(
        stderr_of(&out).contains("virtualenv-delete proj"),
        "{}",
        stderr_of(&out)
    );
    s.env
        .strap(&["virtualenv-delete", "proj"])
        .assert()
        .success();
    assert!(!s.env.root().join("versions/proj").is_symlink());
    let out = s
        .env
        .strap(&["virtualenv-delete", "proj"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr_of(&out).contains("no virtualenv named 'proj'"));
    s.env
        .strap(&["virtualenv-delete", "-f", "proj"])
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

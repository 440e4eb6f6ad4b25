//! Version selection and resolution: one case per rule of DESIGN.md "Version files and resolution".

use predicates::prelude::*;

use crate::support::{stderr_of, TestEnv};

fn env_with(versions: &[&str]) -> TestEnv {
    let env = TestEnv::new();
    for v in versions {
        env.fake_version(v, &["python3"]);
    }
    env
}

fn version_name(env: &TestEnv) -> String {
    let out = env.strap(&["version-name"]).output().unwrap();
    assert!(
        out.status.success(),
        "version-name failed: {}",
        stderr_of(&out)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[test]
fn env_var_beats_local_file_and_global() {
    let env = env_with(&["3.10.1", "3.11.9", "3.12.1"]);
    env.write("root/version", "3.10.1\n");
    env.write("work/.python-version", "3.11.9\n");
    env.strap(&["version"])
        .env("STRAP_PYTHON_VERSION", "3.12.1")
        .assert()
        .success()
        .stdout("3.12.1 (set by STRAP_PYTHON_VERSION environment variable)\n");
}

#[test]
fn nearest_local_file_walking_up_beats_global() {
    let env = env_with(&["3.10.1", "3.11.9", "3.12.1"]);
    env.write("root/version", "3.10.1\n");
    env.write(".python-version", "3.11.9\n"); // above work/
    let deep = env.work().join("a/b/c");
    std::fs::create_dir_all(&deep).unwrap();
    let origin = env.dir.path().join(".python-version");
    env.strap(&["version"])
        .current_dir(&deep)
        .assert()
        .success()
        .stdout(format!("3.11.9 (set by {})\n", origin.display()));
    // A nearer file wins over the farther one.
    env.write("work/a/.python-version", "3.12.1\n");
    env.strap(&["version-name"])
        .current_dir(&deep)
        .assert()
        .stdout("3.12.1\n");
}

#[test]
fn global_file_when_no_local_file() {
    let env = env_with(&["3.10.1", "3.11.9"]);
    env.write("root/version", "3.10.1\n");
    assert_eq!(version_name(&env), "3.10.1");
    env.strap(&["version-origin"])
        .assert()
        .stdout(format!("{}\n", env.root().join("version").display()));
}

#[test]
fn nothing_selected_means_system_found_outside_the_shims() {
    let env = env_with(&["3.11.9"]);
    env.rehash();
    env.fake_system("python3");
    assert_eq!(version_name(&env), "system");
    // The shims directory is first on PATH, yet `system` skips it.
    env.strap(&["which", "python3"])
        .assert()
        .success()
        .stdout(format!("{}\n", env.sysbin().join("python3").display()));
    env.command(env.shims().join("python3"))
        .arg("hi")
        .assert()
        .success()
        .stdout("system python3 hi\n");
}

#[test]
fn several_versions_each_command_from_the_first_that_has_it() {
    let env = TestEnv::new();
    env.fake_version("3.12.7", &["python3", "python3.12"]);
    env.fake_version("2.7.18", &["python2.7", "python2"]);
    env.rehash();
    env.strap(&["global", "3.12.7", "2.7.18"])
        .assert()
        .success();
    assert_eq!(
        std::fs::read_to_string(env.root().join("version")).unwrap(),
        "3.12.7\n2.7.18\n"
    );
    assert_eq!(version_name(&env), "3.12.7:2.7.18");
    env.command(env.shims().join("python3"))
        .assert()
        .stdout("3.12.7 python3 \n");
    env.command(env.shims().join("python2.7"))
        .assert()
        .stdout("2.7.18 python2.7 \n");
    // The order matters: with 2.7.18 first, python3 still comes from 3.12.7 (2.7.18 lacks it).
    env.strap(&["global", "2.7.18", "3.12.7"])
        .assert()
        .success();
    env.command(env.shims().join("python3"))
        .assert()
        .stdout("3.12.7 python3 \n");
}

#[test]
fn multiple_lines_in_a_local_file_select_several_versions() {
    let env = env_with(&["3.12.7", "3.11.9"]);
    env.write("work/.python-version", "3.12.7\n3.11.9\n");
    assert_eq!(version_name(&env), "3.12.7:3.11.9");
}

#[test]
fn prefix_resolves_to_newest_installed_at_component_boundary() {
    let env = env_with(&["3.11.2", "3.11.10", "3.11.9", "3.12.1"]);
    env.write("work/.python-version", "3.11\n");
    assert_eq!(version_name(&env), "3.11.10");
    env.strap(&["latest", "3.11"])
        .assert()
        .success()
        .stdout("3.11.10\n");
    env.strap(&["prefix", "3.11"]).assert().stdout(format!(
        "{}\n",
        env.root().join("versions/3.11.10").display()
    ));
}

#[test]
fn prefix_never_matches_across_a_component() {
    let env = env_with(&["3.12.1", "3.11.9"]);
    env.write("work/.python-version", "3.1\n");
    env.strap(&["version-name"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("version '3.1' is not installed"));
    env.strap(&["latest", "3.1"]).assert().code(1);
}

#[test]
fn prereleases_and_free_threaded_only_when_asked_for() {
    let env = env_with(&["3.13.0", "3.13.1t", "3.13.2rc1", "3.14.0a1"]);
    env.write("work/.python-version", "3.13\n");
    assert_eq!(version_name(&env), "3.13.0");
    env.write("work/.python-version", "3.13t\n");
    assert_eq!(version_name(&env), "3.13.1t");
    env.write("work/.python-version", "3.13.2rc\n");
    assert_eq!(version_name(&env), "3.13.2rc1");
    env.write("work/.python-version", "3\n");
    assert_eq!(version_name(&env), "3.13.0");
    env.write("work/.python-version", "3.14\n");
    env.strap(&["version-name"]).assert().code(1);
}

#[test]
fn exact_directory_wins_over_prefix_matching() {
    let env = env_with(&["3.11", "3.11.9"]);
    env.write("work/.python-version", "3.11\n");
    assert_eq!(version_name(&env), "3.11");
}

#[test]
fn version_file_first_word_comments_blank_lines_and_crlf() {
    let env = env_with(&["3.12.7", "2.7.18"]);
    env.write(
        "work/.python-version",
        "# project interpreter\r\n\r\n3.12.7 trailing words\r\n   \r\n#2.7.18\r\n2.7.18\r\n",
    );
    assert_eq!(version_name(&env), "3.12.7:2.7.18");
}

#[test]
fn empty_local_file_wins_and_selects_system() {
    // pyenv's rule: the nearest version file wins even when it names nothing.
    let env = env_with(&["3.12.7", "3.11.9"]);
    env.write("root/version", "3.11.9\n");
    env.write(".python-version", "3.12.7\n");
    env.write("work/.python-version", "\n# nothing here\n");
    assert_eq!(version_name(&env), "system");
    env.strap(&["version-origin"])
        .assert()
        .success()
        .stdout(format!(
            "{}\n",
            env.work().join(".python-version").display()
        ));
}

#[test]
fn names_escaping_versions_are_refused_naming_the_file() {
    let env = env_with(&["3.12.7"]);
    std::fs::create_dir_all(env.dir.path().join("outside/bin")).unwrap();
    let file = env.work().join(".python-version");
    for bad in [
        "..",
        "../outside",
        "../../outside",
        "/usr",
        "3.12.7/../../../outside",
    ] {
        env.write("work/.python-version", &format!("{bad}\n"));
        env.strap(&["version-name"])
            .assert()
            .code(1)
            .stderr(predicate::str::contains(format!(
                "invalid version name '{bad}'"
            )))
            .stderr(predicate::str::contains(file.display().to_string()));
    }
    // The same rule for the environment variable and the command line.
    env.strap(&["version-name"])
        .env("STRAP_PYTHON_VERSION", "../outside")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("STRAP_PYTHON_VERSION"));
    // On the command line it is a usage error.
    env.strap(&["global", "../outside"]).assert().code(2);
    assert!(!env.root().join("version").exists());
}

#[test]
fn names_with_slashes_inside_versions_are_allowed() {
    // pyenv-virtualenv's layout: versions/3.12.7/envs/tools
    let env = env_with(&["3.12.7"]);
    env.fake_version("3.12.7/envs/tools", &["python3"]);
    env.write("work/.python-version", "3.12.7/envs/tools\n");
    assert_eq!(version_name(&env), "3.12.7/envs/tools");
    env.strap(&["which", "python3"]).assert().stdout(format!(
        "{}\n",
        env.root()
            .join("versions/3.12.7/envs/tools/bin/python3")
            .display()
    ));
}

#[test]
fn missing_version_names_it_where_it_was_set_and_the_fix() {
    let env = env_with(&["3.12.7"]);
    env.fake_system("python3");
    env.rehash();
    env.write("work/.python-version", "3.9.1\n");
    let file = env.work().join(".python-version");
    let expected = format!(
        "version '3.9.1' is not installed (set by {})",
        file.display()
    );
    env.strap(&["version-name"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains(&expected))
        .stderr(predicate::str::contains("strap install 3.9.1"));
    // Through a shim: never silently the system interpreter.
    env.command(env.shims().join("python3"))
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::contains(&expected));
}

#[test]
fn binary_and_oversized_version_files_are_refused() {
    let env = env_with(&["3.12.7"]);
    std::fs::write(env.work().join(".python-version"), b"3.12\x00\xff\xfe").unwrap();
    env.strap(&["version-name"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("binary data"))
        .stderr(predicate::str::contains(".python-version"));
    std::fs::write(env.work().join(".python-version"), b"3.12\xff\n").unwrap();
    env.strap(&["version-name"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("UTF-8"));
    std::fs::write(
        env.work().join(".python-version"),
        "3.12.7\n".repeat(160_000),
    )
    .unwrap();
    env.strap(&["version-name"])
        .assert()
        .code(1)
        .stderr(predicate::str::contains("it is larger than 1 MiB"));
}

#[test]
fn version_file_that_is_a_directory_is_passed_over() {
    let env = env_with(&["3.12.7"]);
    env.write("root/version", "3.12.7\n");
    std::fs::create_dir_all(env.work().join(".python-version")).unwrap();
    assert_eq!(version_name(&env), "3.12.7");
}

#[test]
fn version_file_command_reports_local_or_global() {
    let env = env_with(&["3.12.7"]);
    env.strap(&["version-file"])
        .assert()
        .stdout(format!("{}\n", env.root().join("version").display()));
    env.write("work/.python-version", "3.12.7\n");
    let sub = env.work().join("sub");
    std::fs::create_dir_all(&sub).unwrap();
    env.strap(&["version-file", sub.to_str().unwrap()])
        .assert()
        .stdout(format!(
            "{}\n",
            env.work().join(".python-version").display()
        ));
}

#[test]
#[ignore = "runs strap as an unprivileged user: needs root and setpriv; .ci/run runs it"]
fn unreadable_directories_on_the_walk_up_are_passed_over() {
    use std::os::unix::fs::PermissionsExt;
    assert!(crate::support::can_drop_privileges());
    let env = env_with(&["3.12.7", "3.11.9"]);
    env.write("root/version", "3.12.7\n");
    env.write("work/locked/.python-version", "3.11.9\n");
    let inner = env.work().join("locked/inner");
    std::fs::create_dir_all(&inner).unwrap();
    for dir in [
        env.dir.path().to_path_buf(),
        env.root(),
        env.work(),
        inner.clone(),
    ] {
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    std::fs::set_permissions(
        env.work().join("locked"),
        std::fs::Permissions::from_mode(0o711),
    )
    .unwrap();
    std::fs::set_permissions(
        env.work().join("locked/.python-version"),
        std::fs::Permissions::from_mode(0o600),
    )
    .unwrap();
    // The file exists but cannot be read: an error naming it.
    let as_nobody = |dir: &std::path::Path| {
        let mut cmd = env.strap_as_nobody(&["version-name"]);
        cmd.current_dir(dir);
        cmd
    };
    as_nobody(&inner)
        .assert()
        .code(1)
        .stderr(predicate::str::contains("locked/.python-version"));
    // A directory that cannot be searched: its version file is invisible, the walk goes on.
    std::fs::set_permissions(
        env.work().join("locked"),
        std::fs::Permissions::from_mode(0o700),
    )
    .unwrap();
    as_nobody(&inner).assert().success().stdout("3.12.7\n");
}

#[test]
fn hints_suggest_installing_only_what_can_be_installed() {
    let env = env_with(&["3.12.7"]);
    let hint = |args: &[&str]| {
        let out = env.strap(args).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = stderr_of(&out);
        let hint = err
            .lines()
            .find(|l| l.starts_with("hint: "))
            .unwrap_or_default();
        hint.to_owned()
    };
    // Known to the catalog: install it.
    assert_eq!(
        hint(&["global", "3.11"]),
        "hint: install it with `strap install 3.11`, or select another version (`strap versions` lists them)"
    );
    assert_eq!(
        hint(&["local", "3.13.1t-debug"]),
        "hint: install it with `strap install -g 3.13.1t`, or select another version (`strap versions` lists them)"
    );
    // Unknown: the nearest known versions instead, never an install that cannot work.
    let h = hint(&["global", "9.9"]);
    assert!(
        h.starts_with("hint: 9.9 is not a CPython version strap knows, so it cannot be installed; nearest known: 3."),
        "{h}"
    );
    assert!(!h.contains("strap install 9.9"), "{h}");
    let h = hint(&["local", "3.99"]);
    assert!(
        h.starts_with("hint: 3.99 is not a CPython version strap knows, so it cannot be installed; nearest known: 3."),
        "{h}"
    );
    assert!(h.contains("(`strap install --list` shows them all)"), "{h}");
    assert_eq!(
        hint(&["prefix", "myproject"]),
        "hint: myproject is not a version strap can install (expected e.g. 3.12.7, 3.12, 3.13t \
         or a name `strap install --list` shows): if it names a virtualenv, make it with \
         `strap virtualenv PYTHON myproject`; `strap versions` lists the installed ones"
    );
    // Another family of python-build's catalog installs like CPython.
    assert_eq!(
        hint(&["prefix", "pypy3.10"]),
        "hint: install it with `strap install pypy3.10`, or select another version (`strap versions` lists them)"
    );
    assert_eq!(
        hint(&["sh-shell", "--shell", "bash", "3.12t"]),
        "hint: 3.12t cannot be installed: free-threaded builds exist from CPython 3.13 on; `strap versions` lists the installed ones"
    );
    // The same rule where a version file names it.
    env.write("work/.python-version", "9.9\n");
    let h = hint(&["version"]);
    assert!(
        h.contains("9.9 is not a CPython version strap knows"),
        "{h}"
    );
    // Nothing was written by the refused commands.
    env.strap(&["global"]).assert().stdout("system\n");
}

#[test]
fn latest_is_not_a_name_a_version_file_can_select_and_the_hint_says_so() {
    let env = env_with(&["3.12.7"]);
    let out = env.strap(&["global", "latest"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr_of(&out);
    assert!(
        err.contains("version files name versions, not `latest`"),
        "{err}"
    );
    assert!(
        !err.contains("install it with `strap install latest`"),
        "{err}"
    );
}

#[test]
fn strap_local_never_writes_through_a_link_planted_where_its_temporary_file_went() {
    let env = env_with(&["3.12.7"]);
    let victim = env.write("victim.txt", "precious\n");
    // strap used to write `.python-version.tmp<pid>` first: plant a link for every process id
    // the next few thousand processes may get.
    let next = std::process::Command::new("true").spawn().unwrap().id();
    for pid in next..next + 3000 {
        let link = env.work().join(format!(".python-version.tmp{pid}"));
        std::os::unix::fs::symlink(&victim, link).unwrap();
    }
    env.strap(&["local", "3.12.7"]).assert().success();
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    assert_eq!(
        std::fs::read_to_string(env.work().join(".python-version")).unwrap(),
        "3.12.7\n"
    );
    // A link in the version file's place is replaced by the file, not written through.
    let global = env.root().join("version");
    std::os::unix::fs::symlink(&victim, &global).unwrap();
    env.strap(&["global", "3.12.7"]).assert().success();
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    assert!(std::fs::symlink_metadata(&global).unwrap().is_file());
}

//! pyenv mode: strap started through a link named `pyenv`, on `PYENV_ROOT`, answering as pyenv.

use std::fs;
use std::path::PathBuf;

use assert_cmd::Command;
use predicates::prelude::*;

use crate::support::{stdout_of, strap_bin, write_script, Setup, TestEnv};

/// A machine where `pyenv` is a link to strap and `PYENV_ROOT` is the test root.
struct Pyenv {
    env: TestEnv,
}

impl Pyenv {
    fn new() -> Self {
        Pyenv::on(TestEnv::new())
    }

    /// `env` as a pyenv machine.
    fn on(env: TestEnv) -> Self {
        let bin = env.dir.path().join("pyenvbin");
        fs::create_dir_all(&bin).unwrap();
        std::os::unix::fs::symlink(strap_bin(), bin.join("pyenv")).unwrap();
        Pyenv { env }
    }

    /// Versions 3.11.2 (global) and 3.12.7, each with a `python` that names itself.
    fn with_two_versions() -> Self {
        let p = Pyenv::new();
        p.env.fake_version("3.11.2", &["python"]);
        p.env.fake_version("3.12.7", &["python"]);
        p.env.write("root/version", "3.11.2\n");
        p
    }

    fn bin(&self) -> PathBuf {
        self.env.dir.path().join("pyenvbin")
    }

    fn path_var(&self) -> String {
        format!(
            "{}:{}:{}:/usr/bin:/bin",
            self.env.shims().display(),
            self.bin().display(),
            self.env.sysbin().display()
        )
    }

    /// A program run in `work/` with pyenv's environment (no `STRAP_ROOT`).
    fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(program);
        cmd.env_clear()
            .env("HOME", self.env.home())
            .env("PYENV_ROOT", self.env.root())
            .env("PATH", self.path_var())
            .env("LANG", "C.UTF-8")
            .current_dir(self.env.work());
        cmd
    }

    /// `pyenv ARGS` through the link.
    fn pyenv(&self, args: &[&str]) -> Command {
        let mut cmd = self.command(self.bin().join("pyenv"));
        cmd.args(args);
        cmd
    }

    /// `bash -c SCRIPT` with pyenv's environment.
    fn bash(&self, script: &str) -> Command {
        let mut cmd = self.command("bash");
        cmd.args(["--norc", "-c", script]);
        cmd
    }

    fn root(&self) -> String {
        self.env.root().display().to_string()
    }
}

fn lines(text: &str) -> String {
    format!("{}\n", text.trim_start_matches('\n'))
}

#[test]
fn root_version_and_usage() {
    let p = Pyenv::new();
    p.pyenv(&["root"])
        .assert()
        .success()
        .stdout(lines(&p.root()));
    p.pyenv(&["root"])
        .env("PYENV_ROOT", format!("{}/", p.root()))
        .assert()
        .stdout(lines(&p.root()));
    p.pyenv(&["root"])
        .env_remove("PYENV_ROOT")
        .assert()
        .stdout(lines(&format!("{}/.pyenv", p.env.home().display())));
    p.pyenv(&["--version"]).assert().success().stdout(
        predicate::str::is_match(r"^pyenv \d+\.\d+\.\d+ \(strap \d+\.\d+\.\d+\)\n$").unwrap(),
    );
    p.pyenv(&[]).assert().code(1).stderr(
        predicate::str::starts_with("pyenv 2.")
            .and(predicate::str::contains("Usage: pyenv <command> [<args>]")),
    );
    p.pyenv(&["frobnicate"])
        .assert()
        .code(1)
        .stderr("pyenv: no such command `frobnicate'\n");
    p.pyenv(&["shell", "3.11"])
        .assert()
        .code(1)
        .stderr("pyenv: shell integration not enabled. Run `pyenv init' for instructions.\n");
    p.pyenv(&["help", "version-name"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with(
            "Usage: pyenv version-name [-f|--force]\n\n",
        ));
    p.pyenv(&["help", "--usage", "which"])
        .assert()
        .success()
        .stdout("Usage: pyenv which <command> [--nosystem] [--skip-advice]\n");
}

#[test]
fn environment_selects_as_pyenv() {
    let p = Pyenv::with_two_versions();
    p.pyenv(&["version"])
        .assert()
        .success()
        .stdout(lines(&format!("3.11.2 (set by {}/version)", p.root())));
    p.pyenv(&["version"])
        .env("PYENV_VERSION", "3.12")
        .assert()
        .success()
        .stdout("3.12.7 (set by PYENV_VERSION environment variable)\n");
    p.pyenv(&["version-origin"])
        .env("PYENV_VERSION", "3.12")
        .assert()
        .stdout("PYENV_VERSION environment variable\n");
    // PYENV_DIR: where the lookup starts; `local` ignores it.
    p.env.write("project/.python-version", "3.12.7\n");
    let project = p.env.dir.path().join("project");
    p.pyenv(&["version-name"])
        .env("PYENV_DIR", &project)
        .assert()
        .stdout("3.12.7\n");
    p.pyenv(&["local"])
        .env("PYENV_DIR", &project)
        .assert()
        .code(1)
        .stderr("pyenv: no local version configured for this directory\n");
    p.pyenv(&["version-name"])
        .env("PYENV_DIR", p.env.dir.path().join("missing"))
        .assert()
        .code(1)
        .stderr(format!(
            "pyenv: cannot change working directory to `{}'\n",
            p.env.dir.path().join("missing").display()
        ));
    // A shim in pyenv's root reads PYENV_VERSION.
    p.pyenv(&["rehash"])
        .assert()
        .success()
        .stdout("")
        .stderr("");
    p.command("python")
        .env("PYENV_VERSION", "3.12.7")
        .assert()
        .success()
        .stdout("3.12.7 python \n");
    p.command("python")
        .assert()
        .success()
        .stdout("3.11.2 python \n");
}

#[test]
fn errors_in_pyenvs_words_and_exit_codes() {
    let p = Pyenv::new();
    p.env.fake_version("3.4.1", &["py.test"]);
    p.env.fake_version("2.7.18", &["python"]);
    p.pyenv(&["global", "1.2.3"])
        .assert()
        .code(1)
        .stderr("pyenv: version `1.2.3' not installed\n");
    assert!(!p.env.root().join("version").exists());
    p.pyenv(&["which", "py.test"])
        .env("PYENV_VERSION", "2.7")
        .assert()
        .code(127)
        .stderr(
            "pyenv: py.test: command not found\n\nThe `py.test' command exists in these Python versions:\n  3.4.1\n\n\
             Note: See 'pyenv help global' for tips on allowing multiple\n      Python versions to be found at the same time.\n",
        );
    p.pyenv(&["which", "py.test", "--skip-advice"])
        .env("PYENV_VERSION", "2.7")
        .assert()
        .code(127)
        .stderr("pyenv: py.test: command not found\n");
    p.pyenv(&["version-name"])
        .env("PYENV_VERSION", "1.2:2.7.18")
        .assert()
        .code(1)
        .stdout("2.7.18\n")
        .stderr(
            "pyenv: version `1.2' is not installed (set by PYENV_VERSION environment variable)\n",
        );
    p.pyenv(&["version-name", "-f"])
        .env("PYENV_VERSION", "python-1.2")
        .assert()
        .success()
        .stdout("1.2\n");
}

#[test]
fn programs_run_through_pyenv_keep_the_selection() {
    // As `pyenv exec` does, the resolved selection is exported as PYENV_VERSION.
    let p = Pyenv::new();
    let version = p.env.fake_version("3.12.7", &["python"]);
    write_script(&version.join("bin/showver"), "echo \"[$PYENV_VERSION]\"");
    p.env.write("work/.python-version", "python-3.12\n");
    p.pyenv(&["exec", "showver"])
        .assert()
        .success()
        .stdout("[3.12.7]\n");
    p.pyenv(&["rehash"]).assert().success();
    p.command("showver").assert().success().stdout("[3.12.7]\n");
}

#[test]
fn a_missing_pinned_version_is_never_replaced_by_the_system() {
    let p = Pyenv::new();
    p.env.fake_system("python");
    p.env.fake_version("3.12.7", &["python"]);
    p.env.write("work/.python-version", "3.9.1\n3.12.7\n");
    p.pyenv(&["rehash"]).assert().success();
    let expected = format!(
        "pyenv: version `3.9.1' is not installed (set by {}/.python-version)\npyenv: python: command not found\n",
        p.env.work().display()
    );
    let advice = "\nThe `python' command exists in these Python versions:\n  3.12.7\n\n\
                  Note: See 'pyenv help global' for tips on allowing multiple\n      Python versions to be found at the same time.\n";
    p.pyenv(&["which", "python", "--skip-advice"])
        .assert()
        .code(127)
        .stdout("")
        .stderr(expected.clone());
    for mut cmd in [p.pyenv(&["exec", "python"]), p.command("python")] {
        cmd.assert()
            .code(127)
            .stdout("")
            .stderr(format!("{expected}{advice}"));
    }
    // strap's own mode keeps its wording.
    p.env
        .strap(&["which", "python"])
        .env("STRAP_ROOT", p.env.root())
        .assert()
        .code(1)
        .stderr(predicate::str::contains("version '3.9.1' is not installed"));
}

#[test]
fn a_broken_selected_version_is_never_replaced_by_the_system() {
    let p = Pyenv::new();
    p.env.fake_system("python");
    p.env.fake_version("3.12.7", &["python"]);
    p.env.write("work/.python-version", "3.12.7\n");
    p.pyenv(&["rehash"]).assert().success();
    let python = p.env.root().join("versions/3.12.7/bin/python");
    let origin = format!("{}/.python-version", p.env.work().display());
    // A dangling link: 127; a file without an execute bit: 126. In pyenv's words, from `which`,
    // `exec` and the shim alike.
    fs::remove_file(&python).unwrap();
    std::os::unix::fs::symlink("/nonexistent/python3.12", &python).unwrap();
    let dangling = format!(
        "pyenv: version `3.12.7' is broken (set by {origin}): {} is a link to \
         /nonexistent/python3.12, which does not exist\n\
         pyenv: reinstall it with `pyenv install --force 3.12.7'\n",
        python.display()
    );
    for mut cmd in [
        p.pyenv(&["which", "python"]),
        p.pyenv(&["exec", "python"]),
        p.command("python"),
    ] {
        cmd.assert().code(127).stdout("").stderr(dangling.clone());
    }
    fs::remove_file(&python).unwrap();
    fs::write(&python, "#!/bin/sh\necho never\n").unwrap();
    fs::set_permissions(&python, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    for mut cmd in [
        p.pyenv(&["which", "python"]),
        p.pyenv(&["exec", "python"]),
        p.command("python"),
    ] {
        cmd.assert()
            .code(126)
            .stdout("")
            .stderr(predicate::str::contains(format!(
                "{} is not executable (mode 644)",
                python.display()
            )));
    }
}

#[test]
fn commands_completions_and_version_files() {
    let p = Pyenv::new();
    p.env.fake_version("3.11.2", &["python", "fab"]);
    p.pyenv(&["commands", "--sh"])
        .assert()
        .stdout("rehash\nshell\n");
    let all = stdout_of(&p.pyenv(&["commands"]).output().unwrap());
    for name in [
        "exec",
        "init",
        "latest",
        "shell",
        "version-file-write",
        "which",
        "--version",
    ] {
        assert!(all.lines().any(|l| l == name), "{name} missing from: {all}");
    }
    assert!(
        !stdout_of(&p.pyenv(&["commands", "--no-sh"]).output().unwrap())
            .lines()
            .any(|l| l == "shell")
    );
    p.pyenv(&["completions", "global"])
        .assert()
        .success()
        .stdout("--help\nsystem\n3.11.2\n");
    // A plugin on PATH: run with pyenv's environment, documented by its comment block.
    write_script(
        &p.bin().join("pyenv-hello"),
        "# Summary: Says hello\n# Usage: pyenv hello <who>\n\n# Provide pyenv completions\n\
         [ \"$1\" = --complete ] && { echo world; exit; }\necho \"hello $1 from $PYENV_ROOT\"",
    );
    p.pyenv(&["hello", "you"])
        .assert()
        .success()
        .stdout(lines(&format!("hello you from {}", p.root())));
    p.pyenv(&["help", "hello"])
        .assert()
        .stdout("Usage: pyenv hello <who>\n\nSays hello\n\n");
    p.pyenv(&["completions", "hello"])
        .assert()
        .stdout("--help\nworld\n");
    p.pyenv(&["sh-rehash"])
        .env("PYENV_SHELL", "bash")
        .assert()
        .stdout("command pyenv rehash\nhash -r 2>/dev/null || true\n");
    p.pyenv(&["sh-rehash"])
        .env("PYENV_SHELL", "fish")
        .assert()
        .stdout("command pyenv rehash\n");

    let file = p
        .env
        .write("work/my-version", "\n  3.11.2 extra\r\n# 2.7\n../*\n3.12\n");
    p.pyenv(&["version-file-read", file.to_str().unwrap()])
        .assert()
        .success()
        .stdout("3.11.2:3.12\n")
        .stderr(format!(
            "pyenv: invalid version `../*' ignored in `{}'\n",
            file.display()
        ));
    p.env.write("work/blank", "\n");
    p.pyenv(&["version-file-read", "blank"])
        .assert()
        .code(1)
        .stdout("");
    p.pyenv(&["version-file-write", "out", "2.7.6"])
        .assert()
        .code(1)
        .stderr("pyenv: version `2.7.6' not installed\n");
    p.pyenv(&["version-file-write", "-f", "out", "2.7.6", "3.11.2"])
        .assert()
        .success();
    assert_eq!(
        fs::read_to_string(p.env.work().join("out")).unwrap(),
        "2.7.6\n3.11.2\n"
    );
    p.pyenv(&["version-file-write"])
        .assert()
        .code(1)
        .stderr("Usage: pyenv version-file-write [-f|--force] <file> <version> [...]\n");
    // `local -f` writes a version that is not installed; `local` reads it back.
    p.pyenv(&["local", "-f", "3.13.0"])
        .assert()
        .success()
        .stdout("");
    p.pyenv(&["local"]).assert().success().stdout("3.13.0\n");
    p.pyenv(&["local", "--unset"]).assert().success();
    assert!(!p.env.work().join(".python-version").exists());
    // version-file DIR with no file: exit 1, no output; without DIR: the global file.
    p.pyenv(&["version-file", p.env.work().to_str().unwrap()])
        .assert()
        .code(1)
        .stdout("")
        .stderr("");
    p.pyenv(&["version-file"])
        .assert()
        .success()
        .stdout(lines(&format!("{}/version", p.root())));
    p.pyenv(&["version", "--bare"])
        .env("PYENV_VERSION", "3.11")
        .assert()
        .stdout("3.11.2\n");
    p.pyenv(&["version", "--frob"])
        .assert()
        .code(1)
        .stderr("Usage: pyenv version [--bare]\n");
}

#[test]
fn latest_prefix_and_versions() {
    let p = Pyenv::new();
    p.env.fake_version("3.12.6", &["python3.12"]);
    p.env.fake_version("3.12.10", &["python3.12"]);
    p.env.fake_version("3.13.0rc1", &["python"]);
    p.env.fake_version("foo", &["foo"]);
    p.env.fake_version("foo.bar", &["foo"]);
    p.env.fake_version("3.12.10/envs/proj", &["projtool"]);
    std::os::unix::fs::symlink(
        p.env.root().join("versions/3.12.10/envs/proj"),
        p.env.root().join("versions/proj"),
    )
    .unwrap();
    std::os::unix::fs::symlink("3.12.6", p.env.root().join("versions/3.12")).unwrap();
    p.pyenv(&["latest", "3.12"]).assert().stdout("3.12\n");
    p.pyenv(&["latest", "3"]).assert().stdout("3.12.10\n");
    p.pyenv(&["latest", "foo"]).assert().stdout("foo\n");
    p.pyenv(&["latest", "3.8"])
        .assert()
        .code(1)
        .stderr("pyenv: no installed versions match the prefix `3.8'\n");
    p.pyenv(&["latest", "-b", "3.8"])
        .assert()
        .code(1)
        .stdout("3.8\n")
        .stderr("");
    p.pyenv(&["latest", "-f", "3.8"])
        .assert()
        .success()
        .stdout("3.8\n");
    let known = stdout_of(
        &p.env
            .strap(&["install", "--list", "--bare", "3.11"])
            .output()
            .unwrap(),
    );
    let newest_311 = known
        .lines()
        .rfind(|v| !v.contains(['a', 'b', 'r', 't']))
        .unwrap()
        .to_owned();
    p.pyenv(&["latest", "-k", "3.11"])
        .assert()
        .success()
        .stdout(lines(&newest_311));
    p.pyenv(&["latest", "--known", "9.9"])
        .assert()
        .code(1)
        .stderr("pyenv: no known versions match the prefix `9.9'\n");
    let list = stdout_of(&p.pyenv(&["install", "--list"]).output().unwrap());
    assert!(list.starts_with("Available versions:\n  "), "{list}");
    assert!(list.lines().any(|l| l == "  3.11.2"), "{list}");

    // python- prefix and prefix resolution.
    p.pyenv(&["prefix", "python-3.12.6"])
        .assert()
        .stdout(lines(&format!("{}/versions/3.12.6", p.root())));
    p.env.write("work/.python-version", "python-3.12\n");
    p.pyenv(&["version-name"]).assert().stdout("3.12\n");
    // `prefix system`: python, else python3, else python2.
    let sys = p.env.dir.path().join("sys");
    write_script(&sys.join("bin/python2"), "");
    write_script(&sys.join("sbin/python3"), "");
    let path = |dirs: &[&str]| {
        let mut path = p.bin().display().to_string();
        for dir in dirs {
            path.push_str(&format!(":{}/{dir}", sys.display()));
        }
        path
    };
    p.pyenv(&["prefix", "system"])
        .env("PATH", path(&["bin", "sbin"]))
        .assert()
        .stdout(lines(&sys.display().to_string()));
    write_script(&sys.join("other/python"), "");
    p.pyenv(&["prefix", "system"])
        .env("PATH", path(&["bin", "sbin", "other"]))
        .assert()
        .stdout(lines(&format!("{}/other", sys.display())));
    p.pyenv(&["prefix", "system"])
        .env("PATH", format!("{}:{}", p.bin().display(), "/nonexistent"))
        .assert()
        .code(1)
        .stderr("pyenv: system version not found in PATH\n");

    let root = p.root();
    p.pyenv(&["versions"]).assert().success().stdout(format!(
        "  system\n* 3.12 --> 3.12.6 (set by {work}/.python-version)\n  3.12.6\n  3.12.10\n  3.12.10/envs/proj\n  3.13.0rc1\n  foo\n  foo.bar\n  proj --> {root}/versions/3.12.10/envs/proj\n",
        work = p.env.work().display()
    ));
    p.pyenv(&["versions", "--bare", "--skip-aliases", "--skip-envs"])
        .assert()
        .stdout("3.12.6\n3.12.10\n3.13.0rc1\nfoo\nfoo.bar\n");
    p.pyenv(&["versions", "--executables"])
        .assert()
        .stdout("foo\nprojtool\npython\npython3.12\n");
    p.pyenv(&["versions", "--bogus"]).assert().code(1);
}

#[test]
fn init_code_for_dotfiles() {
    let p = Pyenv::new();
    p.env.fake_version("3.11.2", &["python"]);
    p.env.fake_version("3.12.7", &["python"]);
    let code = stdout_of(&p.pyenv(&["init", "-", "bash"]).output().unwrap());
    assert!(code.contains("export PYENV_SHELL=bash\n"), "{code}");
    assert!(code.contains("pyenv() {\n"), "{code}");
    assert!(code.contains("command pyenv rehash\n"), "{code}");
    assert!(p.env.shims().is_dir() && p.env.root().join("versions").is_dir());
    p.pyenv(&["init", "-", "--no-rehash", "zsh"])
        .assert()
        .stdout(predicate::str::contains("pyenv rehash").not());
    p.pyenv(&["init", "--path"]).assert().stdout(
        predicate::str::contains("shell")
            .not()
            .and(predicate::str::contains("command pyenv rehash")),
    );
    p.pyenv(&["init", "--detect-shell", "zsh"]).assert().stdout(
        "PYENV_SHELL_DETECT=zsh\nPYENV_PROFILE_DETECT=~/.zprofile\nPYENV_RC_DETECT=~/.zshrc\n",
    );
    p.pyenv(&["init", "fish"])
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::contains("pyenv init - fish | source"));
    // In bash: the function runs `pyenv shell`, and `pyenv shell -` goes back.
    p.bash(
        "set -e; eval \"$(pyenv init -)\"; [ \"$PYENV_SHELL\" = bash ]; pyenv shell 3.11.2; python; \
         pyenv shell 3.12.7; python; pyenv shell -; python; pyenv shell --unset; echo \"[$PYENV_VERSION]\"; \
         echo \"${PATH%%:*}\"",
    )
    .assert()
    .success()
    .stdout(format!(
        "3.11.2 python \n3.12.7 python \n3.11.2 python \n[]\n{}\n",
        p.env.shims().display()
    ));
    // Completion of the `pyenv` function, from `pyenv commands` and `pyenv completions`.
    p.bash(
        "eval \"$(pyenv init - bash)\"; COMP_WORDS=(pyenv glo); COMP_CWORD=1; _pyenv; echo \"${COMPREPLY[*]}\"; \
         COMP_WORDS=(pyenv global ''); COMP_CWORD=2; _pyenv; echo \"${COMPREPLY[*]}\"; complete -p pyenv",
    )
    .assert()
    .success()
    .stdout("global\n--help system 3.11.2 3.12.7\ncomplete -F _pyenv pyenv\n");
    // A /bin/sh script gets sh code, which its shell runs.
    let script = p.env.write(
        "work/script.sh",
        "#!/bin/sh\neval \"$(pyenv init -)\"\necho \"$PYENV_SHELL\"\npyenv shell 3.12.7\npython\n",
    );
    fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    p.command(&script)
        .assert()
        .success()
        .stdout("sh\n3.12.7 python \n");
}

#[test]
fn pip_installs_through_shims_and_exec_rehash() {
    let p = Pyenv::new();
    let version = p.env.fake_version("3.12.7", &["python"]);
    // A `pip` that installs a console script for `install`, and only lists otherwise.
    write_script(
        &version.join("bin/pip"),
        &format!(
            "if [ \"$1\" = install ]; then printf '#!/bin/sh\\necho tool\\n' > {bin}/$2; chmod +x {bin}/$2; fi\n\
             if [ \"$1\" = uninstall ]; then rm {bin}/$2; fi",
            bin = version.join("bin").display()
        ),
    );
    write_script(
        &version.join("bin/python"),
        &format!("shift 2; exec {}/bin/pip \"$@\"", version.display()),
    );
    p.env.write("root/version", "3.12.7\n");
    p.pyenv(&["rehash"]).assert().success();
    p.command("pip")
        .args(["install", "cowsay"])
        .assert()
        .success();
    assert!(
        p.env.shims().join("cowsay").exists(),
        "no shim after pip install through the shim"
    );
    p.pyenv(&["exec", "python", "-m", "pip", "install", "httpie"])
        .assert()
        .success();
    assert!(
        p.env.shims().join("httpie").exists(),
        "no shim after `pyenv exec python -m pip install`"
    );
    p.command("pip")
        .args(["uninstall", "cowsay"])
        .assert()
        .success();
    assert!(
        !p.env.shims().join("cowsay").exists(),
        "stale shim after pip uninstall"
    );
    // strap's own mode does the same; `pip list` does not rehash.
    fs::write(version.join("bin/untracked"), "#!/bin/sh\n").unwrap();
    fs::set_permissions(
        version.join("bin/untracked"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let strap_mode = |args: &[&str]| {
        let mut cmd = p.env.command(p.env.shims().join("pip"));
        cmd.args(args);
        cmd
    };
    strap_mode(&["list"]).assert().success();
    assert!(!p.env.shims().join("untracked").exists());
    strap_mode(&["install", "black"]).assert().success();
    assert!(p.env.shims().join("black").exists() && p.env.shims().join("untracked").exists());
}

#[test]
fn strap_mode_follows_the_same_rules() {
    let env = TestEnv::new();
    env.fake_version("3.12.7", &["python"]);
    env.fake_version("foo", &["python"]);
    env.fake_version("foo.bar", &["python"]);
    env.strap(&["rehash"])
        .assert()
        .success()
        .stdout("")
        .stderr("");
    env.strap(&["latest", "foo"])
        .assert()
        .success()
        .stdout("foo\n");
    env.write("root/version", "3.12.7\n");
    env.write("work/.python-version", "");
    env.strap(&["version-name"])
        .assert()
        .success()
        .stdout("system\n");
    env.write("work/.python-version", "python-3.12.7\n");
    env.strap(&["version-name"])
        .assert()
        .success()
        .stdout("3.12.7\n");
}

#[test]
fn strap_init_pyenv_links_pyenv_to_strap() {
    let env = TestEnv::new();
    let pyenv_root = env.home().join(".pyenv");
    env.strap(&["init", "--pyenv", "bash"])
        .assert()
        .success()
        .stdout(predicate::str::contains("eval \"$(pyenv init - bash)\""));
    let link = pyenv_root.join("bin/pyenv");
    assert_eq!(fs::read_link(&link).unwrap(), strap_bin());
    env.strap(&["init", "--pyenv"]).assert().success();
    let mut cmd = env.command(&link);
    cmd.env_remove("STRAP_ROOT").arg("root");
    cmd.assert()
        .success()
        .stdout(lines(&pyenv_root.display().to_string()));
    // A real pyenv there is left alone.
    fs::remove_file(&link).unwrap();
    fs::write(&link, "#!/bin/sh\n").unwrap();
    env.strap(&["init", "--pyenv"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is not strap"));
    assert_eq!(fs::read_to_string(&link).unwrap(), "#!/bin/sh\n");
}

#[test]
#[ignore = "needs zsh; .ci/run installs it and runs the ignored tests"]
fn init_code_in_zsh() {
    let p = Pyenv::with_two_versions();
    let mut zsh = p.command("zsh");
    zsh.args([
        "-fc",
        "eval \"$(pyenv init -)\"; echo $PYENV_SHELL; python; pyenv shell 3.12.7; python; pyenv shell -; python",
    ]);
    zsh.assert()
        .success()
        .stdout("zsh\n3.11.2 python \n3.12.7 python \n3.11.2 python \n");
}

#[test]
#[ignore = "needs fish; .ci/run installs it and runs the ignored tests"]
fn init_code_in_fish() {
    let p = Pyenv::with_two_versions();
    let mut fish = p.command("fish");
    fish.args([
        "--no-config",
        "-c",
        "pyenv init - | source; echo $PYENV_SHELL; pyenv shell 3.12.7; python; pyenv shell -; python; \
         complete -C 'pyenv glo'",
    ]);
    fish.assert()
        .success()
        .stdout("fish\n3.12.7 python \n3.11.2 python \nglobal\n");
}

#[test]
fn strap_on_pyenvs_root_follows_pyenvs_variables() {
    // STRAP_ROOT naming pyenv's root: strap, pyenv and the shims agree on the selection.
    let env = TestEnv::new();
    env.fake_version("3.11.2", &["python"]);
    env.fake_version("3.12.7", &["python"]);
    env.write("root/version", "3.11.2\n");
    let on_pyenv_root = |mut cmd: Command| {
        cmd.env("PYENV_ROOT", env.root());
        cmd
    };
    on_pyenv_root(env.strap(&["rehash"])).assert().success();
    on_pyenv_root(env.strap(&["version"]))
        .env("PYENV_VERSION", "3.12.7")
        .assert()
        .success()
        .stdout("3.12.7 (set by PYENV_VERSION environment variable)\n");
    on_pyenv_root(env.command(env.shims().join("python")))
        .env("PYENV_VERSION", "3.12.7")
        .assert()
        .stdout("3.12.7 python \n");
    // `strap shell` still works there: STRAP_PYTHON_VERSION when PYENV_VERSION is not set.
    on_pyenv_root(env.command(env.shims().join("python")))
        .env("STRAP_PYTHON_VERSION", "3.12.7")
        .assert()
        .stdout("3.12.7 python \n");
    on_pyenv_root(env.strap(&["sh-shell", "--shell", "bash", "3.12.7"]))
        .assert()
        .success()
        .stdout(predicate::str::contains("PYENV_VERSION"));
    // PYENV_ROOT spelled through a link is the same root.
    let link = env.dir.path().join("rootlink");
    std::os::unix::fs::symlink(env.root(), &link).unwrap();
    env.command(env.shims().join("python"))
        .env("PYENV_ROOT", &link)
        .env("PYENV_VERSION", "3.12.7")
        .assert()
        .stdout("3.12.7 python \n");
    // Elsewhere PYENV_VERSION means nothing to strap.
    env.strap(&["version-name"])
        .env("PYENV_VERSION", "3.12.7")
        .assert()
        .stdout("3.11.2\n");
}

#[test]
fn an_interrupted_pip_install_ends_like_the_install() {
    // While strap waits for a package install, Ctrl-C is the install's to handle: strap
    // survives a SIGINT, the install does not ignore it.
    let env = TestEnv::new();
    let version = env.fake_version("3.12.7", &["python"]);
    write_script(
        &version.join("bin/pip"),
        &format!(
            "kill -INT $PPID; sleep 0.2; printf '#!/bin/sh\\n' > {bin}/added; chmod +x {bin}/added\n\
             [ \"$2\" = self ] && kill -INT $$; echo finished",
            bin = version.join("bin").display()
        ),
    );
    env.write("root/version", "3.12.7\n");
    env.rehash();
    let pip = || {
        let mut pip = std::process::Command::new(env.shims().join("pip"));
        pip.env_clear()
            .envs(env.env_pairs())
            .current_dir(env.work());
        assert_cmd::Command::from_std(crate::support::with_default_sigint(pip))
    };
    pip()
        .args(["install", "x"])
        .assert()
        .success()
        .stdout("finished\n");
    assert!(
        env.shims().join("added").exists(),
        "no rehash after the install"
    );
    pip()
        .args(["install", "self"])
        .assert()
        .code(130)
        .stdout("");
}

#[test]
fn plugins_run_with_pyenvs_commands_and_hooks() {
    // A plugin as pyenv-virtualenv is built: it calls pyenv's commands as `pyenv-<command>`
    // executables and lists its hooks with `pyenv-hooks`.
    let p = Pyenv::new();
    p.env.fake_version("3.12.7", &["python"]);
    p.env.write("work/.python-version", "3.12\n");
    let plugin = p.env.root().join("plugins/pyenv-greet");
    write_script(
        &plugin.join("bin/pyenv-greet"),
        "# Summary: Greets the selected version\n\
         echo \"$(pyenv-version-name) at $(pyenv-prefix) from $PYENV_DIR\"\n\
         for hook in $(pyenv-hooks greet); do . \"$hook\"; done",
    );
    write_script(&plugin.join("etc/pyenv.d/greet/wave.bash"), "echo wave");
    p.pyenv(&["greet"]).assert().success().stdout(format!(
        "3.12.7 at {}/versions/3.12.7 from {}\nwave\n",
        p.root(),
        p.env.work().display()
    ));
    p.pyenv(&["hooks", "greet"])
        .assert()
        .success()
        .stdout(lines(
            &plugin
                .join("etc/pyenv.d/greet/wave.bash")
                .display()
                .to_string(),
        ));
    p.pyenv(&["hooks"])
        .assert()
        .code(1)
        .stderr("Usage: pyenv hooks <command>\n");
    assert!(stdout_of(&p.pyenv(&["commands"]).output().unwrap())
        .lines()
        .any(|l| l == "greet"));
    p.pyenv(&["help"]).assert().stdout(predicate::str::contains(
        "   greet       Greets the selected version\n",
    ));
    // A plugin that provides `virtualenvs` (pyenv-virtualenv) keeps it.
    write_script(
        &plugin.join("bin/pyenv-virtualenvs"),
        "echo from the plugin",
    );
    p.pyenv(&["virtualenvs"])
        .assert()
        .success()
        .stdout("from the plugin\n");
}

#[test]
fn edge_cases_answered_as_pyenv_answers_them() {
    let p = Pyenv::new();
    p.env.fake_version("3.11.2", &["python", "fab"]);
    p.env.fake_version("3.12.7", &["python"]);
    p.env.fake_version("3.12.7/envs/venv1", &["envtool"]);
    p.env.write("root/version", "3.11.2\n");
    // An empty argument shows instead of writing.
    p.pyenv(&["global", ""])
        .assert()
        .success()
        .stdout("3.11.2\n");
    assert_eq!(
        fs::read_to_string(p.env.root().join("version")).unwrap(),
        "3.11.2\n"
    );
    // Names that would leave versions/ are ignored with pyenv's warning; `a:b` is two names.
    let file = p
        .env
        .write("work/.python-version", "../../etc\n3.12.7:3.11.2\n");
    p.pyenv(&["version-name"])
        .assert()
        .success()
        .stdout("3.12.7:3.11.2\n")
        .stderr(format!(
            "pyenv: invalid version `../../etc' ignored in `{}'\n",
            file.display()
        ));
    // The nearest file wins even when empty (`system`); `local` then fails.
    p.env.write("work/.python-version", "");
    p.pyenv(&["version"])
        .assert()
        .success()
        .stdout(lines(&format!(
            "system (set by {}/.python-version)",
            p.env.work().display()
        )));
    p.pyenv(&["local"]).assert().code(1).stdout("");
    // A relative PYENV_DIR names files absolutely.
    p.env.write("work/sub/.python-version", "3.12.7\n");
    p.pyenv(&["version"])
        .env("PYENV_DIR", "sub")
        .assert()
        .stdout(lines(&format!(
            "3.12.7 (set by {}/sub/.python-version)",
            p.env.work().display()
        )));
    // which --nosystem, whence (virtualenvs included), shims --short, install -L.
    p.env.write("work/.python-version", "3.11.2\n");
    p.env.fake_system("fab2");
    p.pyenv(&["which", "fab2", "--nosystem"])
        .assert()
        .code(127)
        .stderr("pyenv: fab2: command not found\n");
    p.pyenv(&["which", "fab2"]).assert().success();
    p.pyenv(&["whence", "envtool"])
        .assert()
        .success()
        .stdout("3.12.7/envs/venv1\n");
    p.pyenv(&["whence", "--path", "fab"])
        .assert()
        .stdout(lines(&format!("{}/versions/3.11.2/bin/fab", p.root())));
    p.pyenv(&["whence", "nothing"]).assert().code(1).stdout("");
    p.pyenv(&["rehash"]).assert().success();
    let short = stdout_of(&p.pyenv(&["shims", "--short"]).output().unwrap());
    assert!(
        short.lines().any(|l| l == "envtool") && short.lines().any(|l| l == "fab"),
        "{short}"
    );
    assert!(stdout_of(&p.pyenv(&["install", "-L"]).output().unwrap())
        .starts_with("Available versions:\n"));
    // sh-shell for fish, directly; `shell -` and --unset in bash's words.
    p.pyenv(&["sh-shell", "3.12.7"])
        .env("PYENV_SHELL", "fish")
        .assert()
        .stdout("set -gu PYENV_VERSION_OLD \"$PYENV_VERSION\"\nset -gx PYENV_VERSION \"3.12.7\"\n");
    p.pyenv(&["sh-shell", "9.9"])
        .assert()
        .code(1)
        .stdout("false\n")
        .stderr("pyenv: version `9.9' not installed\n");
    p.pyenv(&["sh-shell", "--unset"])
        .env("PYENV_SHELL", "bash")
        .assert()
        .stdout("PYENV_VERSION_OLD=\"${PYENV_VERSION-}\"\nunset PYENV_VERSION\n");
    // --no-push-path adds the shims only when they are missing.
    let path = format!("{}:/usr/bin:/bin", p.bin().display());
    p.bash("eval \"$(pyenv init - --no-push-path)\"; echo \"$PATH\"")
        .env("PATH", &path)
        .assert()
        .stdout(lines(&format!("{}:{path}", p.env.shims().display())));
    let with_shims = format!("{}:{}", path, p.env.shims().display());
    p.bash("eval \"$(pyenv init - --no-push-path)\"; echo \"$PATH\"")
        .env("PATH", &with_shims)
        .assert()
        .stdout(lines(&with_shims));
    // Without --no-push-path the shims move to the front.
    p.bash("eval \"$(pyenv init -)\"; echo \"$PATH\"")
        .env("PATH", &with_shims)
        .assert()
        .stdout(lines(&format!("{}:{path}", p.env.shims().display())));
}

#[test]
fn strap_names_a_missing_pin_on_pyenvs_root_and_repairs_its_pyenv_link() {
    let env = TestEnv::new();
    env.fake_version("3.12.7", &["python"]);
    env.write("work/.python-version", "3.9.1\n3.12.7\n");
    env.strap(&["which", "python"])
        .env("PYENV_ROOT", env.root())
        .assert()
        .code(1)
        .stderr(predicate::str::starts_with(
            "strap: error: version '3.9.1' is not installed (set by ",
        ));
    // A link `strap init --pyenv` made to a strap that has moved is replaced.
    let link = env.home().join(".pyenv/bin/pyenv");
    fs::create_dir_all(link.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink("/nonexistent/strap", &link).unwrap();
    env.strap(&["init", "--pyenv"]).assert().success();
    assert_eq!(fs::read_link(&link).unwrap(), strap_bin());
}

impl Pyenv {
    /// `pyenv ARGS` in a pseudo-terminal (`script`), `typed` sent as keyboard input; returns the
    /// exit code and what the terminal showed.
    fn on_a_terminal(&self, args: &str, typed: &str) -> (Option<i32>, String) {
        let command = format!("{} {args}", self.bin().join("pyenv").display());
        let child = std::process::Command::new("script")
            .args(["-qefc", &command, "/dev/null"])
            .env_clear()
            .env("HOME", self.env.home())
            .env("PYENV_ROOT", self.env.root())
            .env("PATH", self.path_var())
            .env("LANG", "C.UTF-8")
            .env("TERM", "dumb")
            .current_dir(self.env.work())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let (code, screen) = crate::support::type_into(child, typed.as_bytes());
        (code, screen.replace("\r\n", "\n"))
    }
}

#[test]
fn uninstall_names_what_selects_the_version_by_pyenvs_rules() {
    let p = Pyenv::with_two_versions();
    // PYENV_DIR's version file selects 3.12.7 (pyenv looks there, not in the current directory).
    let project = p.env.dir.path().join("project");
    p.env.write("project/.python-version", "3.12.7\n");
    // pyenv splits PYENV_VERSION at `:` only: `3.11.2 x` names no installed version.
    p.pyenv(&["uninstall", "-f", "3.12.7"])
        .env("PYENV_DIR", &project)
        .env("PYENV_VERSION", "3.11.2 x:3.12.7")
        .assert()
        .success()
        .stderr(format!(
            "pyenv: 3.12.7 uninstalled\n\
             pyenv: warning: PYENV_VERSION still names 3.12.7, which is no longer installed; \
             `pyenv shell <version>` selects another, `pyenv shell --unset` drops it\n\
             pyenv: warning: {}/.python-version still names 3.12.7, which is no longer \
             installed; `pyenv local <version>` in {} selects another\n",
            project.display(),
            project.display()
        ));
    p.pyenv(&["uninstall", "-f", "3.11.2"])
        .env("PYENV_VERSION", "3.11.2 x")
        .assert()
        .success()
        .stderr(format!(
            "pyenv: 3.11.2 uninstalled\n\
             pyenv: warning: {}/version still names 3.11.2, which is no longer installed; \
             `pyenv global <version>` selects another\n",
            p.root()
        ));
}

#[test]
fn uninstall_reads_pyenvs_answer_from_stdin() {
    let p = Pyenv::with_two_versions();
    let v = p.env.root().join("versions/3.12.7");
    // No, no answer at all, or garbage: exit 1, nothing said (no terminal, no question shown),
    // nothing removed.
    for answer in ["n\n", "", "\0\0\0\0"] {
        p.pyenv(&["uninstall", "3.12.7"])
            .write_stdin(answer)
            .assert()
            .code(1)
            .stdout("")
            .stderr("");
        assert!(v.exists(), "{answer:?}");
    }
    // An endless answer is read only so far.
    p.bash("pyenv uninstall 3.12.7 < /dev/zero")
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .code(1);
    assert!(v.exists());
    p.pyenv(&["uninstall", "3.12.7"])
        .write_stdin("y\n")
        .assert()
        .success()
        .stderr("pyenv: 3.12.7 uninstalled\n");
    assert!(!v.exists());
    // pyenv's message for a name that is not installed; no prefix is resolved; -f asks nothing.
    p.pyenv(&["uninstall", "3.9"])
        .assert()
        .code(1)
        .stderr("pyenv: version `3.9' not installed\n");
    p.pyenv(&["uninstall", "3.11"])
        .write_stdin("y\n")
        .assert()
        .code(1)
        .stderr("pyenv: version `3.11' not installed\n");
    p.pyenv(&["uninstall", "-f", "3.9"])
        .assert()
        .success()
        .stderr("");
    // The first "no" ends the command, as in pyenv.
    let old = p.env.fake_version("3.10.1", &["python"]);
    p.pyenv(&["uninstall", "3.10.1", "3.11.2"])
        .write_stdin("n\ny\n")
        .assert()
        .code(1);
    assert!(old.exists() && p.env.root().join("versions/3.11.2").exists());
    // What selected it is named in pyenv's words.
    p.pyenv(&["uninstall", "-f", "3.11.2"])
        .assert()
        .success()
        .stderr(format!(
            "pyenv: 3.11.2 uninstalled\n\
             pyenv: warning: {}/version still names 3.11.2, which is no longer installed; \
             `pyenv global <version>` selects another\n",
            p.root()
        ));
    // Arguments it does not take: its usage, on stderr, exit 1.
    p.pyenv(&["uninstall"])
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::starts_with(
            "Usage: pyenv uninstall [-f|--force] <version> ...\n",
        ));
    // On a terminal, pyenv's question.
    let (code, screen) = p.on_a_terminal("uninstall 3.10.1", "n\n");
    assert_eq!(code, Some(1), "{screen}");
    assert!(
        screen.contains(&format!("pyenv: remove {}? (y/N) ", old.display())),
        "{screen:?}"
    );
    assert!(old.exists());
}

#[test]
fn virtualenvs_in_pyenvs_words() {
    let p = Pyenv::new();
    crate::support::linked_system_python(&p.env, "3.12.7");
    p.pyenv(&["virtualenv", "3.12.7", "proj"])
        .timeout(std::time::Duration::from_secs(180))
        .assert()
        .success()
        .stderr(format!(
            "pyenv: created virtualenv proj from 3.12.7 in {}/versions/3.12.7/envs/proj \
             (select it with: pyenv local proj)\n",
            p.root()
        ));
    p.pyenv(&["virtualenv", "3.12.7"])
        .assert()
        .code(1)
        .stderr("pyenv: '3.12.7' is already an installed version\n");
    p.pyenv(&["virtualenv"])
        .assert()
        .code(1)
        .stderr(predicate::str::starts_with("Usage: pyenv virtualenv "));
    // uninstall takes the virtualenv's directory along with its link, after pyenv's question.
    let dir = p.env.root().join("versions/3.12.7/envs/proj");
    p.pyenv(&["uninstall", "proj"])
        .write_stdin("n\n")
        .assert()
        .code(1);
    assert!(dir.exists());
    p.pyenv(&["uninstall", "proj"])
        .write_stdin("y\n")
        .assert()
        .success()
        .stderr(format!(
            "pyenv: removed virtualenv proj ({})\n",
            dir.display()
        ));
    assert!(!dir.exists() && !p.env.root().join("versions/proj").is_symlink());
    // virtualenv-delete asks on stdin too, and reaches nothing outside versions/.
    let other = crate::support::fake_virtualenv(&p.env, "3.12.7", "other");
    p.pyenv(&["virtualenv-delete", "other"])
        .write_stdin("")
        .assert()
        .code(1)
        .stderr("");
    assert!(other.exists());
    p.pyenv(&["virtualenv-delete", "3.12.7/envs/other"])
        .write_stdin("y\n")
        .assert()
        .success();
    assert!(!other.exists() && !p.env.root().join("versions/other").is_symlink());
    let dangling = p.env.dir.path().join("dl");
    std::os::unix::fs::symlink("/nonexistent", &dangling).unwrap();
    for name in [dangling.display().to_string(), "../../dl".to_owned()] {
        p.pyenv(&["virtualenv-delete", "-f", &name])
            .assert()
            .code(2)
            .stderr(format!(
                "pyenv: '{name}' is not a virtualenv name: use letters, digits, '.', '_' and \
                 '-', not starting with '.' or '-'\n"
            ));
        assert!(dangling.is_symlink());
    }
}

/// An error that tells its own exit code keeps it in pyenv mode too: a malformed catalog is a
/// usage error (2) for `pyenv install --list` as for `pyenv install 3.12` (the list lost it).
#[test]
fn a_malformed_catalog_is_a_usage_error_for_install_list_too() {
    let p = Pyenv::new();
    p.env.write("catalog.txt", "garbage line\n");
    let catalog = p.env.dir.path().join("catalog.txt");
    let message = format!(
        "pyenv: {}:1: 'line' is not a family (one of cpython, pypy, graalpy, graalpython, \
         pyston, activepython, anaconda, miniconda, miniforge, mambaforge, stackless, nogil, \
         cinder, micropython, jython, ironpython); a line is NAME FAMILY FIELD...\n",
        catalog.display()
    );
    for args in [&["install", "--list"][..], &["install", "3.12"]] {
        p.pyenv(args)
            .env("STRAP_PYTHON_CATALOG", &catalog)
            .assert()
            .code(2)
            .stderr(message.clone());
    }
}

#[test]
fn install_takes_pyenvs_latest_syntax() {
    // `PREFIX:latest` is the newest known release of the prefix, in pyenv mode and strap's.
    let s = Setup::new();
    let catalog = s.env.write(
        "catalog.txt",
        &format!("3.99.1 Python-3.99.1.tgz:{}\n", s.sha),
    );
    let mirror = s.mirror.template("a");
    let p = Pyenv::on(s.env);
    p.pyenv(&[
        "install",
        "--skip-preflight",
        "--mirror",
        &mirror,
        "3.99:latest",
    ])
    .env("STRAP_PYTHON_CATALOG", &catalog)
    .timeout(std::time::Duration::from_secs(60))
    .assert()
    .success();
    assert!(p.env.root().join("versions/3.99.1/bin/python3").exists());
    p.env
        .strap(&["install", "3.99:latest"])
        .env("STRAP_PYTHON_CATALOG", &catalog)
        .assert()
        .success()
        .stderr(predicate::str::contains("3.99.1 is already installed"));
}

#[test]
fn install_and_uninstall_answer_in_pyenvs_words() {
    let p = Pyenv::new();
    // An unknown version: python-build's and pyenv-install's lines, exit 2, nothing installed.
    p.pyenv(&["install", "3.99.1"]).assert().code(2).stderr(
        "python-build: definition not found: 3.99.1\n\n\
         See all available versions with `pyenv install --list'.\n\n\
         If the version you need is missing, try upgrading pyenv.\n",
    );
    // The known names that contain it are offered.
    let catalog = p.env.write(
        "catalog.txt",
        &format!("3.98.1 Python-3.98.1.tgz:{}\n", "0".repeat(64)),
    );
    p.pyenv(&["install", "98.1"])
        .env("STRAP_PYTHON_CATALOG", &catalog)
        .assert()
        .code(2)
        .stderr(
            "python-build: definition not found: 98.1\n\n\
             The following versions contain `98.1' in the name:\n  3.98.1\n\n\
             See all available versions with `pyenv install --list'.\n\n\
             If the version you need is missing, try upgrading pyenv.\n",
        );
    assert!(!p.env.root().join("versions").join("3.99.1").exists());
    // Nothing given and nothing selected: the usage, exit 1.
    p.pyenv(&["install"])
        .assert()
        .code(1)
        .stdout("")
        .stderr(predicate::str::starts_with(
            "Usage: pyenv install [-f] [-kvp] <version>...\n",
        ));
    p.pyenv(&["install", "--version"])
        .assert()
        .success()
        .stdout(
            predicate::str::is_match(r"^python-build 2\.6\.30 \(strap \d+\.\d+\.\d+\)\n$").unwrap(),
        );
    p.pyenv(&["uninstall"]).assert().code(1).stdout("").stderr(
        "Usage: pyenv uninstall [-f|--force] <version> ...\n\n   \
         -f  Attempt to remove the specified version without prompting\n       \
         for confirmation. If the version does not exist, do not\n       \
         display an error message.\n\n\
         See `pyenv versions` for a complete list of installed versions.\n\n",
    );
}

#[test]
fn help_shows_the_plugins_own_words_for_a_command_it_answers() {
    let p = Pyenv::new();
    p.pyenv(&["help", "virtualenv"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with(
            "Usage: pyenv virtualenv [-r FILE]",
        ));
    write_script(
        &p.env
            .root()
            .join("plugins/pyenv-virtualenv/bin/pyenv-virtualenv"),
        "#\n# Summary: Create a Python virtualenv using the pyenv-virtualenv plugin\n#\n\
         # Usage: pyenv virtualenv [-f|--force] [version] <virtualenv-name>\n#\n\
         #   -f/--force       Install even if the version appears to be installed already\n\
         echo plugin",
    );
    let plugin_help = "Usage: pyenv virtualenv [-f|--force] [version] <virtualenv-name>\n\n  \
                       -f/--force       Install even if the version appears to be installed already\n\n";
    p.pyenv(&["help", "virtualenv"])
        .assert()
        .success()
        .stdout(plugin_help);
    p.pyenv(&["virtualenv", "--help"])
        .assert()
        .success()
        .stdout(plugin_help);
}

#[test]
#[ignore = "needs a real pyenv 2.6.30: .ci/run names its root in STRAP_TEST_PYENV_ROOT (run with --ignored)"]
fn install_and_uninstall_words_match_a_real_pyenv() {
    let real = PathBuf::from(
        std::env::var_os("STRAP_TEST_PYENV_ROOT")
            .expect("STRAP_TEST_PYENV_ROOT names a pyenv 2.6.30 root (see .ci/run)"),
    );
    let real_pyenv = real.join("libexec/pyenv");
    let version = std::process::Command::new(&real_pyenv)
        .arg("--version")
        .output()
        .unwrap();
    assert_eq!(stdout_of(&version), "pyenv 2.6.30\n", "{}", real.display());
    let p = Pyenv::new();
    let plugin = real.join("plugins/pyenv-virtualenv/bin/pyenv-virtualenv");
    if plugin.is_file() {
        let copy = p.env.root().join("plugins/pyenv-virtualenv/bin");
        fs::create_dir_all(&copy).unwrap();
        fs::copy(&plugin, copy.join("pyenv-virtualenv")).unwrap();
    }
    let both = |args: &[&str]| {
        let ours = p.pyenv(args).output().unwrap();
        let theirs = p.command(&real_pyenv).args(args).output().unwrap();
        (ours, theirs)
    };
    // The same lines up to the advice on upgrading (git's or brew's command there).
    let (ours, theirs) = both(&["install", "3.99.1"]);
    assert_eq!(
        (ours.status.code(), theirs.status.code()),
        (Some(2), Some(2))
    );
    let until_advice = |out: &std::process::Output| {
        let text = crate::support::stderr_of(out);
        text[..text.find("If the version").unwrap()].to_owned()
    };
    assert_eq!(until_advice(&ours), until_advice(&theirs));
    let (ours, theirs) = both(&["uninstall"]);
    assert_eq!(ours.status.code(), theirs.status.code());
    assert_eq!(ours.stderr, theirs.stderr);
    let (ours, theirs) = both(&["install", "--version"]);
    assert!(stdout_of(&ours).starts_with(stdout_of(&theirs).trim_end()));
    if plugin.is_file() {
        let (ours, theirs) = both(&["help", "virtualenv"]);
        assert_eq!(stdout_of(&ours), stdout_of(&theirs));
    }
}

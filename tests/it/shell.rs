//! Shell integration, tested by running the real shells with the code `strap init` emits.

use crate::support::{stderr_of, stdout_of, strap_bin, TestEnv};

/// The shell's path; missing shells fail when `STRAP_TEST_REQUIRE_SHELLS` is set (as in CI),
/// and are skipped with a message otherwise.
fn shell_or_skip(name: &str) -> Option<String> {
    for dir in ["/usr/bin", "/bin", "/usr/local/bin"] {
        let path = format!("{dir}/{name}");
        if std::path::Path::new(&path).exists() {
            return Some(path);
        }
    }
    assert!(
        std::env::var_os("STRAP_TEST_REQUIRE_SHELLS").is_none(),
        "{name} is required (STRAP_TEST_REQUIRE_SHELLS is set) but not installed"
    );
    eprintln!("skipping: {name} is not installed");
    None
}

fn setup() -> TestEnv {
    let env = TestEnv::new();
    env.fake_version("3.12.7", &["python3"]);
    env.fake_version("3.11.9", &["python3"]);
    env.write("root/version", "3.12.7\n");
    env.rehash();
    env
}

/// Runs `script` in `shell` with strap's directory (not the shims) on PATH.
fn run(env: &TestEnv, shell: &str, args: &[&str], script: &str) -> String {
    let path = format!("{}:/usr/bin:/bin", strap_bin().parent().unwrap().display());
    let out = env
        .command(shell)
        .args(args)
        .arg(script)
        .env("PATH", path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{shell} failed:\n{}\n{}",
        stdout_of(&out),
        stderr_of(&out)
    );
    stdout_of(&out)
}

fn check_output(env: &TestEnv, out: &str) {
    let lines: Vec<&str> = out.lines().collect();
    let shims = env.shims().display().to_string();
    assert_eq!(lines[0], "shims-once-and-first", "PATH check: {out}");
    assert_eq!(lines[1], "3.12.7 python3 ", "{out}");
    assert_eq!(lines[2], "3.11.9", "{out}");
    assert_eq!(lines[3], "3.11.9 python3 ", "{out}");
    assert_eq!(lines[4], "3.12.7", "{out}");
    assert_eq!(lines[5], "completion-loaded", "{out}");
    assert!(!out.contains(&format!("{shims}:{shims}")));
}

/// The same checks in bash and zsh: init evaluated twice, PATH, `strap shell`, completions.
fn posix_script(env: &TestEnv, before: &str, shell: &str, completion_check: &str) -> String {
    let shims = env.shims().display().to_string();
    format!(
        r#"set -e
{before}
eval "$(strap init {shell})"
eval "$(strap init {shell})"
case "$PATH" in "{shims}:"*) ;; *) echo "shims not first: $PATH"; exit 1;; esac
n=$(printf '%s' "$PATH" | tr ':' '\n' | grep -cx '{shims}')
[ "$n" = 1 ] && echo shims-once-and-first
python3
strap shell 3.11
strap version-name
python3
strap shell --unset
strap version-name
{completion_check} && echo completion-loaded
"#
    )
}

#[test]
fn bash_integration() {
    let Some(bash) = shell_or_skip("bash") else {
        return;
    };
    let env = setup();
    let script = posix_script(&env, "", "bash", "complete -p strap >/dev/null");
    let out = run(&env, &bash, &["--norc", "--noprofile", "-c"], &script);
    check_output(&env, &out);
}

#[test]
fn zsh_integration() {
    let Some(zsh) = shell_or_skip("zsh") else {
        return;
    };
    let env = setup();
    let script = posix_script(
        &env,
        "autoload -Uz compinit && compinit -u -D",
        "zsh",
        "(( $+functions[_strap] )) && [[ \"$_comps[strap]\" == _strap ]]",
    );
    let out = run(&env, &zsh, &["-f", "-c"], &script);
    check_output(&env, &out);
}

#[test]
fn fish_integration() {
    let Some(fish) = shell_or_skip("fish") else {
        return;
    };
    let env = setup();
    let shims = env.shims().display().to_string();
    let script = format!(
        r#"strap init fish | source
strap init fish | source
if test "$PATH[1]" = '{shims}'; and test (count (string match -- '{shims}' $PATH)) = 1
    echo shims-once-and-first
end
python3
strap shell 3.11
strap version-name
python3
strap shell --unset
strap version-name
if complete -C 'strap version-n' | string match -q 'version-name*'
    echo completion-loaded
end
"#
    );
    let out = run(&env, &fish, &["--no-config", "-c"], &script);
    check_output(&env, &out);
}

//! Shell integration, tested by running the real shells with the code `strap init` emits.

use crate::support::{stderr_of, stdout_of, strap_bin, TestEnv};

/// The shell's path. The tests of shells a machine may lack (zsh, fish) are `#[ignore]`d, and
/// `.ci/run` installs the shells and runs them: a missing shell fails, it never passes silently.
fn shell(name: &str) -> String {
    ["/usr/bin", "/bin", "/usr/local/bin"]
        .iter()
        .map(|dir| format!("{dir}/{name}"))
        .find(|path| std::path::Path::new(path).exists())
        .unwrap_or_else(|| panic!("{name} is not installed (`apt-get install {name}`)"))
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
    let bash = shell("bash");
    let env = setup();
    let script = posix_script(&env, "", "bash", "complete -p strap >/dev/null");
    let out = run(&env, &bash, &["--norc", "--noprofile", "-c"], &script);
    check_output(&env, &out);
}

#[test]
#[ignore = "needs zsh; .ci/run installs it and runs the ignored tests"]
fn zsh_integration() {
    let zsh = shell("zsh");
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
#[ignore = "needs fish; .ci/run installs it and runs the ignored tests"]
fn fish_integration() {
    let fish = shell("fish");
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

//! Shell integration, tested by running the real shells with the code `strap init` emits.

use crate::support::{stderr_of, stdout_of, strap_bin, write_script, TestEnv};

/// The shell's path. The tests of shells a machine may lack (zsh, fish) are `#[ignore]`d, and
/// `.ci/run` installs the shells and runs them: a missing shell fails, it never passes silently.
fn shell(name: &str) -> String {
    ["/usr/bin", "/bin", "/usr/local/bin"]
        .iter()
        .map(|dir| format!("{dir}/{name}"))
        .find(|path| std::path::Path::new(path).exists())
        .unwrap_or_else(|| panic!("{name} is not installed (`apt-get install {name}`)"))
}

/// PATH before `strap init`: strap's directory, the fake system directory, the system.
fn shell_path(env: &TestEnv) -> String {
    format!(
        "{}:{}:/usr/bin:/bin",
        strap_bin().parent().unwrap().display(),
        env.sysbin().display()
    )
}

/// How each shell runs a script without reading the user's startup files.
fn shell_args(shell: &str) -> &'static [&'static str] {
    match shell {
        "bash" => &["--norc", "--noprofile", "-c"],
        "zsh" => &["-f", "-c"],
        "fish" => &["--no-config", "-c"],
        _ => unreachable!("{shell}"),
    }
}

fn setup() -> TestEnv {
    let env = TestEnv::new();
    env.fake_version("3.12.7", &["python3"]);
    env.fake_version("3.11.9", &["python3"]);
    env.write("root/version", "3.12.7\n");
    env.rehash();
    env
}

/// Runs `script` in `shell` with strap's directory and the fake system directory (not the shims)
/// on PATH.
fn run(env: &TestEnv, shell: &str, args: &[&str], script: &str) -> String {
    let out = env
        .command(shell)
        .args(args)
        .arg(script)
        .env("PATH", shell_path(env))
        .timeout(std::time::Duration::from_secs(120))
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

// ---- The shell forgets remembered command locations when the shims change (bash, zsh) ----

/// Version 3.12.7 provides `tool` and `python3.12`, which the system has too; it is selected but
/// not yet rehashed. In one session: `tool` runs the system's (and the shell remembers that
/// path); `strap rehash` makes shims that must win from the next command on; `strap --root R
/// uninstall` removes them again, and the shell must not run the removed shims.
fn remembered_commands_script(env: &TestEnv, shell: &str) -> String {
    env.fake_version("3.12.7", &["tool", "python3.12", "python3"]);
    env.write("root/version", "3.12.7\n");
    env.fake_system("tool");
    env.fake_system("python3.12");
    let root = env.root().display().to_string();
    format!(
        r#"set -e
eval "$(strap init {shell})"
tool
strap rehash
tool
python3.12
strap --root '{root}' uninstall 3.12.7
tool
python3.12
python3 2>&1 || echo "exit $?"
"#
    )
}

fn check_remembered_commands(env: &TestEnv, out: &str) {
    let lines: Vec<&str> = out.lines().map(str::trim_end).collect();
    assert!(lines.len() >= 7, "{out}");
    assert_eq!(lines[0], "system tool", "{out}");
    assert_eq!(
        lines[1], "3.12.7 tool",
        "the shell kept running the old tool: {out}"
    );
    assert_eq!(lines[2], "3.12.7 python3.12", "{out}");
    assert_eq!(lines[3], "system tool", "{out}");
    assert_eq!(lines[4], "system python3.12", "{out}");
    // The `python3` shim stays (issue item 2): the selected version is gone, and it says so.
    assert!(
        lines[5].contains("version '3.12.7' is not installed"),
        "{out}"
    );
    assert_eq!(lines[lines.len() - 1], "exit 1", "{out}");
    assert!(!env.root().join("versions/3.12.7").exists());
}

#[test]
fn bash_forgets_remembered_commands_after_rehash_and_uninstall() {
    let bash = shell("bash");
    let env = TestEnv::new();
    let script = remembered_commands_script(&env, "bash");
    let out = run(&env, &bash, shell_args("bash"), &script);
    check_remembered_commands(&env, &out);
}

#[test]
#[ignore = "needs zsh; .ci/run installs it and runs the ignored tests"]
fn zsh_forgets_remembered_commands_after_rehash_and_uninstall() {
    let zsh = shell("zsh");
    let env = TestEnv::new();
    let script = remembered_commands_script(&env, "zsh");
    let out = run(&env, &zsh, shell_args("zsh"), &script);
    check_remembered_commands(&env, &out);
}

#[test]
#[ignore = "needs fish; .ci/run installs it and runs the ignored tests"]
fn fish_runs_the_right_commands_after_rehash_and_uninstall() {
    // fish remembers no command locations: the same session works without any clearing.
    let fish = shell("fish");
    let env = TestEnv::new();
    let script = remembered_commands_script(&env, "fish")
        .replace("set -e\n", "")
        .replace("eval \"$(strap init fish)\"", "strap init fish | source")
        .replace("2>&1 || echo \"exit $?\"", "2>&1; or echo \"exit $status\"");
    let out = run(&env, &fish, shell_args("fish"), &script);
    check_remembered_commands(&env, &out);
}

/// `strap install` in a session where `python3.99` ran the system's: the next `python3.99` runs
/// the installed one.
fn install_in_a_session(shell_name: &str) {
    let sh = shell(shell_name);
    let s = crate::support::Setup::new();
    s.env.fake_system("python3.99");
    let script = format!(
        r#"set -e
eval "$(strap init {shell_name})"
python3.99 -c x
strap install --skip-preflight --sha256 {sha} --mirror '{mirror}' 3.99.1
strap global 3.99.1
python3.99 -c 'print("from 3.99.1")'
"#,
        sha = s.sha,
        mirror = s.mirror.template("a"),
    );
    let out = run(&s.env, &sh, shell_args(shell_name), &script);
    assert_eq!(out, "system python3.99 -c x\nfrom 3.99.1\n");
}

#[test]
fn bash_runs_a_freshly_installed_command_in_the_same_session() {
    install_in_a_session("bash");
}

#[test]
#[ignore = "needs zsh; .ci/run installs it and runs the ignored tests"]
fn zsh_runs_a_freshly_installed_command_in_the_same_session() {
    install_in_a_session("zsh");
}

#[test]
fn bash_a_pinned_version_that_is_not_installed_fails_from_the_first_command() {
    // A fresh root, never rehashed, and a project pinning a version that is not installed: the
    // `python3` shim exists from `strap init` on, so the system python3 is not run silently.
    let bash = shell("bash");
    let env = TestEnv::new();
    env.fake_system("python3");
    env.write("work/.python-version", "3.11\n");
    let script = r#"eval "$(strap init bash)"
python3 -c 'print(1)' 2>&1 || echo "exit $?"
strap local system
python3 -c 'print(1)'
"#;
    let out = run(&env, &bash, shell_args("bash"), script);
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].contains("version '3.11' is not installed (set by"),
        "{out}"
    );
    assert!(out.contains("strap install 3.11"), "{out}");
    assert_eq!(lines[lines.len() - 2], "exit 1", "{out}");
    assert_eq!(
        lines[lines.len() - 1],
        "system python3 -c print(1)",
        "{out}"
    );
}

// ---- Completion of names, through each shell's own completion machinery ----

/// Versions 3.12.7 and 3.11.9 in the root, 2.7.18 in another root, and what strap lists as
/// catalog versions and recipes.
struct Names {
    env: TestEnv,
    other_root: String,
    catalog: Vec<String>,
    recipes: Vec<String>,
    boost_catalog: Vec<String>,
}

fn names_setup() -> Names {
    let env = setup();
    let other = env.dir.path().join("other");
    write_script(&other.join("versions/2.7.18/bin/python2.7"), "echo 2.7.18");
    let lines = |args: &[&str]| -> Vec<String> {
        let out = env.strap(args).output().unwrap();
        assert!(out.status.success(), "strap {args:?}: {}", stderr_of(&out));
        stdout_of(&out).lines().map(str::to_owned).collect()
    };
    let catalog = lines(&["install", "--list", "--bare"]);
    let recipes = lines(&["recipe", "list", "--bare"]);
    for name in ["1.81.0-py3.11", "1.86.0"] {
        std::fs::create_dir_all(env.root().join("boost").join(name)).unwrap();
    }
    let boost_catalog = lines(&["boost", "install", "--list", "--bare"]);
    assert!(
        catalog.len() > 20 && recipes.len() >= 3,
        "{catalog:?} {recipes:?}"
    );
    Names {
        other_root: other.display().to_string(),
        env,
        catalog,
        recipes,
        boost_catalog,
    }
}

/// Command lines to complete (the word at the cursor is the last one, maybe empty) and exactly
/// the names each must complete to.
fn name_cases(n: &Names) -> Vec<(String, Vec<String>)> {
    let v = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let catalog_31: Vec<String> = n
        .catalog
        .iter()
        .filter(|v| v.starts_with("3.1"))
        .cloned()
        .collect();
    assert!(catalog_31.iter().any(|v| v.starts_with("3.12.")));
    let recipes_d: Vec<String> = n
        .recipes
        .iter()
        .filter(|r| r.starts_with('d'))
        .cloned()
        .collect();
    vec![
        ("strap global ".into(), v(&["system", "3.11.9", "3.12.7"])),
        ("strap local 3.1".into(), v(&["3.11.9", "3.12.7"])),
        ("strap shell 3.12".into(), v(&["3.12.7"])),
        (
            "strap global 3.12.7 ".into(),
            v(&["system", "3.11.9", "3.12.7"]),
        ),
        ("strap uninstall ".into(), v(&["3.11.9", "3.12.7"])),
        ("strap prefix 3.11".into(), v(&["3.11.9"])),
        (
            format!("strap --root {} uninstall ", n.other_root),
            v(&["2.7.18"]),
        ),
        ("strap install 3.1".into(), catalog_31),
        ("strap install ".into(), n.catalog.clone()),
        ("strap recipe run ".into(), n.recipes.clone()),
        ("strap recipe show d".into(), recipes_d),
        (
            "strap boost uninstall ".into(),
            v(&["1.81.0-py3.11", "1.86.0"]),
        ),
        (
            "strap boost uninstall 1.86.0 ".into(),
            v(&["1.81.0-py3.11", "1.86.0"]),
        ),
        (
            "strap boost env 1.8".into(),
            v(&["1.81.0-py3.11", "1.86.0"]),
        ),
        ("strap boost prefix 1.86".into(), v(&["1.86.0"])),
        (
            "strap boost install 1.8".into(),
            n.boost_catalog
                .iter()
                .filter(|v| v.starts_with("1.8"))
                .cloned()
                .collect(),
        ),
    ]
}

/// Command lines where clap's completion of commands and options applies, and one completion
/// it must give.
fn clap_cases() -> Vec<(&'static str, &'static str)> {
    vec![
        ("strap glo", "global"),
        ("strap global --r", "--root"),
        ("strap recipe ", "show"),
        ("strap recipe run can --d", "--dry-run"),
        ("strap install --mir", "--mirror"),
        ("strap boost ", "install"),
        ("strap boost install 1.86 --pyt", "--python"),
    ]
}

/// Where no names may be offered: after the recipe name, at an option's value.
fn no_names_cases() -> Vec<&'static str> {
    vec![
        "strap recipe run can ",
        "strap install --mirror ",
        "strap boost env 1.86.0 ",
        "strap boost install --mirror ",
    ]
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// `line|completion completion…` lines, one per case, into pairs.
fn parse_results(out: &str) -> Vec<(String, Vec<String>)> {
    out.lines()
        .filter_map(|l| l.split_once('|'))
        .map(|(line, words)| {
            (
                line.to_owned(),
                words.split_whitespace().map(str::to_owned).collect(),
            )
        })
        .collect()
}

fn check_completions(n: &Names, results: &[(String, Vec<String>)]) {
    let get = |line: &str| -> Vec<String> {
        results
            .iter()
            .find(|(l, _)| l == line)
            .unwrap_or_else(|| panic!("no result for {line:?} in {results:?}"))
            .1
            .clone()
    };
    for (line, want) in name_cases(n) {
        assert_eq!(sorted(get(&line)), sorted(want), "completing {line:?}");
    }
    for (line, want) in clap_cases() {
        let got = get(line);
        assert!(
            got.iter().any(|w| w == want),
            "completing {line:?}: {got:?}"
        );
    }
    for line in no_names_cases() {
        let got = get(line);
        assert!(
            !got.iter().any(|w| n.recipes.contains(w)
                || n.catalog.contains(w)
                || n.boost_catalog.contains(w)
                || w.starts_with("1.8")),
            "completing {line:?} offered names: {got:?}"
        );
    }
}

fn all_lines(n: &Names) -> Vec<String> {
    name_cases(n)
        .into_iter()
        .map(|(l, _)| l)
        .chain(clap_cases().into_iter().map(|(l, _)| l.to_owned()))
        .chain(no_names_cases().into_iter().map(str::to_owned))
        .collect()
}

#[test]
fn bash_completes_versions_catalog_versions_and_recipe_names() {
    let bash = shell("bash");
    let n = names_setup();
    // The function `complete -p strap` names, called as bash calls it.
    let mut script = String::from(
        r#"eval "$(strap init bash)"
fn=$(complete -p strap); fn=${fn#*-F }; fn=${fn%% *}
comp() {
  COMP_LINE=$1; COMP_POINT=${#1}
  read -ra COMP_WORDS <<<"$1"
  [[ $1 == *' ' ]] && COMP_WORDS+=('')
  COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
  COMPREPLY=()
  "$fn" strap "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
  echo "$1|${COMPREPLY[*]}"
}
"#,
    );
    for line in all_lines(&n) {
        script.push_str(&format!("comp '{line}'\n"));
    }
    let out = run(&n.env, &bash, shell_args("bash"), &script);
    check_completions(&n, &parse_results(&out));
}

/// Drives an interactive zsh in a pseudo-terminal (zpty): for each line, types it and Tab, and
/// records what the completion system offered (`compadd` wrapped to log its matches).
const ZSH_HARNESS: &str = r#"zmodload zsh/zpty || exit 1
log=$PWD/completions.log
: > $log
zpty z zsh -f -i
zpty -w z "PS1=''; RPS1=''; LISTMAX=100000; unsetopt auto_list; autoload -Uz compinit; compinit -u -D; $ZSH_SETUP"
zpty -w z "compadd() { local -a hits; builtin compadd -O hits \"\$@\"; print -rl -- \$hits >> ${(q)log}; builtin compadd \"\$@\"; }"
# Ctrl-X: complete (what Tab does), then print a numbered mark to wait for.
zpty -w z 'integer tabs=0; tab-then-mark() { zle complete-word; print -rn -- "TAB-DONE-$(( ++tabs ))."; }; zle -N tab-then-mark; bindkey "^X" tab-then-mark'
integer n=0
for line in "$@"; do
  (( n++ ))
  zpty -w z "print -r -- ${(q)line}'|' >> ${(q)log}"
  zpty -w -n z "$line"$'\C-x'
  zpty -r z out "*TAB-DONE-$n.*" || { print "no answer for: $line"; exit 1; }
  zpty -w -n z $'\C-e\C-u'
done
zpty -d z
# One `line|match match…` line per case.
awk '/\|$/ { if (l != "") print l; l = $0; next } { l = l " " $0 } END { print l }' $log
"#;

/// Runs [`ZSH_HARNESS`] with `setup` (how strap's completion is loaded) on `lines`.
fn zsh_complete(n: &Names, setup: &str, lines: &[String]) -> Vec<(String, Vec<String>)> {
    let zsh = shell("zsh");
    let out = n
        .env
        .command(&zsh)
        .args(["-f", "-c", ZSH_HARNESS, "zsh"])
        .args(lines)
        .env("PATH", shell_path(&n.env))
        .env("ZSH_SETUP", setup)
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        stdout_of(&out),
        stderr_of(&out)
    );
    parse_results(&stdout_of(&out))
}

#[test]
#[ignore = "needs zsh; .ci/run installs it and runs the ignored tests"]
fn zsh_completes_versions_catalog_versions_and_recipe_names() {
    let n = names_setup();
    let results = zsh_complete(&n, r#"eval "$(strap init zsh)""#, &all_lines(&n));
    check_completions(&n, &results);
}

#[test]
#[ignore = "needs zsh; .ci/run installs it and runs the ignored tests"]
fn zsh_completion_file_from_strap_completions_works_autoloaded() {
    // `strap completions zsh > ~/.zfunc/_strap`, as `strap completions --help` suggests.
    let n = names_setup();
    let out = n.env.strap(&["completions", "zsh"]).output().unwrap();
    n.env.write("home/.zfunc/_strap", &stdout_of(&out));
    let setup = format!(
        "fpath=({} $fpath); compinit -u -D",
        n.env.home().join(".zfunc").display()
    );
    let lines: Vec<String> = ["strap global ", "strap glo", "strap recipe run "]
        .map(String::from)
        .to_vec();
    let results = zsh_complete(&n, &setup, &lines);
    assert_eq!(
        results,
        [
            (
                lines[0].clone(),
                ["system", "3.11.9", "3.12.7"].map(String::from).to_vec()
            ),
            (lines[1].clone(), vec!["global".to_owned()]),
            (lines[2].clone(), n.recipes.clone()),
        ]
    );
}

#[test]
#[ignore = "needs fish; .ci/run installs it and runs the ignored tests"]
fn fish_completes_versions_catalog_versions_and_recipe_names() {
    let fish = shell("fish");
    let n = names_setup();
    let mut script = String::from(
        "strap init fish | source\n\
         function comp\n    \
             set -l got (complete -C $argv[1] | string replace -r '\\t.*' '' | string join ' ')\n    \
             echo \"$argv[1]|$got\"\n\
         end\n",
    );
    for line in all_lines(&n) {
        script.push_str(&format!("comp '{line}'\n"));
    }
    let out = run(&n.env, &fish, shell_args("fish"), &script);
    check_completions(&n, &parse_results(&out));
}

#[test]
#[ignore = "needs zsh; .ci/run installs it and runs the ignored tests"]
fn zsh_completion_loads_when_the_init_line_comes_before_compinit() {
    let zsh = shell("zsh");
    let env = setup();
    env.write(
        "home/.zshrc",
        "eval \"$(strap init zsh)\"\nautoload -Uz compinit; compinit -u\n",
    );
    // An interactive zsh that reads ~/.zshrc, in a real pseudo-terminal.
    let out = env
        .command("script")
        .args(["-qfc", &format!("{zsh} -i"), "/dev/null"])
        .env("ZDOTDIR", env.home())
        .env("TERM", "dumb")
        .env(
            "PATH",
            format!("{}:/usr/bin:/bin", strap_bin().parent().unwrap().display()),
        )
        .write_stdin("print -r -- \"COMP=${_comps[strap]}\"\nexit\n")
        .output()
        .unwrap();
    assert!(
        stdout_of(&out).contains("COMP=_strap"),
        "{}",
        stdout_of(&out)
    );
}

// ---- `strap shell -` goes back to the previous selection, as `pyenv shell -` ----

/// The script (bash and zsh; fish's is derived from it) and what it prints: the error without a
/// previous selection, then the selection after each step; the previous one is kept in a shell
/// variable that is not exported.
fn shell_dash_script(shell: &str) -> String {
    format!(
        r#"eval "$(strap init {shell})"
strap shell - 2>&1 || echo "exit $?"
strap shell 3.11
python3
strap shell -
python3
strap shell -
python3
strap shell 3.12.7
strap shell -
strap version-name
strap shell --unset
strap shell -
strap version-name
env | grep -c '^STRAP_PYTHON_VERSION_OLD=' || true
"#
    )
}

const SHELL_DASH_OUTPUT: &str = "strap: error: no previous shell version to go back to \
    (STRAP_PYTHON_VERSION_OLD is not set)\nexit 1\n3.11.9 python3 \n3.12.7 python3 \n\
    3.11.9 python3 \n3.11.9\n3.11.9\n0\n";

#[test]
fn bash_shell_dash_goes_back_to_the_previous_selection() {
    let env = setup();
    let out = run(
        &env,
        &shell("bash"),
        shell_args("bash"),
        &shell_dash_script("bash"),
    );
    assert_eq!(out, SHELL_DASH_OUTPUT);
}

#[test]
#[ignore = "needs zsh; .ci/run installs it and runs the ignored tests"]
fn zsh_shell_dash_goes_back_to_the_previous_selection() {
    let env = setup();
    let out = run(
        &env,
        &shell("zsh"),
        shell_args("zsh"),
        &shell_dash_script("zsh"),
    );
    assert_eq!(out, SHELL_DASH_OUTPUT);
}

#[test]
#[ignore = "needs fish; .ci/run installs it and runs the ignored tests"]
fn fish_shell_dash_goes_back_to_the_previous_selection() {
    let env = setup();
    let script = shell_dash_script("fish")
        .replace("eval \"$(strap init fish)\"", "strap init fish | source")
        .replace("2>&1 || echo \"exit $?\"", "2>&1; or echo \"exit $status\"")
        .replace("|| true", "; or true");
    let out = run(&env, &shell("fish"), shell_args("fish"), &script);
    assert_eq!(out, SHELL_DASH_OUTPUT);
}

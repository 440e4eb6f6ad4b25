//! Shell integration: the code `strap init` prints and the commands `strap shell` emits, for
//! bash, zsh and fish.

use std::path::Path;

/// A shell strap integrates with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

impl Shell {
    /// The shell named by a path such as `$SHELL` (`/usr/bin/zsh` → zsh).
    pub fn from_path(path: &str) -> Option<Shell> {
        match Path::new(path).file_name()?.to_str()? {
            "bash" | "sh" => Some(Shell::Bash),
            "zsh" => Some(Shell::Zsh),
            "fish" => Some(Shell::Fish),
            _ => None,
        }
    }

    /// The shell's name as users type it.
    pub fn name(self) -> &'static str {
        match self {
            Shell::Bash => "bash",
            Shell::Zsh => "zsh",
            Shell::Fish => "fish",
        }
    }

    /// The startup file where the init line belongs.
    pub fn rc_file(self) -> &'static str {
        match self {
            Shell::Bash => "~/.bashrc",
            Shell::Zsh => "~/.zshrc",
            Shell::Fish => "~/.config/fish/config.fish",
        }
    }

    /// The line users add to their startup file.
    pub fn init_line(self) -> &'static str {
        match self {
            Shell::Bash => "eval \"$(strap init bash)\"",
            Shell::Zsh => "eval \"$(strap init zsh)\"",
            Shell::Fish => "strap init fish | source",
        }
    }

    /// The integration code: shims first on `PATH` (once), the `strap` function, completions.
    pub fn init_script(self, root: &Path, shims: &Path) -> String {
        let template = match self {
            Shell::Bash => include_str!("../shell/strap.bash"),
            Shell::Zsh => include_str!("../shell/strap.zsh"),
            Shell::Fish => include_str!("../shell/strap.fish"),
        };
        template
            .replace("@ROOT@", &self.quote(&root.to_string_lossy()))
            .replace("@SHIMS@", &self.quote(&shims.to_string_lossy()))
    }

    /// Code that removes a variable from the current shell.
    pub fn unset_var(self, name: &str) -> String {
        match self {
            Shell::Bash | Shell::Zsh => format!("unset {name}"),
            Shell::Fish => format!("set -e {name}"),
        }
    }

    /// `value` as one word (POSIX quoting through `shlex` for bash and zsh; fish's own rules).
    pub fn quote(self, value: &str) -> String {
        match self {
            Shell::Bash | Shell::Zsh => quote_posix(value),
            Shell::Fish => format!("'{}'", value.replace('\\', r"\\").replace('\'', r"\'")),
        }
    }
}

/// Code that sets the shell's selection `var` (`STRAP_PYTHON_VERSION`, `PYENV_VERSION`) to
/// `quoted` (one shell word), keeping the previous value in the shell (not exported) variable
/// `<var>_OLD`, for `shell -` (pyenv's `PYENV_VERSION_OLD`). `shell` is a shell's name: `fish`,
/// `pwsh`, any other is POSIX.
pub fn set_keeping_old(shell: &str, var: &str, quoted: &str) -> String {
    match shell {
        "fish" => format!("set -gu {var}_OLD \"${var}\"\nset -gx {var} {quoted}"),
        "pwsh" => format!("$Env:{var}, $Env:{var}_OLD = {quoted}, $Env:{var}"),
        _ => format!("{var}_OLD=\"${{{var}-}}\"\nexport {var}={quoted}"),
    }
}

/// Code that unsets the shell's selection `var`, keeping its value in `<var>_OLD` (see
/// [`set_keeping_old`]).
pub fn unset_keeping_old(shell: &str, var: &str) -> String {
    match shell {
        "fish" => format!("set -gu {var}_OLD \"${var}\"\nset -e {var}"),
        "pwsh" => format!("$Env:{var}, $Env:{var}_OLD = $null, $Env:{var}"),
        _ => format!("{var}_OLD=\"${{{var}-}}\"\nunset {var}"),
    }
}

/// Code for `shell -`: swaps the shell's selection `var` with `<var>_OLD` (an empty `<var>_OLD`
/// unsets `var`); prints `not_set` (a message without quotes or `$`) and fails when there is no
/// `<var>_OLD`. Lines end with `\n`.
pub fn swap_with_old(shell: &str, var: &str, not_set: &str) -> String {
    let old = format!("{var}_OLD");
    match shell {
        "fish" => format!(
            "if set -q {old}\n  if [ -n \"${old}\" ]\n    set {old}_ \"${var}\"\n    \
             set -gx {var} \"${old}\"\n    set -gu {old} \"${old}_\"\n    \
             set -e {old}_\n  else\n    set -gu {old} \"${var}\"\n    set -e {var}\n  end\n\
             else\n  echo \"{not_set}\" >&2\n  false\nend\n"
        ),
        "pwsh" => format!(
            "if ( Get-Item -Path Env:\\{var}* ) {{\n  \
             $Env:{var}, $Env:{old} = $Env:{old}, $Env:{var}\n}} else {{\n  \
             Write-Error \"{not_set}\"\n  return $false\n}}\n"
        ),
        _ => format!(
            "if [ -n \"${{{old}+x}}\" ]; then\n  if [ -n \"${old}\" ]; then\n    \
             {old}_=\"${var}\"\n    export {var}=\"${old}\"\n    \
             {old}=\"${old}_\"\n    unset {old}_\n  else\n    \
             {old}=\"${var}\"\n    unset {var}\n  fi\nelse\n  \
             echo \"{not_set}\" >&2\n  false\nfi\n"
        ),
    }
}

/// Completion code for `strap completions SHELL` (which `strap init` loads): clap's generated
/// completion of commands and options, with strap's own completion of names around it: installed
/// versions after `global`, `local`, `shell` (and `system`), `uninstall` and `prefix`; catalog
/// versions after `install`; recipe names after `recipe run` and `recipe show`; installed Boost
/// builds after `boost prefix|env|uninstall` and releases after `boost install`. The names come
/// from strap itself at completion time (`versions --bare`, `install --list --bare`,
/// `recipe list --bare`, `boost list --bare`, `boost install --list --bare`), honouring a
/// `--root DIR` on the command line.
///
/// `value_options` are the options whose value is the next word (`--root`, `--mirror`…), so a
/// word after one of them is not taken for a name. Shells other than bash, zsh and fish get
/// clap's code unchanged; so does any shell if clap's code no longer has the expected shape (the
/// unit tests below catch that when clap_complete changes).
pub fn completion_script(
    shell: clap_complete::Shell,
    clap_code: &str,
    value_options: &[String],
) -> String {
    let patched = match shell {
        clap_complete::Shell::Bash => wrap_clap_function(
            clap_code,
            "\nif [[ \"${BASH_VERSINFO[0]}\" -eq 4",
            &NAMES_BASH.replace("@VALUE_OPTIONS@", &value_options.join("|")),
        ),
        clap_complete::Shell::Zsh => wrap_clap_function(
            clap_code,
            "\nif [ \"$funcstack[1]\" = \"_strap\" ]; then",
            &NAMES_ZSH.replace("@VALUE_OPTIONS@", &value_options.join("|")),
        ),
        clap_complete::Shell::Fish => Some(format!(
            "{clap_code}\n{}",
            NAMES_FISH.replace("@VALUE_OPTIONS@", &value_options.join(" "))
        )),
        _ => None,
    };
    patched.unwrap_or_else(|| clap_code.to_owned())
}

/// clap's `_strap` renamed `__strap_clap`, and `names` (which defines a new `_strap` that calls
/// it) inserted before clap's registration code `trailer`, so the registration (`complete -F
/// _strap`, `compdef _strap`, or zsh's autoloaded `_strap` file calling itself) picks up ours.
fn wrap_clap_function(clap_code: &str, trailer: &str, names: &str) -> Option<String> {
    const CLAP_FUNCTION: &str = "\n_strap() {\n";
    // A leading newline, so the function is found on the first line too.
    let code = format!("\n{clap_code}");
    if code.matches(CLAP_FUNCTION).count() != 1 {
        return None;
    }
    let at = code.rfind(trailer)?;
    let (body, registration) = code.split_at(at);
    let body = body.replacen(CLAP_FUNCTION, "\n__strap_clap() {\n", 1);
    Some(format!("{}\n{names}{registration}", &body[1..]))
}

/// bash: `_strap` completes names itself or hands over to clap's `__strap_clap`.
const NAMES_BASH: &str = r#"# strap's completion of names; commands and options come from clap's __strap_clap.
__strap_names() {
  local kind="$1"
  shift
  case "$kind" in
    selectable) echo system; command strap "$@" versions --bare ;;
    installed) command strap "$@" versions --bare ;;
    catalog) command strap "$@" install --list --bare ;;
    recipe) command strap "$@" recipe list --bare ;;
    boost) command strap "$@" boost list --bare ;;
    boost-catalog) command strap "$@" boost install --list --bare ;;
  esac 2>/dev/null
}

_strap() {
  local cur="${COMP_WORDS[COMP_CWORD]}" word cmd= sub= kind= i=1 npos=0
  local -a root=()
  while [ "$i" -lt "$COMP_CWORD" ]; do
    word="${COMP_WORDS[i]}"
    case "$word" in
      --root=*) root=("$word") ;;
      @VALUE_OPTIONS@)
        # The option's value is the next word (bash splits `--opt=value` at the `=`).
        [ "${COMP_WORDS[i+1]}" = "=" ] && i=$((i + 1))
        i=$((i + 1))
        if [ "$i" -ge "$COMP_CWORD" ]; then kind=value; break; fi
        [ "$word" = --root ] && root=(--root "${COMP_WORDS[i]}")
        ;;
      -*) ;;
      *)
        if [ -z "$cmd" ]; then cmd="$word"
        elif [[ "$cmd" = recipe || "$cmd" = boost ]] && [ -z "$sub" ]; then sub="$word"
        else npos=$((npos + 1))
        fi ;;
    esac
    i=$((i + 1))
  done
  if [ -z "$kind" ] && [[ "$cur" != -* ]]; then
    case "$cmd" in
      global|local|shell) kind=selectable ;;
      uninstall|prefix) kind=installed ;;
      install) kind=catalog ;;
      recipe)
        if [ "$npos" = 0 ] && [[ "$cur" != */* ]]; then
          case "$sub" in run|show) kind=recipe ;; esac
        fi ;;
      boost)
        case "$sub" in
          uninstall) kind=boost ;;
          prefix|env) [ "$npos" = 0 ] && kind=boost ;;
          install) [ "$npos" = 0 ] && kind=boost-catalog ;;
        esac ;;
    esac
  fi
  case "$kind" in
    selectable|installed|catalog|recipe|boost|boost-catalog)
      local IFS=$'\n'
      COMPREPLY=($(compgen -W "$(__strap_names "$kind" "${root[@]}")" -- "$cur"))
      # Names only: no file names when none matches.
      compopt +o default +o bashdefault 2>/dev/null
      return 0 ;;
  esac
  __strap_clap "$@"
}
"#;

/// zsh: `_strap` completes names itself or hands over to clap's `__strap_clap`.
const NAMES_ZSH: &str = r#"# strap's completion of names; commands and options come from clap's __strap_clap.
(( $+functions[__strap_names] )) ||
__strap_names() {
  local kind="$1"
  shift
  case "$kind" in
    (selectable) print -r -- system; command strap "$@" versions --bare ;;
    (installed) command strap "$@" versions --bare ;;
    (catalog) command strap "$@" install --list --bare ;;
    (recipe) command strap "$@" recipe list --bare ;;
    (boost) command strap "$@" boost list --bare ;;
    (boost-catalog) command strap "$@" boost install --list --bare ;;
  esac 2>/dev/null
}

_strap() {
  local cur="$words[CURRENT]" word cmd= sub= kind= descr expl
  local -a root names
  integer i=2 npos=0
  while (( i < CURRENT )); do
    word="$words[i]"
    case "$word" in
      (@VALUE_OPTIONS@)
        (( i++ ))
        if (( i >= CURRENT )); then kind=value; break; fi
        [[ "$word" == --root ]] && root=(--root "${(Q)words[i]}")
        ;;
      (--root=*) root=("${(Q)word}") ;;
      (-*) ;;
      (*)
        if [[ -z "$cmd" ]]; then cmd="$word"
        elif [[ ( "$cmd" == recipe || "$cmd" == boost ) && -z "$sub" ]]; then sub="$word"
        else (( npos++ ))
        fi ;;
    esac
    (( i++ ))
  done
  if [[ -z "$kind" && "$cur" != -* ]]; then
    case "$cmd" in
      (global|local|shell) kind=selectable descr='version' ;;
      (uninstall|prefix) kind=installed descr='installed version' ;;
      (install) kind=catalog descr='installable version' ;;
      (recipe)
        if (( npos == 0 )) && [[ "$cur" != */* && ( "$sub" == run || "$sub" == show ) ]]; then
          kind=recipe descr='recipe'
        fi ;;
      (boost)
        case "$sub" in
          (uninstall) kind=boost descr='installed Boost' ;;
          (prefix|env) (( npos == 0 )) && kind=boost descr='installed Boost' ;;
          (install) (( npos == 0 )) && kind=boost-catalog descr='Boost release' ;;
        esac ;;
    esac
  fi
  if [[ -n "$descr" ]]; then
    names=(${(f)"$(__strap_names "$kind" "${root[@]}")"})
    _wanted -V "$kind" expl "$descr" compadd -a names
    return
  fi
  __strap_clap "$@"
}

"#;

/// fish: one more `complete` rule, for the words where strap completes names.
const NAMES_FISH: &str = r#"# strap's completion of names: prints the kind of name wanted at the cursor (and any
# `--root DIR` given), or fails where clap's rules above apply.
function __strap_name_context
    set -l words (commandline -opc)
    set -e words[1]
    set -l cur (commandline -ct)
    set -l cmd
    set -l sub
    set -l root
    set -l pending
    set -l npos 0
    for word in $words
        if set -q pending[1]
            test "$pending" = --root; and set root --root $word
            set -e pending
            continue
        end
        switch $word
            case @VALUE_OPTIONS@
                set pending $word
            case '--root=*'
                set root $word
            case '-*'
            case '*'
                if test -z "$cmd"
                    set cmd $word
                else if contains -- "$cmd" recipe boost; and test -z "$sub"
                    set sub $word
                else
                    set npos (math $npos + 1)
                end
        end
    end
    set -q pending[1]; and return 1
    string match -q -- '-*' "$cur"; and return 1
    switch "$cmd"
        case global local shell
            echo selectable
        case uninstall prefix
            echo installed
        case install
            echo catalog
        case recipe
            contains -- "$sub" run show; and test $npos = 0; and not string match -q -- '*/*' "$cur"
            or return 1
            echo recipe
        case boost
            switch "$sub"
                case uninstall
                    echo boost
                case prefix env
                    test $npos = 0; or return 1
                    echo boost
                case install
                    test $npos = 0; or return 1
                    echo boost-catalog
                case '*'
                    return 1
            end
        case '*'
            return 1
    end
    test -n "$root[1]"; and string join \n -- $root
    return 0
end

function __strap_names
    set -l context (__strap_name_context); or return
    set -l root $context[2..-1]
    set -l names
    switch $context[1]
        case selectable
            set names system (command strap $root versions --bare 2>/dev/null)
        case installed
            set names (command strap $root versions --bare 2>/dev/null)
        case catalog
            set names (command strap $root install --list --bare 2>/dev/null)
        case recipe
            set names (command strap $root recipe list --bare 2>/dev/null)
        case boost
            set names (command strap $root boost list --bare 2>/dev/null)
        case boost-catalog
            set names (command strap $root boost install --list --bare 2>/dev/null)
    end
    set -l descr (string replace selectable version $context[1])
    for name in $names
        printf '%s\t%s\n' $name $descr
    end
end

complete -c strap -n '__strap_name_context >/dev/null' -f -a '(__strap_names)'
"#;

/// `text` as one word for a POSIX shell (`sh -c`, bash, zsh), quoted only when it needs it.
pub fn quote_posix(text: &str) -> String {
    // The words Python's `shlex.quote` leaves alone (`--prefix=/opt/x`, `a,b`, `user@host`).
    let plain = |c: char| c.is_ascii_alphanumeric() || "@%+=:,./_-".contains(c);
    if !text.is_empty() && text.chars().all(plain) {
        return text.to_owned();
    }
    shlex::try_quote(text).map_or_else(
        // Only a NUL byte cannot be quoted; it cannot be in a package name either.
        |_| format!("'{}'", text.replace(['\0', '\''], "")),
        |q| q.into_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::Shell;

    #[test]
    fn quoting_survives_hostile_values() {
        assert_eq!(Shell::Bash.quote("a'b; rm -rf /"), r#""a'b; rm -rf /""#);
        assert_eq!(Shell::Zsh.quote("$(x) `y`"), r"'$(x) `y`'");
        assert_eq!(Shell::Fish.quote(r"a'b\c"), r"'a\'b\\c'");
    }

    #[test]
    fn shell_detected_from_path() {
        assert_eq!(Shell::from_path("/usr/bin/zsh"), Some(Shell::Zsh));
        assert_eq!(Shell::from_path("/bin/bash"), Some(Shell::Bash));
        assert_eq!(Shell::from_path("/usr/bin/fish"), Some(Shell::Fish));
        assert_eq!(Shell::from_path("/bin/tcsh"), None);
    }
}

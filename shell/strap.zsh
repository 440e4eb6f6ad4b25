# strap shell integration for zsh: eval "$(strap init zsh)"
export STRAP_ROOT=@ROOT@
export STRAP_SHELL=zsh
path=(@SHIMS@ ${path:#@SHIMS@})
export PATH

strap() {
  if [[ "$1" == shell ]]; then
    shift
    case "${1:-}" in
      -h|--help) command strap shell --help ;;
      *) local __strap_code
         __strap_code="$(command strap sh-shell --shell zsh "$@")" && eval "$__strap_code" ;;
    esac
  else
    local __strap_status=0 __strap_arg __strap_skip=
    command strap "$@" || __strap_status=$?
    # Commands that change the shims: forget the command locations zsh remembers, or it keeps
    # running the old program.
    for __strap_arg in "$@"; do
      if [ -n "$__strap_skip" ]; then __strap_skip=; continue; fi
      case "$__strap_arg" in
        --root) __strap_skip=1 ;;
        -*) ;;
        rehash|install|uninstall) rehash; break ;;
        *) break ;;
      esac
    done
    return "$__strap_status"
  fi
}

# Completions need compinit. When this line comes before it in ~/.zshrc, they are loaded at the
# first prompt instead, once ~/.zshrc has run compinit.
if (( $+functions[compdef] )); then
  source <(command strap completions zsh)
else
  __strap_load_completions() {
    add-zsh-hook -d precmd __strap_load_completions
    unfunction __strap_load_completions
    if (( $+functions[compdef] )); then
      source <(command strap completions zsh)
    fi
  }
  autoload -Uz add-zsh-hook && add-zsh-hook precmd __strap_load_completions
fi

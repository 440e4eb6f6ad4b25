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
    command strap "$@"
  fi
}

if (( $+functions[compdef] )); then
  source <(command strap completions zsh)
fi

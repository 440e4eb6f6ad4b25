# strap shell integration for bash: eval "$(strap init bash)"
export STRAP_ROOT=@ROOT@
export STRAP_SHELL=bash
__strap_shims=@SHIMS@
__strap_path=":${PATH}:"
while [[ $__strap_path == *":${__strap_shims}:"* ]]; do
  __strap_path=${__strap_path/":${__strap_shims}:"/:}
done
__strap_path=${__strap_path#:}
__strap_path=${__strap_path%:}
export PATH="${__strap_shims}${__strap_path:+:${__strap_path}}"
unset __strap_shims __strap_path

strap() {
  if [ "$1" = shell ]; then
    shift
    case "${1:-}" in
      -h|--help) command strap shell --help ;;
      *) local __strap_code
         __strap_code="$(command strap sh-shell --shell bash "$@")" && eval "$__strap_code" ;;
    esac
  else
    command strap "$@"
  fi
}

if [ -z "${__strap_completions_loaded:-}" ]; then
  __strap_completions_loaded=1
  source <(command strap completions bash)
fi

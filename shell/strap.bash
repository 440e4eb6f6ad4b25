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
    local __strap_status=0 __strap_arg __strap_skip=
    command strap "$@" || __strap_status=$?
    # Commands that change the shims: forget the command locations bash remembers, or it keeps
    # running the old program (or a removed shim: "No such file or directory").
    for __strap_arg in "$@"; do
      if [ -n "$__strap_skip" ]; then __strap_skip=; continue; fi
      case "$__strap_arg" in
        --root) __strap_skip=1 ;;
        -*) ;;
        rehash|install|uninstall) hash -r; break ;;
        *) break ;;
      esac
    done
    return "$__strap_status"
  fi
}

if [ -z "${__strap_completions_loaded:-}" ]; then
  __strap_completions_loaded=1
  source <(command strap completions bash)
fi

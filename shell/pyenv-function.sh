@FUNCTION@
  @LOCAL@ command=${1:-}
  [ "$#" -gt 0 ] && shift
  case "$command" in
  @SH_COMMANDS@)
    eval "$(pyenv "sh-$command" "$@")"
    ;;
  *)
    command pyenv "$command" "$@"
    ;;
  esac
}

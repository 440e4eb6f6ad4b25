# strap's completion of names; commands and options come from clap's __strap_clap.
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

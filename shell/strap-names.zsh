# strap's completion of names; commands and options come from clap's __strap_clap.
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


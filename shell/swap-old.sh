if [ -n "${@VAR@_OLD+x}" ]; then
  if [ -n "$@VAR@_OLD" ]; then
    @VAR@_OLD_="$@VAR@"
    export @VAR@="$@VAR@_OLD"
    @VAR@_OLD="$@VAR@_OLD_"
    unset @VAR@_OLD_
  else
    @VAR@_OLD="$@VAR@"
    unset @VAR@
  fi
else
  echo "@NOT_SET@" >&2
  false
fi

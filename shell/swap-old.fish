if set -q @VAR@_OLD
  if [ -n "$@VAR@_OLD" ]
    set @VAR@_OLD_ "$@VAR@"
    set -gx @VAR@ "$@VAR@_OLD"
    set -gu @VAR@_OLD "$@VAR@_OLD_"
    set -e @VAR@_OLD_
  else
    set -gu @VAR@_OLD "$@VAR@"
    set -e @VAR@
  end
else
  echo "@NOT_SET@" >&2
  false
end

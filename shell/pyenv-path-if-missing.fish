if not contains -- "@SHIMS@" $PATH
set -gx PATH '@SHIMS@' $PATH
end

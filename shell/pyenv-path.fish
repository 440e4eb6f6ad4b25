while set pyenv_index (contains -i -- "@SHIMS@" $PATH)
set -eg PATH[$pyenv_index]; end; set -e pyenv_index
set -gx PATH '@SHIMS@' $PATH

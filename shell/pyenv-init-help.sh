# Load pyenv automatically by appending
# the following to @WHERE@
export PYENV_ROOT="$HOME/.pyenv"
[[ -d $PYENV_ROOT/bin ]] && export PATH="$PYENV_ROOT/bin:$PATH"
eval "$(pyenv init - @SHELL@)"

# Restart your shell for the changes to take effect.

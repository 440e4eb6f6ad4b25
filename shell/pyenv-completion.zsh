# Completion for `pyenv` when strap answers as pyenv (emitted by `pyenv init - zsh`).
if [[ -o interactive ]]; then
  _pyenv() {
    local words completions
    read -cA words
    if [ "${#words}" -eq 2 ]; then
      completions="$(pyenv commands)"
    else
      completions="$(pyenv completions ${words[2,-2]})"
    fi
    reply=(${(ps:\n:)completions})
  }
  compctl -K _pyenv pyenv
fi

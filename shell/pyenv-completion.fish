# Completion for `pyenv` when strap answers as pyenv (emitted by `pyenv init - fish`).
function __fish_pyenv_needs_command
  set -l cmd (commandline -opc)
  test (count $cmd) -eq 1
end
function __fish_pyenv_using_command
  set -l cmd (commandline -opc)
  test (count $cmd) -gt 1; and test $argv[1] = $cmd[2]
end
complete -f -c pyenv -n '__fish_pyenv_needs_command' -a '(pyenv commands)'
for cmd in (pyenv commands)
  complete -f -c pyenv -n "__fish_pyenv_using_command $cmd" -a "(pyenv completions (commandline -opc)[2..-1])"
end

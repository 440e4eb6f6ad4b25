# Load pyenv automatically by appending
# the following to ~/.config/powershell/profile.ps1 :

$Env:PYENV_ROOT="$Env:HOME/.pyenv"
if (Test-Path -LP "$Env:PYENV_ROOT/bin" -PathType Container) {
  $Env:PATH="$Env:PYENV_ROOT/bin:$Env:PATH" }
iex ((pyenv init -) -join "`n")

# Restart your shell for the changes to take effect.

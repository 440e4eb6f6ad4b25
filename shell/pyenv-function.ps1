function pyenv {
  $command=""
  if ( $args.Count -gt 0 ) {
    $command, $args = $args
  }

  if ( ("@SH_COMMANDS@" -split ' ') -contains $command ) {
    $shell_cmds = (& (get-command -commandtype application pyenv) sh-$command $args)
    if ( $shell_cmds.Count -gt 0 ) {
      iex ($shell_cmds -join "`n")
    }
  } else {
    & (get-command -commandtype application pyenv) $command $args
  }
}

if ( Get-Item -Path Env:\@VAR@* ) {
  $Env:@VAR@, $Env:@VAR@_OLD = $Env:@VAR@_OLD, $Env:@VAR@
} else {
  Write-Error "@NOT_SET@"
  return $false
}

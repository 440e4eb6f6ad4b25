if ( $Env:PATH -notmatch "@SHIMS@" ) {
$Env:PATH="@SHIMS@:$Env:PATH"
}

$Env:PATH="$(($Env:PATH -split ':' | where { -not ($_ -match '@SHIMS@') }) -join ':')"
$Env:PATH="@SHIMS@:$Env:PATH"

if [[ ":$PATH:" != *':@SHIMS@:'* ]]; then
export PATH="@SHIMS@:${PATH}"
fi

# Evaluates python-build definitions for one Linux architecture with python-build's own
# architecture functions and recording stand-ins for its install functions; prints one record per
# call, tab-separated: the definition's name, the function, its arguments. What the definitions
# print themselves is discarded. Used by scripts/gen-python-catalog.py.
# Usage: bash python-build-harness.sh PYTHON_BUILD_SCRIPT ARCH DEFINITION_PATH...
pb="$1"; ARCH="$2"; shift 2
exec 3>&1
eval "$(awk '/^(is_mac|require_osx_version|pypy_architecture|graalpy_architecture|pyston_architecture|activepython_architecture|anaconda_architecture)\(\) \{/,/^\}/' "$pb")"
uname() { case "$1" in -s) echo Linux ;; -m) echo "$ARCH" ;; -sm|-ms) echo "Linux $ARCH" ;; -r) echo 6.1.0 ;; *) echo Linux ;; esac; }
record() { local IFS=$'\t'; printf '%s\t%s\t%s\n' "$definition" "$*" >&3; }
for fn in install_package install_script install_zip install_jar install_git install_hg install_nightly_package; do
  eval "$fn() { record $fn \"\$@\"; }"
done
prefer_openssl11() { record prefer_openssl11; }
prefer_openssl3() { record prefer_openssl3; }
require_java() { record require_java; }
has_tar_xz_support() { return 0; }
require_distro() { return 1; }
colorize() { printf '%s' "$2"; }
command_not_found_handle() { return 0; }
for path in "$@"; do
  definition="${path##*/}"
  ( source "$path" ) >/dev/null 2>&1 </dev/null
done

#!/usr/bin/env bash
# Time `strap install 3.11.2` against pyenv's `python-build 3.11.2 <prefix>` from the same loopback
# mirror and the same archive (../shared/fixtures/Python-3.11.2.tgz), cold (downloading from the
# mirror) and warm (archive already cached), with the same configure options (--enable-shared)
# and the same parallelism. Prints the figures of one run. Takes ~10 minutes on 2 cores.
#
#   bench/install.sh [FIXTURES_DIR]
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
fixtures=$(cd "${1:-${STRAP_FIXTURES:-$here/../shared/fixtures}}" && pwd)
archive="$fixtures/Python-3.11.2.tgz"
sha=$(sha256sum "$archive" | cut -d' ' -f1)
jobs=$(nproc)

cargo build --release --quiet --manifest-path "$here/Cargo.toml"
strap="$here/target/release/strap"

work=$(mktemp -d)
cleanup() { [ -n "${server:-}" ] && kill "$server" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# One mirror serving both layouts: strap's {version}/{file} and python-build's <sha256>.
mkdir -p "$work/mirror/3.11.2"
ln -s "$archive" "$work/mirror/3.11.2/Python-3.11.2.tgz"
ln -s "$archive" "$work/mirror/$sha"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 -m http.server --bind 127.0.0.1 "$port" --directory "$work/mirror" >/dev/null 2>&1 &
server=$!
sleep 1

clean_env=(env -i HOME="$work/home" PATH="/usr/local/bin:/usr/bin:/bin" LANG=C.UTF-8)
mkdir -p "$work/home"
seconds() { # runs a command quietly; prints its wall time in seconds, or its log tail and fails
  local start=$SECONDS
  if ! "$@" >"$work/last.log" 2>&1; then
    echo "bench: $* failed:" >&2
    tail -30 "$work/last.log" >&2
    return 1
  fi
  echo $((SECONDS - start))
}

strap_run() {
  "${clean_env[@]}" STRAP_ROOT="$work/strap" STRAP_JOBS="$jobs" \
    "$strap" install "$@" --mirror "http://127.0.0.1:$port/{version}/{file}" 3.11.2
}
strap_cold=$(seconds strap_run)
strap_phases=$(grep -E 'done in' "$work/last.log" | tr -s ' ' | tr '\n' ';')
strap_warm=$(seconds strap_run -f --no-binary)

pyenv_run() { # cache dir (empty for cold)
  mkdir -p "$work/pycache"
  "${clean_env[@]}" PYTHON_BUILD_MIRROR_URL="http://127.0.0.1:$port" PYTHON_BUILD_CACHE_PATH="$work/pycache" \
    _PYTHON_BUILD_FORCE_SKIP_XZ=1 PYTHON_CONFIGURE_OPTS="--enable-shared" MAKE_OPTS="-j$jobs" \
    "$pyenv_build" 3.11.2 "$work/pyenv/versions/3.11.2"
}
pyenv_build="${PYENV_ROOT:-}/plugins/python-build/bin/python-build"
if [ -x "$pyenv_build" ]; then
  pyenv_cold=$(seconds pyenv_run)
  cp "$archive" "$work/pycache/Python-3.11.2.tgz"
  rm -rf "$work/pyenv"
  pyenv_warm=$(seconds pyenv_run)
fi

echo "strap install 3.11.2: cold ${strap_cold}s, warm cache ${strap_warm}s  (phases: $strap_phases)"
if [ -n "${pyenv_cold:-}" ]; then
  echo "python-build 3.11.2:   cold ${pyenv_cold}s, warm cache ${pyenv_warm}s"
  python3 -c "import sys; c,w,pc,pw=map(float,sys.argv[1:]); print(f'strap/pyenv: cold {c/pc:.2f}, warm {w/pw:.2f}')" \
    "$strap_cold" "$strap_warm" "$pyenv_cold" "$pyenv_warm"
else
  echo "python-build not found under \$PYENV_ROOT: no comparison"
fi

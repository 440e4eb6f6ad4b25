#!/usr/bin/env bash
# Time `strap boost install 1.81.0 --python 3.11.2` (warm cache: the archive is already in strap's
# download cache) against doing the same by hand on the same archive: `tar xjf`, `bootstrap.sh`,
# a user-config.jam naming the same Python, and `b2 … --with-python install`, with the same
# parallelism. strap's figure includes what the hand-run lacks: checksum, preflight, the receipt
# and the verification (compiling and importing a Boost.Python extension). Prints one run.
# Needs a CPython 3.11.2 built by strap: reuses BENCH_ROOT/versions/3.11.2 when given, else
# builds it first (a few more minutes). Takes ~10 minutes on 2 cores.
#
#   bench/boost.sh [FIXTURES_DIR]
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
fixtures=$(cd "${1:-${STRAP_FIXTURES:-$here/../shared/fixtures}}" && pwd)
archive="$fixtures/boost_1_81_0.tar.bz2"
sha=$(sha256sum "$archive" | cut -d' ' -f1)
jobs=$(nproc)

cargo build --release --quiet --manifest-path "$here/Cargo.toml"
strap="$here/target/release/strap"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root="${BENCH_ROOT:-$work/strap}"
clean_env=(env -i HOME="$work/home" PATH="/usr/local/bin:/usr/bin:/bin" LANG=C.UTF-8 STRAP_ROOT="$root" STRAP_JOBS="$jobs")
mkdir -p "$work/home"

seconds() { # runs a command quietly; prints its wall time in seconds, or its log tail and fails
  local start=$EPOCHREALTIME
  if ! "$@" >"$work/last.log" 2>&1; then
    echo "bench: $* failed:" >&2
    tail -30 "$work/last.log" >&2
    return 1
  fi
  python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$start" "$EPOCHREALTIME"
}

if [ ! -x "$root/versions/3.11.2/bin/python3.11" ]; then
  echo "bench: building CPython 3.11.2 with strap first" >&2
  "${clean_env[@]}" "$strap" install --mirror "file://$fixtures/{file}" 3.11.2 >/dev/null 2>&1
fi
python="$root/versions/3.11.2/bin/python3.11"

by_hand() {
  mkdir -p "$work/hand"
  cd "$work/hand"
  tar xjf "$archive"
  cd boost_1_81_0
  ./bootstrap.sh --with-toolset=gcc --with-python="$python" --with-python-version=3.11
  printf 'using python : 3.11 : "%s" : "%s" : "%s" ;\n' "$python" \
    "$root/versions/3.11.2/include/python3.11" "$root/versions/3.11.2/lib" > "$work/user-config.jam"
  ./b2 "-j$jobs" --user-config="$work/user-config.jam" --build-dir="$work/hand/b2" --layout=system \
    variant=release link=shared threading=multi --with-python install --prefix="$work/hand/prefix"
}
hand=$(seconds by_hand)
rm -rf "$work/hand"

mkdir -p "$root/cache"
cp "$archive" "$root/cache/"
strap_run() {
  "${clean_env[@]}" "$strap" boost install 1.81.0 --python 3.11.2 -f --no-binary --sha256 "$sha" \
    --mirror "file://$fixtures/{file}"
}
strap_time=$(seconds strap_run)
phases=$(grep -E 'done in' "$work/last.log" | tr -s ' ' | tr '\n' ';')

echo "by hand (tar xjf, bootstrap.sh, b2 install): ${hand}s"
echo "strap boost install 1.81.0 --python 3.11.2:  ${strap_time}s  (phases:$phases)"
python3 -c "import sys; s,h=map(float,sys.argv[1:]); print(f'strap/by hand: {s/h:.3f} ({(s-h)/h*100:+.1f}%)')" "$strap_time" "$hand"

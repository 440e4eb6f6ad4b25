#!/usr/bin/env bash
# Time installing the same python-build-standalone-shaped archive of CPython 3.11.2 with strap
# (`strap install --prebuilt 3.11.2` from a file:// mirror, empty cache, fresh root) and with uv
# (`uv python install 3.11.2 --python-downloads-json-url FILE`, a JSON entry naming the same
# archive by file:// URL and sha256, fresh UV_CACHE_DIR and UV_PYTHON_INSTALL_DIR), alternating,
# 5 runs each. The archive is made from a strap-built 3.11.2 as the real test makes it (prefix
# moved to /install in text files, clang in its sysconfig, under python/, its bytecode, .tar.gz).
# strap packs it into its build cache while verifying (the pack line is the wait left). uv comes from
# `pip install uv` into a venv (needs PyPI). Prints the medians: strap's whole install, strap's
# install without its verify phase (from its phase lines), uv's, and the ratios. The issue's
# targets: without verify <= 1.0x uv; with verify <= 1.5x.
# Needs a strap-built 3.11.2: BENCH_ROOT/versions/3.11.2 when given, else it is built first from
# the fixture (minutes).
#
#   bench/prebuilt.sh [FIXTURES_DIR]
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
fixtures=$(cd "${1:-${STRAP_FIXTURES:-$here/../shared/fixtures}}" && pwd)
runs=${BENCH_RUNS:-5}

cargo build --release --quiet --manifest-path "$here/Cargo.toml"
strap="$here/target/release/strap"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root="${BENCH_ROOT:-$work/strap}"
clean_env=(env -i HOME="$work/home" PATH="/usr/local/bin:/usr/bin:/bin" LANG=C.UTF-8)
mkdir -p "$work/home" "$work/pbs"

if [ ! -x "$root/versions/3.11.2/bin/python3.11" ]; then
  echo "bench: building CPython 3.11.2 with strap first" >&2
  "${clean_env[@]}" STRAP_ROOT="$root" "$strap" install --no-prebuilt \
    --mirror "file://$fixtures/{file}" 3.11.2 >"$work/build.log" 2>&1 \
    || { tail -30 "$work/build.log" >&2; exit 1; }
fi

arch=$(uname -m)
build=20990101
file="cpython-3.11.2+$build-$arch-unknown-linux-gnu-install_only_stripped.tar.gz"
/usr/bin/python3 - "$root/versions/3.11.2" "$work/pbs/$file" <<'EOF'
import io, os, sys, tarfile
prefix, out = sys.argv[1], sys.argv[2]
with tarfile.open(out, "w:gz", compresslevel=6) as tar:
    for dirpath, dirnames, filenames in os.walk(prefix):
        dirnames[:] = sorted(dirnames)
        rel = os.path.relpath(dirpath, prefix)
        # Bytecode as PBS ships it: one .pyc per module (strap's own build also has -O ones).
        files = sorted(n for n in filenames if not n.endswith((".opt-1.pyc", ".opt-2.pyc")))
        for name in files + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            path = os.path.join(dirpath, name)
            arc = os.path.normpath(os.path.join("python", rel, name))
            if rel == "." and name == "strap-receipt.json":
                continue
            info = tar.gettarinfo(path, arc)
            if info.isfile():
                data = open(path, "rb").read()
                if b"\0" not in data:
                    try:
                        text = data.decode().replace(prefix, "/install")
                        if name.startswith("_sysconfigdata_") and name.endswith(".py"):
                            text += "\nbuild_time_vars.update({'CC': 'clang -pthread', 'LDSHARED': 'clang -pthread -shared -fuse-ld=lld -L/tools/deps/lib'})\n"
                        data = text.encode()
                    except UnicodeDecodeError:
                        pass
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            else:
                tar.addfile(info)
EOF
sha=$(sha256sum "$work/pbs/$file" | cut -d' ' -f1)
size=$(du -h "$work/pbs/$file" | cut -f1)
printf 'version\tarch\tlibc\tvariant\tbuild\turl\tsha256\n3.11.2\t%s\tgnu\tdefault\t%s\tfile://%s\t%s\n' \
  "$arch" "$build" "$work/pbs/$file" "$sha" > "$work/pbs.tsv"
cat > "$work/uv.json" <<EOF
{"cpython-3.11.2-linux-$arch-gnu": {"name": "cpython", "arch": {"family": "$arch", "variant": null},
 "os": "linux", "libc": "gnu", "major": 3, "minor": 11, "patch": 2, "prerelease": "",
 "url": "file://$work/pbs/$file", "sha256": "$sha", "variant": null, "build": "$build"}}
EOF

/usr/bin/python3 -m venv "$work/uv-venv"
"$work/uv-venv/bin/pip" install --quiet uv
uv="$work/uv-venv/bin/uv"

seconds() { # runs a command quietly; prints its wall time in seconds, or its log tail and fails
  local start=$EPOCHREALTIME
  if ! "$@" >"$work/last.log" 2>&1; then
    echo "bench: $* failed:" >&2
    tail -30 "$work/last.log" >&2
    return 1
  fi
  python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$start" "$EPOCHREALTIME"
}
strap_run() {
  rm -rf "$work/s"
  "${clean_env[@]}" STRAP_ROOT="$work/s" STRAP_PREBUILT_CATALOG="$work/pbs.tsv" \
    STRAP_PLATFORM="$arch-linux-gnu" "$strap" install --prebuilt --offline \
    --prebuilt-mirror "file://$work/pbs/{file}" 3.11.2
}
uv_run() {
  rm -rf "$work/u"
  "${clean_env[@]}" UV_CACHE_DIR="$work/u/cache" UV_PYTHON_INSTALL_DIR="$work/u/pythons" \
    "$uv" python install 3.11.2 --python-downloads-json-url "$work/uv.json"
}

strap_times=() strap_verify=() strap_pack=() uv_times=()
for i in $(seq "$runs"); do
  strap_times+=("$(seconds strap_run)")
  grep -q "(prebuilt, python-build-standalone $build" "$work/last.log" \
    || { echo "bench: strap did not install the prebuilt archive" >&2; cat "$work/last.log" >&2; exit 1; }
  strap_verify+=("$(sed -n 's/^ *verify done in \([0-9.]*\)s$/\1/p' "$work/last.log")")
  strap_pack+=("$(sed -n 's/^ *pack done in \([0-9.]*\)s$/\1/p' "$work/last.log")")
  uv_times+=("$(seconds uv_run)")
done
python3 - "${strap_times[*]}" "${strap_verify[*]}" "${uv_times[*]}" "$size" "${strap_pack[*]}" <<'EOF'
import statistics, sys
strap, verify, uv, pack = ([float(x) for x in a.split()] for a in sys.argv[1:4] + sys.argv[5:6])
without = [s - v for s, v in zip(strap, verify)]
m = statistics.median
print(f"archive: {sys.argv[4]}; {len(strap)} alternating runs each, medians:")
print(f"strap install --prebuilt:            {m(strap):.2f}s  (runs: {' '.join(f'{x:.2f}' for x in strap)})")
print(f"  of which verify (modules, pip, C extension, at once): {m(verify):.2f}s")
print(f"  then the wait for its pack into the build cache (made while verifying): {m(pack):.2f}s")
print(f"strap without its verify phase:      {m(without):.2f}s")
print(f"uv python install:                   {m(uv):.2f}s  (runs: {' '.join(f'{x:.2f}' for x in uv)})")
print(f"ratio without verify: {m(without)/m(uv):.2f}x uv (target <= 1.0)")
print(f"ratio with verify:    {m(strap)/m(uv):.2f}x uv (target <= 1.5)")
EOF

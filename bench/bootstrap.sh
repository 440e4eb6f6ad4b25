#!/usr/bin/env bash
# Time the second `strap bootstrap` of a manifest whose items are all present (a Python, the
# global version, a virtualenv, a Boost build, a recipe), next to `strap version-name` as the
# floor. The Python is the system's interpreter installed as 3.11.2 (a link), the virtualenv is
# a real venv made by `strap bootstrap`'s first run, the Boost build a directory (the plan only
# looks for it), the recipe a file recipe whose check runs `grep`. Target: under 100 ms.
# Needs hyperfine. About a minute. Honours CARGO_TARGET_DIR.
#
#   bench/bootstrap.sh
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
command -v hyperfine >/dev/null || { echo "bench: hyperfine is needed (apt-get install hyperfine)" >&2; exit 1; }
target_dir=${CARGO_TARGET_DIR:-$here/target}
CARGO_TARGET_DIR="$target_dir" cargo build --release --quiet --manifest-path "$here/Cargo.toml"
strap="$target_dir/release/strap"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root="$work/root"
mkdir -p "$root/versions/3.11.2/bin" "$root/boost/1.81.0-py3.11/include" "$work/proj" "$work/home" "$work/sysroot"
ln -s "$(readlink -f /usr/bin/python3)" "$root/versions/3.11.2/bin/python3"
cat > "$work/proj/marker.toml" <<'RECIPE'
name = "marker"
description = "a marker file"

[[step]]
name = "marker"
check = "grep -qx done {{ sysroot }}/marker"
run = "echo done > {{ sysroot }}/marker"
RECIPE
cat > "$work/proj/strap.toml" <<'MANIFEST'
[python]
versions = ["3.11.2"]
global = "3.11.2"

[[virtualenv]]
name = "proj"
python = "3.11"

[[boost]]
version = "1.81.0"
python = "3.11"
with = ["python"]

[[recipe]]
path = "marker.toml"
MANIFEST

run() { (cd "$work/proj" && env -i HOME="$work/home" PATH=/usr/bin:/bin LANG=C.UTF-8 STRAP_ROOT="$root" "$@"); }
run "$strap" bootstrap --sysroot "$work/sysroot" >/dev/null 2>"$work/first.log" \
  || { cat "$work/first.log" >&2; exit 1; }
run "$strap" bootstrap --sysroot "$work/sysroot" >/dev/null 2>"$work/second.log"
grep -q "all 5 items are ok" "$work/second.log" || { cat "$work/second.log" >&2; exit 1; }

cd "$work/proj"
hyperfine --warmup 3 --runs 30 --export-json "$work/result.json" -N \
  "env -i HOME=$work/home PATH=/usr/bin:/bin STRAP_ROOT=$root $strap bootstrap --sysroot $work/sysroot" \
  "env -i HOME=$work/home PATH=/usr/bin:/bin STRAP_ROOT=$root $strap version-name" >/dev/null
python3 - "$work/result.json" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
bootstrap, floor = (r["mean"] * 1000 for r in results)
print(f"second strap bootstrap (5 items ok): {bootstrap:.1f} ms")
print(f"strap version-name (the floor):      {floor:.1f} ms")
print(f"target < 100 ms: {'met' if bootstrap < 100 else 'MISSED'}")
PY

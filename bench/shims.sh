#!/usr/bin/env bash
# Benchmark the version-selection fast paths against running the interpreter directly and
# against pyenv (when $PYENV_ROOT holds a pyenv installation). Prints the figures of one run.
#
#   bench/shims.sh            # needs hyperfine and a python3 in /usr/bin
#
# (a) `python3 -c pass` through a strap shim vs the interpreter run directly;
# (b) `strap version-name`;  (c) `strap rehash` of 12 versions, from an empty shims directory and
# in the steady state (one shim missing, as after an install; pyenv always rebuilds them all);
# (d) strap answering as `pyenv` on a pyenv root (its shim's overhead, `pyenv version-name`);
# the same with pyenv, as strap/pyenv ratios. Nothing touches the real ~/.pyenv: both tools
# run against temporary roots holding the same versions.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
command -v hyperfine >/dev/null || { echo "bench: hyperfine is needed (apt-get install hyperfine)" >&2; exit 1; }
python=$(readlink -f /usr/bin/python3)
pyenv_home=${PYENV_ROOT:-}

cargo build --release --quiet --manifest-path "$here/Cargo.toml"
strap="$here/target/release/strap"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/strap/versions" "$work/results"
ln -s ../strap/versions "$work/versions-link"

# 12 versions, each with the executables a CPython install has.
for minor in 2 3 4 5 6 7 8 9 10 11 12 13; do
  bin="$work/strap/versions/3.$minor.1/bin"
  mkdir -p "$bin"
  ln -s "$python" "$bin/python3"
  ln -s "$python" "$bin/python3.$minor"
  ln -s "$python" "$bin/python"
  ln -s "$(readlink -f /bin/true)" "$bin/noop"   # isolates the shim's own cost
  for tool in pip pip3 "pip3.$minor" idle3 "idle3.$minor" pydoc3 "pydoc3.$minor" 2to3 "2to3-3.$minor" \
              "python3.$minor-config" python3-config; do
    printf '#!/bin/sh\nexit 0\n' > "$bin/$tool"
    chmod +x "$bin/$tool"
  done
done
echo "3.11.1" > "$work/strap/version"

# Run everything from a clean environment: no PYENV_* or STRAP_* from this machine.
clean_env=(env -i HOME="$work" PATH="/usr/bin:/bin" LANG=C.UTF-8)
STRAP_ENV=(STRAP_ROOT="$work/strap" PATH="$work/strap/shims:/usr/bin:/bin")
hf() { # result name, run count, then the command and its hyperfine options; runs in $tool_env
  local name=$1 runs=$2; shift 2
  "${clean_env[@]}" "${tool_env[@]}" hyperfine --style none -N --warmup 10 --runs "$runs" \
    --export-json "$work/results/$name.json" "$@" >/dev/null 2>&1
}

tool_env=("${STRAP_ENV[@]}")
"${clean_env[@]}" "${tool_env[@]}" "$strap" rehash 2>/dev/null
mkdir -p "$work/cwd" && cd "$work/cwd"

# Alternate short batches so that drifting machine load hits both sides alike.
for round in $(seq 10); do
  hf "direct.$round" 50 "$python -c pass"
  hf "strap_shim.$round" 50 "$work/strap/shims/python3 -c pass"
done
hf direct_noop 1000 "$(readlink -f /bin/true)"
hf strap_noop 1000 "$work/strap/shims/noop"
hf strap_version_name 300 "$strap version-name"
hf strap_rehash 100 --prepare "rm -rf $work/strap/shims" "$strap rehash"
hf strap_rehash_steady 100 --prepare "rm -f $work/strap/shims/noop" "$strap rehash"

# strap answering as pyenv (a `pyenv` link to it) on a pyenv root of the same versions: its shims
# read PYENV_VERSION there, and `pyenv version-name` is strap's.
mkdir -p "$work/as-pyenv/bin" "$work/as-pyenv/root"
ln -s "$strap" "$work/as-pyenv/bin/pyenv"
ln -s "$work/strap/versions" "$work/as-pyenv/root/versions"
echo "3.11.1" > "$work/as-pyenv/root/version"
tool_env=(PYENV_ROOT="$work/as-pyenv/root" PATH="$work/as-pyenv/root/shims:/usr/bin:/bin")
"${clean_env[@]}" "${tool_env[@]}" "$work/as-pyenv/bin/pyenv" rehash
hf as_pyenv_noop 1000 "$work/as-pyenv/root/shims/noop"
hf as_pyenv_version_name 300 "$work/as-pyenv/bin/pyenv version-name"

have_pyenv=0
if [ -n "$pyenv_home" ] && [ -x "$pyenv_home/libexec/pyenv" ]; then
  have_pyenv=1
  mkdir -p "$work/pyenv"
  ln -s "$work/strap/versions" "$work/pyenv/versions"
  echo "3.11.1" > "$work/pyenv/version"
  tool_env=(PYENV_ROOT="$work/pyenv" PATH="$work/pyenv/shims:$pyenv_home/bin:/usr/bin:/bin")
  "${clean_env[@]}" "${tool_env[@]}" "$pyenv_home/libexec/pyenv" rehash
  hf pyenv_shim 100 "$work/pyenv/shims/python3 -c pass"
  hf pyenv_noop 100 "$work/pyenv/shims/noop"
  hf pyenv_version_name 100 "$pyenv_home/libexec/pyenv version-name"
  hf pyenv_rehash 20 --prepare "rm -rf $work/pyenv/shims" "$pyenv_home/libexec/pyenv rehash"
fi

shim_count=$(find "$work/strap/shims" -mindepth 1 -maxdepth 1 | wc -l)
python3 - "$work/results" "$have_pyenv" "$shim_count" <<'PY'
import json, pathlib, statistics, sys
results, have_pyenv, shim_count = pathlib.Path(sys.argv[1]), sys.argv[2] == "1", sys.argv[3]
def median_ms(name):
    times = [t for f in sorted(results.glob(f"{name}.json")) + sorted(results.glob(f"{name}.*.json"))
             for t in json.loads(f.read_text())["results"][0]["times"]]
    return statistics.median(times) * 1000
d, s = median_ms("direct"), median_ms("strap_shim")
dn, sn = median_ms("direct_noop"), median_ms("strap_noop")
print(f"(a) python3 -c pass: direct {d:.2f} ms, through strap shim {s:.2f} ms -> ratio {s/d:.3f}")
print(f"    shim cost alone (`true` direct vs through a shim): {dn:.3f} ms vs {sn:.3f} ms "
      f"-> overhead {sn-dn:.3f} ms")
vn, rh = median_ms("strap_version_name"), median_ms("strap_rehash")
print(f"(b) strap version-name: {vn:.2f} ms")
rs = median_ms("strap_rehash_steady")
print(f"(c) strap rehash (12 versions, {shim_count} shims): from scratch {rh:.2f} ms, steady state {rs:.2f} ms")
an, av = median_ms("as_pyenv_noop"), median_ms("as_pyenv_version_name")
print(f"(d) strap as pyenv, on a pyenv root: shim overhead {an-dn:.3f} ms, `pyenv version-name` {av:.2f} ms")
if have_pyenv:
    ps, pv, pr = median_ms("pyenv_shim"), median_ms("pyenv_version_name"), median_ms("pyenv_rehash")
    pn = median_ms("pyenv_noop")
    print(f"pyenv: python3 -c pass through its shim {ps:.2f} ms (ratio to direct {ps/d:.2f}), "
          f"shim overhead {pn-dn:.2f} ms, version-name {pv:.2f} ms, rehash {pr:.2f} ms")
    print(f"strap/pyenv: (a) whole run {s/ps:.3f}, shim overhead {(sn-dn)/(pn-dn):.4f} "
          f"({(pn-dn)/(sn-dn):.0f}x less); (b) {vn/pv:.3f} ({pv/vn:.0f}x faster); "
          f"(c) from scratch {rh/pr:.3f} ({pr/rh:.0f}x faster), steady state {rs/pr:.3f} ({pr/rs:.0f}x faster); "
          f"(d) `pyenv version-name` answered by strap {av/pv:.3f} ({pv/av:.0f}x faster)")
else:
    print("pyenv: not found at $PYENV_ROOT, no comparison")
PY

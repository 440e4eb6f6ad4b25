#!/usr/bin/env bash
# Time installing CPython 3.11.2 three ways on this machine: a source build (`strap install
# --no-binary 3.11.2` from a loopback mirror serving ../shared/fixtures/Python-3.11.2.tgz, which
# also packs the result into <root>/cache/builds), a reinstall from that local build cache
# (`strap uninstall -f` then `strap install`), and a `--binary-only` install into a fresh root
# (empty cache) from binary mirrors the build was pushed to: a loopback OCI registry (Debian's
# docker-registry) and a file:// directory. Also times the pushes. Prints one run: seconds, the
# source/binary ratios, and the pack's size. The issue's target: <= 5 s from either cache and
# >= 20x faster than the source build.
# Takes ~4-8 minutes on 2 cores (nearly all of it the source build), plus building strap in
# release mode; ~15 s with BENCH_ROOT.
# BENCH_ROOT=DIR reuses a strap root that already holds a strap-built 3.11.2: the source build is
# then not run (nor timed) unless BENCH_SOURCE_SECONDS gives its figure; the root's 3.11.2 is
# uninstalled and reinstalled from its build cache (packed first if the cache lacks it).
# Honours CARGO_TARGET_DIR (default: the repo's target/).
#
#   bench/binary.sh [FIXTURES_DIR]
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
fixtures=$(cd "${1:-${STRAP_FIXTURES:-$here/../shared/fixtures}}" && pwd)
archive="$fixtures/Python-3.11.2.tgz"
[ -f "$archive" ] || { echo "bench: $archive not found" >&2; exit 1; }
jobs=$(nproc)
registry_bin=${DOCKER_REGISTRY:-/usr/bin/docker-registry}
[ -x "$registry_bin" ] || { echo "bench: $registry_bin not found (apt install docker-registry)" >&2; exit 1; }

target_dir=${CARGO_TARGET_DIR:-$here/target}
case $target_dir in /*) ;; *) target_dir="$PWD/$target_dir" ;; esac
CARGO_TARGET_DIR="$target_dir" cargo build --release --quiet --manifest-path "$here/Cargo.toml"
strap="$target_dir/release/strap"

work=$(mktemp -d)
cleanup() {
  [ -n "${server:-}" ] && kill "$server" 2>/dev/null
  [ -n "${registry:-}" ] && kill "$registry" 2>/dev/null
  wait 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_http() { # url: waits up to 10 s for it to answer (any HTTP status)
  python3 - "$1" <<'EOF'
import sys, time, urllib.request, urllib.error
for _ in range(100):
    try:
        urllib.request.urlopen(sys.argv[1], timeout=1)
        sys.exit(0)
    except urllib.error.HTTPError:
        sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit(f"bench: {sys.argv[1]} does not answer")
EOF
}

# The source mirror, in strap's {version}/{file} layout.
mkdir -p "$work/mirror/3.11.2"
ln -s "$archive" "$work/mirror/3.11.2/Python-3.11.2.tgz"
port=$(free_port)
python3 -m http.server --bind 127.0.0.1 "$port" --directory "$work/mirror" >/dev/null 2>&1 &
server=$!
mirror="http://127.0.0.1:$port/{version}/{file}"

# The loopback OCI registry.
reg_port=$(free_port)
mkdir -p "$work/registry"
cat >"$work/registry.yml" <<EOF
version: 0.1
storage:
  filesystem:
    rootdirectory: $work/registry
http:
  addr: 127.0.0.1:$reg_port
EOF
"$registry_bin" serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
registry=$!
wait_http "http://127.0.0.1:$port/"
wait_http "http://127.0.0.1:$reg_port/v2/"
oci="oci://127.0.0.1:$reg_port/strap/builds"
filemirror="file://$work/file-mirror"

mkdir -p "$work/home"
clean_env=(env -i HOME="$work/home" PATH="/usr/local/bin:/usr/bin:/bin" LANG=C.UTF-8 STRAP_JOBS="$jobs")

now() { date +%s.%N; }
seconds() { # name command...: runs it quietly (stdout to $work/name.out, stderr to $work/name.err);
  # prints its wall time in seconds, or the tail of its output and fails
  local name=$1 start end
  shift
  start=$(now)
  if ! "$@" >"$work/$name.out" 2>"$work/$name.err"; then
    echo "bench: $name ($*) failed:" >&2
    tail -30 "$work/$name.out" "$work/$name.err" >&2
    return 1
  fi
  end=$(now)
  awk -v s="$start" -v e="$end" 'BEGIN { printf "%.1f\n", e - s }'
}
expect_stderr() { # name text: fails unless the step's stderr says text
  if ! grep -qF "$2" "$work/$1.err"; then
    echo "bench: $1: stderr does not contain '$2':" >&2
    tail -30 "$work/$1.err" >&2
    return 1
  fi
}
phases() { grep -E 'done in' "$work/$1.out" "$work/$1.err" 2>/dev/null | sed 's/^[^:]*://' | tr -s ' ' | tr '\n' ';' || true; }

root="${BENCH_ROOT:-$work/strap}"
in_root() { "${clean_env[@]}" STRAP_ROOT="$root" "$strap" "$@"; }
fresh() { # dir command...: in a fresh root with an empty cache (<dir>/cache)
  local dir=$1
  shift
  rm -rf "$dir"
  "${clean_env[@]}" STRAP_ROOT="$dir" "$strap" "$@"
}

# 1. The source build (also packs into <root>/cache/builds).
source_time=""
source_note=""
if [ -n "${BENCH_ROOT:-}" ] && [ -x "$root/versions/3.11.2/bin/python3.11" ]; then
  if [ -n "${BENCH_SOURCE_SECONDS:-}" ]; then
    source_time=$BENCH_SOURCE_SECONDS
    source_note="(from BENCH_SOURCE_SECONDS, not measured in this run)"
  fi
else
  source_time=$(seconds source in_root install --no-binary --mirror "$mirror" 3.11.2)
  source_note="(phases:$(phases source))"
fi
if ! compgen -G "$root/cache/builds/python-3.11.2-*.tar.zst" >/dev/null; then
  if [ -n "${BENCH_ROOT:-}" ]; then
    echo "bench: $root/cache/builds holds no pack of 3.11.2: packing it there first" >&2
    mkdir -p "$root/cache/builds"
    (cd "$root/cache/builds" && in_root pack 3.11.2 >"$work/pack.log" 2>&1) || { cat "$work/pack.log" >&2; exit 1; }
  else
    echo "bench: the source build left no python-3.11.2-*.tar.zst in $root/cache/builds:" >&2
    ls -la "$root/cache" "$root/cache/builds" >&2 || true
    exit 1
  fi
fi
pack_size=$(du -h "$root"/cache/builds/python-3.11.2-*.tar.zst | sed "s|$root/||" | tr '\t\n' ' ;')

# 2. The local build cache.
if ! in_root uninstall -f 3.11.2 >"$work/uninstall.log" 2>&1; then
  echo "bench: strap uninstall -f 3.11.2 failed:" >&2
  cat "$work/uninstall.log" >&2
  exit 1
fi
cache_time=$(seconds cache in_root install --mirror "$mirror" 3.11.2)
expect_stderr cache "from the build cache"
cache_phases=$(phases cache)

# 3. The pushes, then --binary-only installs into fresh roots.
push_oci_time=$(seconds push-oci in_root push 3.11.2 --to "$oci")
push_file_time=$(seconds push-file in_root push 3.11.2 --to "$filemirror")

oci_time=$(seconds oci fresh "$work/fresh-oci" install --binary-only --binary-mirror "$oci" --mirror "$mirror" 3.11.2)
expect_stderr oci "from oci://"
oci_phases=$(phases oci)
file_time=$(seconds file fresh "$work/fresh-file" install --binary-only --binary-mirror "$filemirror" --mirror "$mirror" 3.11.2)
file_phases=$(phases file)

# 4. The summary.
echo "CPython 3.11.2 on $(nproc) CPUs ($(uname -m)); pack: $pack_size"
if [ -n "$source_time" ]; then
  echo "source build (--no-binary):        ${source_time}s  $source_note"
else
  echo "source build: not run (BENCH_ROOT reused)"
fi
echo "from the local build cache:        ${cache_time}s  (phases:$cache_phases)"
echo "push to the loopback registry:     ${push_oci_time}s"
echo "push to a file:// directory:       ${push_file_time}s"
echo "from the loopback registry (oci):  ${oci_time}s  (fresh root; phases:$oci_phases)"
echo "from a file:// directory mirror:   ${file_time}s  (fresh root; phases:$file_phases)"
awk -v s="$source_time" -v c="$cache_time" -v o="$oci_time" -v f="$file_time" 'BEGIN {
  worst = c; if (o > worst) worst = o; if (f > worst) worst = f
  if (s == "") {
    print "ratios: n/a (no source build figure)"
    printf "target <= 5 s from either cache: %s (slowest %.1fs)\n", worst <= 5 ? "met" : "MISSED", worst
    exit
  }
  printf "source/cache %.1fx, source/registry %.1fx, source/file %.1fx\n", s / c, s / o, s / f
  met = worst <= 5 && s / worst >= 20
  printf "target <= 5 s and >= 20x from either cache: %s (slowest %.1fs, %.1fx)\n", met ? "met" : "MISSED", worst, s / worst
}'

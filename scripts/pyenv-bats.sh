#!/usr/bin/env bash
# Runs pyenv's own bats test suite against strap started as `pyenv`.
#
# The harness copies the suite (default: $PYENV_ROOT/test, or ~/.pyenv/test) next to a `libexec/`
# holding `pyenv` (a link to the strap binary) and one `pyenv-<command>` wrapper per command strap
# answers as pyenv (`pyenv commands`), each exec'ing `pyenv <command>`: the layout pyenv's
# test_helper expects. Without bats or the suite it says why and exits 0.
#
# Usage: scripts/pyenv-bats.sh [BATS OPTIONS...]   (e.g. --filter 'version-name')
# Exit status: 0 when every failing test is listed in scripts/pyenv-bats.expected-failures.
# Env:   PYENV_BATS_FILES (test files to run, e.g. "which.bats exec.bats"; default all),
#        STRAP_BIN (default: builds target/debug/strap), PYENV_TEST_SUITE (the suite directory),
#        PYENV_BATS_DIR (where to build the harness; default target/pyenv-bats).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
suite=${PYENV_TEST_SUITE:-${PYENV_ROOT:-$HOME/.pyenv}/test}
if ! command -v bats >/dev/null; then
  echo "pyenv-bats: skipped: bats is not installed (Debian: apt-get install bats)"
  exit 0
fi
if [ ! -f "$suite/test_helper.bash" ]; then
  echo "pyenv-bats: skipped: pyenv's test suite is not at $suite (set PYENV_TEST_SUITE)"
  exit 0
fi

target=${CARGO_TARGET_DIR:-$repo/target}
case $target in /*) ;; *) target=$repo/$target ;; esac
if [ -z "${STRAP_BIN:-}" ]; then
  cargo build --quiet --manifest-path "$repo/Cargo.toml" --bins
  STRAP_BIN=$target/debug/strap
fi
harness=${PYENV_BATS_DIR:-$target/pyenv-bats}

rm -rf "$harness"
mkdir -p "$harness/libexec"
cp -R "$suite" "$harness/test"
ln -s "$STRAP_BIN" "$harness/libexec/pyenv"
# Only strap's own commands: no plugins, no other pyenv-* on PATH.
own_commands() { env PATH=/nonexistent PYENV_ROOT=/nonexistent "$harness/libexec/pyenv" commands "$@"; }
wrap() { # FILE COMMAND: a pyenv-<command> script that runs `pyenv COMMAND`
  printf '#!/bin/sh\nexec "${0%%/*}/pyenv" %s "$@"\n' "$2" >"$harness/libexec/$1"
  chmod +x "$harness/libexec/$1"
}
for command in $(own_commands --no-sh); do wrap "pyenv-$command" "$command"; done
for command in $(own_commands --sh); do wrap "pyenv-sh-$command" "sh-$command"; done
# pyenv's hook directory: strap has no hooks (its pip rehash is built in), so it is empty.
mkdir -p "$harness/pyenv.d"

cd "$harness"
# pyenv's own settings must not leak into the suite (its test_helper clears only some).
unset PYENV_VERSION PYENV_DIR PYENV_SHELL PYENV_HOOK_PATH PYENV_DEBUG
files=()
for file in ${PYENV_BATS_FILES:-}; do files+=("test/$file"); done
[ ${#files[@]} -gt 0 ] || files=(test)
results=$harness/results.tap
status=0
bats --tap "$@" "${files[@]}" >"$results" 2>&1 || status=$?
# The failures with their diagnostics (the whole report stays in $results).
grep -v "^ok " "$results" || true

# Compare with the expected failures (see that file for why each is expected).
python3 - "$results" "$repo/scripts/pyenv-bats.expected-failures" "$status" <<'PY'
import collections, re, sys
results, expected_file, status = open(sys.argv[1]).read().splitlines(), sys.argv[2], int(sys.argv[3])
expected = {}
allowed = collections.Counter()
for line in open(expected_file):
    if line.strip() and not line.startswith("#"):
        category, name = line.rstrip("\n").split("\t", 1)
        expected[name] = category
        allowed[name] += 1
passed, failed = [], []
for line in results:
    m = re.match(r"(not ok|ok) \d+ (.*?)( # skip.*)?$", line)
    if m:
        (failed if m.group(1) == "not ok" else passed).append(m.group(2))
total = len(passed) + len(failed)
if total == 0:
    print(f"pyenv-bats: no test ran (bats exit status {status})")
    sys.exit(1)
failing = collections.Counter(failed)
unexpected = sorted(n for n, c in failing.items() if c > allowed[n])
now_pass = sorted(n for n in allowed if failing[n] < allowed[n])
by_category = collections.Counter()
for n in failed:
    if n in expected:
        by_category[expected[n]] += 1
print(f"pyenv-bats: {len(passed)} of {total} of pyenv's tests pass; expected failures: "
      + ", ".join(f"{c} {k}" for k, c in sorted(by_category.items())))
for n in now_pass:
    print(f"pyenv-bats: listed as expected to fail but passes (at least once): {n}")
for n in unexpected:
    print(f"pyenv-bats: UNEXPECTED FAILURE: {n}")
sys.exit(1 if unexpected else 0)
PY

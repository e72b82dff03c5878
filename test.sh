#!/usr/bin/env bash
# Installs what the tests need and runs every test: the snippet's (node --test) and the C# suite (dotnet test).
# Ends with one line, "N passed, N failed, N skipped", summed over both; exits non-zero if anything failed.
set -uo pipefail
cd "$(dirname "$0")"

log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT
status=0

echo "== npm ci"
npm ci --no-audit --no-fund || exit 1

echo "== JavaScript: node --test (client/)"
npm test 2>&1 | tee "$log/node.txt"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1

echo "== C#: dotnet test"
dotnet test CapiMiddleware.sln --nologo 2>&1 | tee "$log/dotnet.txt"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1

# Smoke runs, not test runners: each benchmark and load harness once, so that a broken one fails the script. Their
# output stays out of the counts below; only the lines matching $3 are shown, or all of it when the run fails. The
# figures come from the documented commands (docs/performance.md).
smoke() {
  local what=$1 out="$log/$2" shown=$3
  shift 3
  if "$@" > "$out" 2>&1; then
    grep -E "$shown" "$out" || true
  else
    cat "$out"
    echo "The $what smoke run failed." >&2
    status=1
  fi
}

echo "== Benchmarks: one dry run of each, in process (no per-job build)"
smoke benchmark benchmarks.txt '^\| ' \
  dotnet run -c Release --project tests/CapiMiddleware.Benchmarks -- --job dry --inProcess --filter '*'

echo "== Load harnesses: one smoke run of each, a second or two each"
smoke "load harness" harness.txt '^RESULT' \
  dotnet run -c Release --no-build --project tests/CapiMiddleware.Benchmarks -- harness --smoke

# node --test ends with "# pass N", "# fail N", "# skipped N"; dotnet test prints, per test assembly,
# "Passed!  - Failed: N, Passed: N, Skipped: N, Total: N" (or "Failed!  - ...").
node_count() { sed -n "s/^# $1 \([0-9]*\)$/\1/p" "$log/node.txt" | awk '{s+=$1} END {print s+0}'; }
dotnet_count() { grep -E '^(Passed|Failed)!' "$log/dotnet.txt" | sed -n "s/.*$1: *\([0-9]*\).*/\1/p" | awk '{s+=$1} END {print s+0}'; }

passed=$(( $(node_count pass) + $(dotnet_count Passed) ))
failed=$(( $(node_count fail) + $(dotnet_count Failed) ))
skipped=$(( $(node_count skipped) + $(dotnet_count Skipped) ))

if [ "$passed" -eq 0 ]; then
  echo "No test ran." >&2
  status=1
fi
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  # A runner failed without reporting a failed test (a build error, a crashed test host): count it.
  failed=1
fi

echo "$passed passed, $failed failed, $skipped skipped"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]

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

# A smoke run, not a test runner: every benchmark once, in process (no per-job build), so a broken benchmark fails
# the script. Its output stays out of the counts below. The figures come from the default job (docs/performance.md).
echo "== Benchmarks: one dry run of each (smoke)"
dotnet run -c Release --project tests/CapiMiddleware.Benchmarks -- --job dry --inProcess --filter '*' \
  > "$log/benchmarks.txt" 2>&1
if [ $? -eq 0 ]; then
  grep -E '^\| ' "$log/benchmarks.txt" || true
else
  cat "$log/benchmarks.txt"
  echo "The benchmark smoke run failed." >&2
  status=1
fi

# The same for the load harnesses (docs/performance.md): each for a second or two, so they keep compiling and running.
echo "== Load harnesses: one smoke run of each"
dotnet run -c Release --no-build --project tests/CapiMiddleware.Benchmarks -- harness --smoke > "$log/harness.txt" 2>&1
if [ $? -eq 0 ]; then
  grep -E '^RESULT' "$log/harness.txt" || true
else
  cat "$log/harness.txt"
  echo "The load harness smoke run failed." >&2
  status=1
fi

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

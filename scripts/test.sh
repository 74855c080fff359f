#!/usr/bin/env bash
# Runs every test of the project and ends with one line "N passed, N failed":
#   cargo test (core against the emulator, the C ABI through dlopen, the bindings check),
#   dotnet test (the built module in the hosted PowerShell engine against the emulator,
#   and a parse of every .ps1 with the real PowerShell parser).
#   the C ABI tests again under valgrind (leak check), when valgrind is installed; it counts
#   as one test.
# Pester (Pester/) needs pwsh: run ./build.ps1 -Task Test where pwsh exists.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
logs=$(mktemp -d)
status=0

bash scripts/build.sh || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }

echo "==> cargo test"
# The C ABI tests dlopen the debug cdylib, which `cargo test` alone does not produce.
cargo build --locked -p rds_sessions
cargo test --workspace --locked --no-fail-fast 2>&1 | tee "$logs/cargo.log"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1

echo "==> valgrind (leak check of the C ABI tests)"
leak_passed=0
leak_failed=0
if command -v valgrind >/dev/null 2>&1; then
  if bash scripts/valgrind.sh > "$logs/valgrind.log" 2>&1; then
    leak_passed=1
  else
    leak_failed=1
    status=1
  fi
  grep -E "definitely lost|ERROR SUMMARY|test result" "$logs/valgrind.log" | sed 's/^==[0-9]*== //'
else
  echo "valgrind is not installed; leak check skipped (Debian: apt-get install valgrind)"
fi

echo "==> dotnet test"
dotnet test module/tests/RdsSessions.Tests -c Release --nologo 2>&1 | tee "$logs/dotnet.log"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1

cargo_passed=$(grep -Eo 'test result: [a-zA-Z]+\. [0-9]+ passed' "$logs/cargo.log" | grep -Eo '[0-9]+ passed' | awk '{s+=$1} END {print s+0}')
cargo_failed=$(grep -Eo '; [0-9]+ failed' "$logs/cargo.log" | grep -Eo '[0-9]+' | awk '{s+=$1} END {print s+0}')
dotnet_passed=$(grep -Eo 'Passed: +[0-9]+' "$logs/dotnet.log" | grep -Eo '[0-9]+' | awk '{s+=$1} END {print s+0}')
dotnet_failed=$(grep -Eo 'Failed: +[0-9]+' "$logs/dotnet.log" | grep -Eo '[0-9]+' | awk '{s+=$1} END {print s+0}')
passed=$((cargo_passed + dotnet_passed + leak_passed))
failed=$((cargo_failed + dotnet_failed + leak_failed))
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  failed=1 # a runner failed without reporting a failed test (build or crash)
fi
echo "cargo: $cargo_passed passed, $cargo_failed failed; valgrind: $leak_passed passed, $leak_failed failed; dotnet: $dotnet_passed passed, $dotnet_failed failed"
echo "$passed passed, $failed failed"
exit "$status"

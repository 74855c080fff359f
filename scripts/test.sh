#!/usr/bin/env bash
# Runs every test of the project and ends with one line "N passed, N failed" that counts them
# all. The set is ./build.ps1 -Task Test (its help lists it): the build, cargo fmt and clippy,
# cargo test, the valgrind leak check, dotnet test (the hosted engine) and the Pester suites in
# real pwsh. pwsh and Pester are installed into ~/.cache/rdssessions when missing
# (tools/install-toolchain.sh); a pwsh 7.4+ and a Pester 5 you already have are used as they are.
#   bash scripts/test.sh [build.ps1 parameters, e.g. -NoBuild]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck source=scripts/lib.sh
. "$root/scripts/lib.sh"
if ! use_toolchain; then
  echo "test: installing the PowerShell toolchain failed (see above)"
  echo "0 passed, 1 failed"
  exit 1
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
run_build_ps1 -Task Test "$@" | tee "$log"
status=${PIPESTATUS[0]}
set -e
if ! tail -n 1 "$log" | grep -Eq '^[0-9]+ passed, [0-9]+ failed$'; then
  # build.ps1 ended before its summary (a crash, a bad parameter): still end with a count.
  echo "test: ./build.ps1 -Task Test ended without its summary (exit code $status)"
  echo "0 passed, 1 failed"
  [ "$status" -ne 0 ] || status=1
fi
exit "$status"

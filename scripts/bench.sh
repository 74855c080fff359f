#!/usr/bin/env bash
# Runs the benchmark: the real cmdlets in the hosted PowerShell engine against the broker
# emulator (bulk logoff throughput by -ThrottleLimit and latency, per-call overhead,
# Import-Module time, memory). Prints the tables and writes bench-results/latest.json,
# latest.md and throughput.svg (with --quick: smaller N, written to bench-results/quick/).
#   bash scripts/bench.sh            # full run, a few minutes on 2 cores
#   bash scripts/bench.sh --quick    # smaller N, well under a minute
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash scripts/build.sh
echo "==> benchmark (dotnet run -c Release)"
exec dotnet run -c Release --project module/bench/RdsSessions.Benchmark -- "$@"

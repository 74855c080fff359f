#!/usr/bin/env bash
# Runs the benchmark: the real cmdlets in the hosted PowerShell engine against the broker
# emulator (bulk logoff throughput by -ThrottleLimit and latency, per-call overhead,
# Import-Module time, memory; then the ARM flavour: paced and unpaced bulk logoff against
# ARM's token buckets, one at a time, 10,000 sessions, script shapes). Prints the tables and
# writes bench-results/latest.json, latest.md and throughput.svg (with --quick: smaller N,
# written to bench-results/quick/).
#   bash scripts/bench.sh              # full run, about 6 minutes on 2 cores
#   bash scripts/bench.sh --quick      # smaller N, about 75 s
#   bash scripts/bench.sh --arm-only   # the ARM section alone (about 4.5 minutes), merged into latest.*
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash scripts/build.sh
echo "==> benchmark (dotnet run -c Release)"
exec dotnet run -c Release --project module/bench/RdsSessions.Benchmark -- "$@"

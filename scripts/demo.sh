#!/usr/bin/env bash
# The main job against the embedded broker emulator, in real pwsh, no Azure account needed:
# builds (quietly; the log is shown when it fails), starts the emulator with its sample data and
# runs demo/demo.ps1 in pwsh, which shows each command as you would type it and what pwsh shows
# for it: the sessions, a pipeline of Disconnected sessions into Invoke-RdsUserSessionLogoff, a
# refused logoff on an unreachable host and the same with -Force, and the sessions again.
# pwsh is installed into ~/.cache/rdssessions when missing (tools/install-toolchain.sh).
#   bash scripts/demo.sh --arm   the ARM variant: the same classic-style script
#                                (demo/nightly-logoff.ps1) unchanged against the emulator's Azure
#                                Resource Manager flavour, with only a mapping file added
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck source=scripts/lib.sh
. "$root/scripts/lib.sh"
use_toolchain || { echo "demo: installing pwsh failed (see above)" >&2; exit 1; }

log=$(mktemp)
trap 'rm -f "$log"' EXIT
echo "Building (a few minutes the first time)..."
if ! run_build_ps1 -Task Build > "$log" 2>&1; then
  tail -n 40 "$log" >&2
  echo "demo: the build failed; the end of its output is above (all of it: bash scripts/build.sh)" >&2
  exit 1
fi
demo_arguments=()
for argument in "$@"; do
  case "$argument" in
    --arm) demo_arguments+=(-Arm) ;;
    *) echo "demo: unknown argument '$argument' (the one option is --arm)" >&2; exit 2 ;;
  esac
done
run_build_ps1 -Task Demo -NoBuild "${demo_arguments[@]}"

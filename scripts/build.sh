#!/usr/bin/env bash
# Builds everything the module and its tests need: ./build.ps1 -Task Build in pwsh (installed
# into ~/.cache/rdssessions by tools/install-toolchain.sh when missing). One cargo invocation
# builds the native library, the emulator and the binding generator (release); the committed C#
# bindings are checked against the Rust FFI surface; dotnet lays the module out at
# out/RdsSessions/<version>/. A second run with nothing changed compiles nothing.
#   bash scripts/build.sh [build.ps1 parameters, e.g. -Configuration Debug]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck source=scripts/lib.sh
. "$root/scripts/lib.sh"
use_toolchain || { echo "build: installing pwsh failed (see above)" >&2; exit 1; }
run_build_ps1 -Task Build "$@"

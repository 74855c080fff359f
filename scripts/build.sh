#!/usr/bin/env bash
# Builds everything the module and its tests need, on a machine with the .NET SDK and Rust
# (no pwsh needed): the native library and the emulator (cargo, release), a check that the
# committed C# bindings match the Rust FFI surface, and the module laid out at
# out/RdsSessions/<version>/.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
if [ -x ../shared/cargo-offline.sh ] || [ -f ../shared/cargo-offline.sh ]; then
  bash ../shared/cargo-offline.sh >/dev/null
fi
echo "==> cargo build --release (native library, emulator)"
cargo build --release --locked -p rds_sessions -p rds-emulator
echo "==> bindings check"
cargo run --quiet --locked -p rds-bindgen -- --check
echo "==> dotnet build (module layout)"
dotnet build module/src/RdsSessions -c Release --nologo -v quiet

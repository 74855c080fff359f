#!/usr/bin/env bash
# The main job against the embedded emulator, no Azure account and no pwsh needed:
# builds, starts the broker emulator with the sample data, imports the built module into the
# real PowerShell engine and logs sessions off through a pipeline, showing the emulator's
# sessions before and after.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash scripts/build.sh >/dev/null 2>&1 || { echo "build failed; run bash scripts/build.sh to see why" >&2; exit 1; }
dotnet build module/tools/RdsSessions.ScriptHost -c Release --nologo -v quiet >/dev/null
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)

coproc EMULATOR { exec target/release/rds-emulator --data rust/emulator/data/sample.json --port 0 --exit-on-stdin-eof 2>/dev/null; }
trap 'exec {EMULATOR[1]}>&- 2>/dev/null || true; wait 2>/dev/null || true' EXIT
read -r -t 30 ready <&"${EMULATOR[0]}"
url=${ready##* }
dotnet module/tools/RdsSessions.ScriptHost/bin/Release/net10.0/RdsSessions.ScriptHost.dll demo/demo.ps1 \
  -EmulatorUrl "$url" -ManifestPath "$root/out/RdsSessions/$version/RdsSessions.psd1"

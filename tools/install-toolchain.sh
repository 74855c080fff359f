#!/usr/bin/env bash
# Installs the PowerShell toolchain the project's scripts need, and prints where it is:
#
#   pwsh    the user's own pwsh when it is at least pwshMinimumVersion, otherwise PowerShell
#           pwshVersion as a .NET tool in the cache (`dotnet tool install PowerShell`).
#   Pester  a Pester 5 that pwsh already finds in its module path when it is at least
#           pesterMinimumVersion, otherwise Pester pesterVersion from the NuGet registry (a
#           PackageDownload restore), laid out in the cache as modules/Pester/<version>/.
#
# Versions: tools/toolchain.json (the only place they are pinned). Nothing outside the cache is
# changed: a pwsh or Pester the user has is used as it is, never updated or removed.
#
#   bash tools/install-toolchain.sh            install what is missing; print the variables below
#   eval "$(bash tools/install-toolchain.sh)"  ... and set them in this shell
#   bash tools/install-toolchain.sh --plain    the same, unquoted (for PowerShell callers)
#
# Prints, on stdout, shell assignments (quoted for eval) and nothing else:
#   RDSSESSIONS_PWSH=<pwsh executable>  RDSSESSIONS_PESTER=<Pester.psd1>  DOTNET_ROOT=<.NET root>
# Progress and errors go to stderr. Idempotent: when everything is there it only starts pwsh once
# (about a second) to ask for its version and its Pester.
#
# Environment:
#   RDSSESSIONS_TOOLCHAIN_DIR  the cache (default: $XDG_CACHE_HOME/rdssessions, else ~/.cache/rdssessions)
#   RDSSESSIONS_PWSH           use this pwsh (fails unless it is new enough) instead of looking for one
set -euo pipefail

format=shell
case "${1:-}" in
  "") ;;
  --plain) format=plain ;; # unquoted KEY=value lines, for callers that are not shells (build.ps1)
  *) printf 'usage: bash tools/install-toolchain.sh [--plain]\n' >&2; exit 2 ;;
esac

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
manifest="$here/toolchain.json"

say() { printf 'install-toolchain: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

# The value of "key": "value" in toolchain.json (one pair per line, by design of that file).
toolchain_value() {
  local value
  value=$(sed -n "s/^[[:space:]]*\"$1\"[[:space:]]*:[[:space:]]*\"\([^\"]*\)\".*/\1/p" "$manifest" | head -n 1)
  [ -n "$value" ] || die "no \"$1\" in $manifest"
  printf '%s' "$value"
}

# True when version $1 >= version $2 (dotted numbers; sort -V knows them).
version_at_least() {
  [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n 1)" = "$2" ]
}

[ -f "$manifest" ] || die "$manifest is missing"
pwsh_version=$(toolchain_value pwshVersion)
pwsh_minimum=$(toolchain_value pwshMinimumVersion)
pester_version=$(toolchain_value pesterVersion)
pester_minimum=$(toolchain_value pesterMinimumVersion)
pester_maximum=$(toolchain_value pesterMaximumVersion)
for v in "$pwsh_version" "$pwsh_minimum" "$pester_version" "$pester_minimum" "$pester_maximum"; do
  [[ $v =~ ^[0-9]+(\.[0-9]+){1,3}$ ]] || die "'$v' in $manifest is not a version number"
done

command -v dotnet >/dev/null 2>&1 || die "the .NET SDK (dotnet) is not on PATH; it is needed to install pwsh and Pester (see README, Prerequisites)"

cache=${RDSSESSIONS_TOOLCHAIN_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/rdssessions}
mkdir -p "$cache" || die "cannot create the cache folder $cache (set RDSSESSIONS_TOOLCHAIN_DIR to another folder)"
cache=$(cd "$cache" && pwd)

# pwsh installed as a .NET tool is an app host that needs to find the .NET runtime; where dotnet
# is not in a default location (e.g. ~/.dotnet from dotnet-install), DOTNET_ROOT tells it.
if [ -z "${DOTNET_ROOT:-}" ]; then
  dotnet_path=$(command -v dotnet)
  if command -v readlink >/dev/null 2>&1 && readlink -f / >/dev/null 2>&1; then
    dotnet_path=$(readlink -f "$dotnet_path")
  fi
  DOTNET_ROOT=$(dirname "$dotnet_path")
  export DOTNET_ROOT
fi

# Asks a pwsh for its version and for the newest Pester in its module path within
# [pester_minimum, pester_maximum]. Prints two lines: the version, the Pester manifest or ''.
probe_pwsh() {
  # The versions were checked to be plain dotted numbers when read, so they can be spliced in.
  "$1" -NoLogo -NoProfile -NonInteractive -OutputFormat Text -Command "
    \$ProgressPreference = 'SilentlyContinue'
    \$PSVersionTable.PSVersion.ToString()
    \$pester = Get-Module -ListAvailable -Name Pester |
      Where-Object { \$_.Version -ge [version]'$pester_minimum' -and \$_.Version -le [version]'$pester_maximum' } |
      Sort-Object -Property Version -Descending | Select-Object -First 1
    if (\$pester) { \$pester.Path } else { '' }
  "
}

installed=0

install_pwsh() {
  installed=$((installed + 1))
  local target="$cache/pwsh-$pwsh_version" staging
  say "installing PowerShell $pwsh_version (dotnet tool) into $target"
  staging=$(mktemp -d "$cache/.pwsh-XXXXXX")
  # --version is required: without it the tool's newest version is taken, and 7.7.0 does not
  # install on this project's machines. The staging folder is renamed only once complete, so a
  # broken install is never mistaken for a finished one.
  if ! dotnet tool install PowerShell --version "$pwsh_version" --tool-path "$staging" >&2; then
    rm -rf "$staging"
    die "dotnet tool install PowerShell --version $pwsh_version failed (is the NuGet registry reachable?)"
  fi
  [ -x "$staging/pwsh" ] || { rm -rf "$staging"; die "dotnet tool install did not produce $staging/pwsh"; }
  rm -rf "$target"
  mv "$staging" "$target"
}

install_pester() {
  installed=$((installed + 1))
  local target="$cache/modules/Pester/$pester_version" staging source
  say "installing Pester $pester_version (NuGet package) into $target"
  staging=$(mktemp -d "$cache/.pester-XXXXXX")
  # A throw-away project whose only job is to download the package. Directory.Build.* files of
  # folders above the cache must not leak into it.
  cat > "$staging/download.csproj" <<EOF
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <TargetFramework>net10.0</TargetFramework>
  </PropertyGroup>
  <ItemGroup>
    <PackageDownload Include="Pester" Version="[$pester_version]" />
  </ItemGroup>
</Project>
EOF
  if ! dotnet restore "$staging/download.csproj" --packages "$staging/packages" --nologo -v quiet \
      -p:ImportDirectoryBuildProps=false -p:ImportDirectoryBuildTargets=false >&2; then
    rm -rf "$staging"
    die "downloading the Pester $pester_version package failed (is the NuGet registry reachable?)"
  fi
  # The package holds the module under tools/.
  source="$staging/packages/pester/$pester_version/tools"
  [ -f "$source/Pester.psd1" ] || { rm -rf "$staging"; die "the Pester $pester_version package has no tools/Pester.psd1"; }
  mkdir -p "$cache/modules/Pester"
  rm -rf "$target"
  mv "$source" "$target"
  rm -rf "$staging"
}

# 1. pwsh: an explicit choice, the user's own, the cached one, or a new install.
pwsh=""
if [ -n "${RDSSESSIONS_PWSH:-}" ]; then
  [ -x "$RDSSESSIONS_PWSH" ] || die "RDSSESSIONS_PWSH=$RDSSESSIONS_PWSH is not an executable file"
  pwsh=$RDSSESSIONS_PWSH
elif command -v pwsh >/dev/null 2>&1; then
  pwsh=$(command -v pwsh)
fi
probe=""
if [ -n "$pwsh" ]; then
  probe=$(probe_pwsh "$pwsh") || die "$pwsh does not run ($pwsh -NoProfile -Command failed)"
  found_version=$(printf '%s\n' "$probe" | sed -n 1p)
  if ! version_at_least "${found_version%%-*}" "$pwsh_minimum"; then
    [ -z "${RDSSESSIONS_PWSH:-}" ] || die "RDSSESSIONS_PWSH=$RDSSESSIONS_PWSH is PowerShell $found_version; $pwsh_minimum or newer is needed"
    say "pwsh $found_version on PATH is older than $pwsh_minimum; using PowerShell $pwsh_version from the cache"
    pwsh=""
  fi
fi
if [ -z "$pwsh" ]; then
  pwsh="$cache/pwsh-$pwsh_version/pwsh"
  if [ -x "$pwsh" ] && [ -f "$cache/modules/Pester/$pester_version/Pester.psd1" ]; then
    # Both cached (a pwsh lands there only once completely installed, and Pester only because pwsh found
    # none of its own): nothing to ask, which keeps a repeated run instant.
    probe=$(printf '%s\n%s\n' "$pwsh_version" "$cache/modules/Pester/$pester_version/Pester.psd1")
  else
    [ -x "$pwsh" ] || install_pwsh
    probe=$(probe_pwsh "$pwsh") || die "$pwsh was installed but does not run"
    found_version=$(printf '%s\n' "$probe" | sed -n 1p)
    [ "$found_version" = "$pwsh_version" ] || die "$pwsh reports version '$found_version', expected $pwsh_version"
  fi
fi

# 2. Pester: the one pwsh finds, the cached one, or a new install.
pester=$(printf '%s\n' "$probe" | sed -n 2p)
if [ -z "$pester" ]; then
  pester="$cache/modules/Pester/$pester_version/Pester.psd1"
  [ -f "$pester" ] || install_pester
  [ -f "$pester" ] || die "Pester was installed but $pester is missing"
fi

if [ "$installed" -gt 0 ]; then
  say "ready after ${SECONDS} s: pwsh $pwsh, Pester $pester"
fi
if [ "$format" = plain ]; then
  printf 'RDSSESSIONS_PWSH=%s\nRDSSESSIONS_PESTER=%s\nDOTNET_ROOT=%s\n' "$pwsh" "$pester" "$DOTNET_ROOT"
else
  printf 'RDSSESSIONS_PWSH=%q\nRDSSESSIONS_PESTER=%q\nDOTNET_ROOT=%q\n' "$pwsh" "$pester" "$DOTNET_ROOT"
fi

# Sourced by scripts/build.sh, test.sh and demo.sh (not run on its own).
#
# use_toolchain: installs pwsh and Pester when missing (tools/install-toolchain.sh, versions in
# tools/toolchain.json) and exports RDSSESSIONS_PWSH, RDSSESSIONS_PESTER and DOTNET_ROOT.
# Returns non-zero, after the installer's own message, when that fails.
#
# run_build_ps1 ARGS...: runs ./build.ps1 in that pwsh. Every bash entry point goes through
# build.ps1, the one implementation of build, test and demo, so the two cannot drift apart.
# -File (not -EncodedCommand) and -OutputFormat Text: plain text on redirected output, no CLIXML.

use_toolchain() {
  local toolchain
  toolchain=$(bash "$root/tools/install-toolchain.sh") || return 1
  eval "$toolchain"
  export RDSSESSIONS_PWSH RDSSESSIONS_PESTER DOTNET_ROOT
}

run_build_ps1() {
  "$RDSSESSIONS_PWSH" -NoLogo -NoProfile -NonInteractive -OutputFormat Text -File "$root/build.ps1" "$@"
}

#!/usr/bin/env bash
# Leak check of the C ABI tests under valgrind (Debian package `valgrind`): loads the cdylib
# with dlopen, signs in, logs off, forces a panic through the barrier, and fails on any
# "definitely lost" block or memory error.
#
# RUST_BACKTRACE=0: the deliberate panic would otherwise capture a backtrace, whose symbol
# caches live in the dlclose'd library and show up as lost memory that is not a leak of ours.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
[ -f ../shared/cargo-offline.sh ] && bash ../shared/cargo-offline.sh >/dev/null
cargo build --locked -p rds_sessions
test_bin=$(cargo test --locked -p rds_sessions --test c_abi --no-run --message-format=json 2>/dev/null \
  | sed -n 's/.*"executable":"\([^"]*c_abi[^"]*\)".*/\1/p' | tail -n 1)
RUST_BACKTRACE=0 valgrind --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite \
  --error-exitcode=3 "$test_bin" --test-threads=1

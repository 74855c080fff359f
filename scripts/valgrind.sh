#!/usr/bin/env bash
# Leak check of the C ABI tests under valgrind (Debian package `valgrind`): loads the cdylib
# with dlopen, signs in, logs off, forces a panic through the barrier, and fails on any
# "definitely lost" block or memory error.
#
# The library and the test binary come from `cargo build --workspace --all-targets` and
# `cargo test --workspace --no-run`: the same targets, and so the same features, as the test
# command's cargo test step, so after it nothing is rebuilt (building `-p rds_sessions` alone
# would unify features differently and recompile the library). The first also puts
# librds_sessions.so into target/debug/, where the tests dlopen it.
#
# RUST_BACKTRACE=0: the deliberate panic would otherwise capture a backtrace, whose symbol
# caches live in the dlclose'd library and show up as lost memory that is not a leak of ours.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
if [ -f ../shared/cargo-offline.sh ]; then
  bash ../shared/cargo-offline.sh >/dev/null
fi
command -v valgrind >/dev/null 2>&1 || { echo "valgrind.sh: valgrind is not installed (Debian: apt-get install valgrind)" >&2; exit 1; }
cargo build --workspace --all-targets --locked
test_bin=$(cargo test --workspace --locked --no-run --message-format=json \
  | sed -n 's/.*"executable":"\([^"]*\/c_abi-[^"]*\)".*/\1/p' | tail -n 1)
[ -n "$test_bin" ] || { echo "valgrind.sh: cargo test --no-run built no c_abi test binary" >&2; exit 1; }
library="$(dirname "$(dirname "$test_bin")")/librds_sessions.so"
[ -f "$library" ] || { echo "valgrind.sh: $library, which the C ABI tests load, does not exist" >&2; exit 1; }
echo "valgrind: $test_bin"
RUST_BACKTRACE=0 valgrind --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite \
  --error-exitcode=3 "$test_bin" --test-threads=1

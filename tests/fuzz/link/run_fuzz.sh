#!/bin/sh
# Builds one link fuzz target with clang's libFuzzer and runs it for a bounded
# time on a copy of its seed corpus. Fails on any crash or sanitizer report.
# Usage: run_fuzz.sh CLANGXX TARGET SECONDS SOURCE_DIR WORK_DIR
set -eu
clangxx=$1 target=$2 seconds=$3 src=$4 work=$5
mkdir -p "$work"
bin="$work/fuzz_link_${target}"
# The link library is pure C++: compile its sources straight into the target.
"$clangxx" -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
  -I"$src" "$src/tests/fuzz/link/fuzz_link_${target}.cc" \
  "$src/service/link/cobs.cc" "$src/service/link/crc32c.cc" "$src/service/link/frame.cc" \
  "$src/service/link/link_config.cc" "$src/service/link/link_session.cc" \
  $(pkg-config --libs absl_status absl_statusor) -o "$bin"
corpus="$work/corpus_${target}"
rm -rf "$corpus"
mkdir -p "$corpus"
cp "$src/tests/fuzz/link/corpus/${target}/"* "$corpus/"
cd "$work"
exec "$bin" -max_total_time="$seconds" -print_final_stats=1 -rss_limit_mb=1024 "$corpus"

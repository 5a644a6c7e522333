#!/bin/sh
# Builds the gRPC-Web frame fuzz target with clang's libFuzzer and runs it for
# a bounded time on a copy of its seed corpus. Fails on any crash or sanitizer
# report. Usage: run_fuzz.sh CLANGXX SECONDS SOURCE_DIR WORK_DIR
set -eu
clangxx=$1 seconds=$2 src=$3 work=$4
mkdir -p "$work"
bin="$work/fuzz_grpc_web_frames"
# The framing code is plain C++ on Abseil: compile it straight into the target.
"$clangxx" -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
  -I"$src" "$src/tests/fuzz/http/fuzz_grpc_web_frames.cc" "$src/service/http/grpc_web_framing.cc" \
  $(pkg-config --libs absl_status absl_statusor absl_strings) -o "$bin"
corpus="$work/corpus_grpc_web"
rm -rf "$corpus"
mkdir -p "$corpus"
cp "$src/tests/fuzz/http/corpus/grpc_web/"* "$corpus/"
cd "$work"
exec "$bin" -max_total_time="$seconds" -print_final_stats=1 -rss_limit_mb=1024 "$corpus"

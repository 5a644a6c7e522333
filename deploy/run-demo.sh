#!/bin/sh
# Builds posd (release preset) and runs it in the foreground on a local state
# folder (./state), so a newcomer can talk to it with posctl at once.
# Stop it with Ctrl-C: posd drains calls and closes the database.
set -eu
cd "$(dirname "$0")/.."

cmake --workflow --preset release
mkdir -p state

posctl="$PWD/build/release/service/posctl/posctl"
cat <<MSG

posd is starting. In another terminal:
  export POSD_ADDRESS=unix:$PWD/state/posd.sock
  $posctl status
  $posctl health

MSG
exec ./build/release/service/posd/posd --config deploy/demo.yaml

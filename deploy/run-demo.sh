#!/bin/sh
# Builds posd, posctl, the terminal simulator (release preset) and the
# checkout webview, and runs posd in the foreground on a local state folder
# (./state) with a simulated payment terminal attached as device counter-1,
# so a newcomer can talk to it with posctl, or open the checkout in a
# browser at once.
# Stop it with Ctrl-C: posd drains calls, closes the terminal link and the
# database, and the simulator is stopped too.
set -eu
cd "$(dirname "$0")/.."

# Only the three programs the demo runs and the checkout bundle: the whole
# tree (tests, benchmarks, fuzzers) would keep a newcomer waiting many times
# longer for the first READY terminal. `cmake --workflow --preset release`
# builds everything.
cmake --preset release
cmake --build --preset release --target posd posctl posd-termsim checkout_ui
mkdir -p state/bundles

# The checkout webview (ui/checkout, built by the checkout_ui target above)
# goes where posd's bundle host serves it: state/bundles/checkout/current/
# (deploy/demo.yaml: bundles.dir), at http://127.0.0.1:8780/ui/checkout/.
node ui/checkout/install.mjs build/release/ui/checkout/dist state/bundles

build="$PWD/build/release/service"
posctl="$build/posctl/posctl"

# The simulated terminal: a pseudo-terminal behind the stable name
# state/terminal.pty (the port deploy/demo.yaml gives counter-1), a durable
# ledger of what it charged, and a control socket for faults
# (see service/termsim/README.md).
rm -f state/terminal.pty
"$build/termsim/posd-termsim" --pty --link state/terminal.pty \
  --ledger state/terminal-ledger --control state/terminal.sock \
  >state/terminal.out 2>state/terminal.log &
termsim_pid=$!
posd_pid=""

# Stop what this script started, by PID, however it ends.
cleanup() {
  if [ -n "$posd_pid" ] && kill -0 "$posd_pid" 2>/dev/null; then
    kill -TERM "$posd_pid" 2>/dev/null || true
    wait "$posd_pid" 2>/dev/null || true
  fi
  kill -TERM "$termsim_pid" 2>/dev/null || true
  wait "$termsim_pid" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Wait (at most 10 s) for the simulator's line to appear.
tries=0
while [ ! -e state/terminal.pty ]; do
  if ! kill -0 "$termsim_pid" 2>/dev/null || [ "$tries" -ge 100 ]; then
    echo "the terminal simulator did not start; see state/terminal.log" >&2
    exit 1
  fi
  tries=$((tries + 1))
  sleep 0.1
done

cat <<MSG

posd is starting with a simulated terminal (counter-1). In another terminal:
  export POSD_ADDRESS=unix:$PWD/state/posd.sock
  $posctl status
  $posctl devices list
  $posctl pay --amount 12.50 --device counter-1

The checkout UI, in a browser on this machine:
  http://127.0.0.1:8780/ui/checkout/

MSG
"$build/posd/posd" --config deploy/demo.yaml &
posd_pid=$!
status=0
wait "$posd_pid" || status=$?
posd_pid=""
exit "$status"

#!/bin/sh
# Installs every Debian 12 package posd needs to build, test and run.
# Idempotent: packages already present are left as they are.
#
#   deploy/install-deps.sh            everything to build, test and run
#   deploy/install-deps.sh --runtime  only what the posd binaries need to run
#                                     (the slim stage of the Dockerfile)
set -eu

RUNTIME_PACKAGES="
  libgrpc++1.51 libprotobuf32 libabsl20220623 libserialport0 libavahi-client3
  libsqlite3-0 libyaml-cpp0.7 libspdlog1.10 libfmt9 libsystemd0 libssl3 ca-certificates
"

BUILD_PACKAGES="
  g++ clang libclang-rt-14-dev cmake ninja-build pkg-config git
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler libabsl-dev
  libserialport-dev libavahi-client-dev avahi-daemon avahi-utils dbus
  libsqlite3-dev sqlite3 libyaml-cpp-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  libboost-dev libssl-dev libcli11-dev libspdlog-dev libfmt-dev libsystemd-dev
  socat iproute2 procps openssl ccache systemd
"

case "${1:-}" in
  --runtime) PACKAGES="$RUNTIME_PACKAGES" ;;
  "") PACKAGES="$BUILD_PACKAGES $RUNTIME_PACKAGES" ;;
  *) echo "usage: $0 [--runtime]" >&2; exit 2 ;;
esac

missing=""
for package in $PACKAGES; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $package"
  fi
done

if [ -z "$missing" ]; then
  echo "install-deps: all packages present"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages:$missing" >&2
  echo "install-deps: run this script as root to install them" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# A fresh image ships without package lists; only then is an update needed.
if ! ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1; then
  apt-get update
fi
# shellcheck disable=SC2086
apt-get install -y --no-install-recommends $missing

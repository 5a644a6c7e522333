#!/bin/sh
# Installs every Debian 12 package posd needs to build, test and run.
# Idempotent: packages already present are left as they are.
set -eu

PACKAGES="
  g++ clang libclang-rt-14-dev cmake ninja-build pkg-config git
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler libabsl-dev
  libserialport-dev libavahi-client-dev avahi-daemon avahi-utils dbus
  libsqlite3-dev sqlite3 libyaml-cpp-dev
  libgtest-dev libgmock-dev googletest libbenchmark-dev
  libboost-dev libcli11-dev libspdlog-dev libfmt-dev libsystemd-dev
  socat iproute2 procps
"

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

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
  chromium
"

# The webview bundles (ui/) build with Node.js 20 or newer and its npm; the
# browser tests (label browser) drive Debian's chromium with puppeteer-core
# from npm. Debian 12's own nodejs is 18, too old: Node.js 20 comes from
# NodeSource's apt repository, set up here when no Node.js 20+ is installed.
NODE_MAJOR=20

node_is_recent() {
  command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 &&
    [ "$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)" -ge "$NODE_MAJOR" ]
}

ensure_node() {
  if node_is_recent; then
    return 0
  fi
  if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: Node.js $NODE_MAJOR or newer with npm is needed; run this script as root" >&2
    exit 1
  fi
  echo "install-deps: installing Node.js $NODE_MAJOR from deb.nodesource.com (Debian 12 ships 18)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends ca-certificates curl gnupg
  curl -fsSL https://deb.nodesource.com/gpgkey/nodesource-repo.gpg.key |
    gpg --dearmor --yes -o /usr/share/keyrings/nodesource.gpg
  cat >/etc/apt/sources.list.d/nodesource.sources <<SOURCES
Types: deb
URIs: https://deb.nodesource.com/node_$NODE_MAJOR.x
Suites: nodistro
Components: main
Architectures: $(dpkg --print-architecture)
Signed-By: /usr/share/keyrings/nodesource.gpg
SOURCES
  apt-get update
  apt-get install -y --no-install-recommends nodejs
  node_is_recent || { echo "install-deps: Node.js $NODE_MAJOR was not installed" >&2; exit 1; }
}

# The npm packages of the webview bundles and the browser tests, from their
# committed lockfiles, into npm's cache: the build then installs them with
# `npm ci --offline` and downloads nothing.
fetch_npm_packages() {
  root="$(cd "$(dirname "$0")/.." && pwd)"
  for folder in ui/checkout tests/browser/checkout; do
    (cd "$root/$folder" && npm ci --no-audit --no-fund --ignore-scripts >/dev/null) || {
      echo "install-deps: npm could not fetch the packages of $folder" >&2
      exit 1
    }
  done
}

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
  if [ -z "${1:-}" ]; then ensure_node; fetch_npm_packages; fi
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
if [ -z "${1:-}" ]; then ensure_node; fetch_npm_packages; fi

#!/usr/bin/env bash
# install.sh: install the external components the tests and examples use
# (Debian packages). Installs only what is missing, only when running as
# root with apt-get available; runs `apt-get update` once, before the first
# install. Quiet when everything is already present.
#
#   install.sh             everything the tests need
#   install.sh PKG...      only these (make demo: python3 for example/setup.py,
#                          redis-tools for the redis-cli it tells you to use,
#                          redis-sentinel for the demo's sentinels)
#
# chromium is the headless browser of the codis-fe web UI test (pkg/fe).
set -euo pipefail

packages=(zookeeper etcd-server etcd-client redis-server redis-sentinel redis-tools nutcracker python3 chromium)
if [ $# -gt 0 ]; then
	packages=("$@")
fi

missing=()
for p in "${packages[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$status" = "install ok installed" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

# Without root or apt the tests that need a missing component skip; under CI
# (CI set) they fail instead, so a missing install is never silent there.
cannot() {
	echo "$0: missing packages: ${missing[*]} ($1)" >&2
	[ -n "${CI:-}" ] && exit 1
	echo "$0: tests that need them will be skipped" >&2
	exit 0
}
[ "$(id -u)" -eq 0 ] || cannot "not root: install them yourself"
command -v apt-get >/dev/null 2>&1 || cannot "apt-get not available"

echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "installed: ${missing[*]}"

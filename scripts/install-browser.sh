#!/usr/bin/env bash
# Installs Debian's chromium (and docker-compose, which validates docker-compose.yml)
# for the browser test of Flower. Playwright drives /usr/bin/chromium: it never
# downloads a browser of its own, which would fail on machines without internet.
set -o errexit -o nounset -o pipefail

packages=()
[ -x /usr/bin/chromium ] || packages+=(chromium fonts-dejavu-core)
command -v docker-compose >/dev/null || packages+=(docker-compose)

if [ "${#packages[@]}" -eq 0 ]; then
    exit 0
fi
if ! command -v apt-get >/dev/null; then
    echo "install-browser: no apt-get here; install ${packages[*]} by hand," \
        "or the browser and compose tests are skipped" >&2
    exit 0
fi
sudo=()
if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null; then
        echo "install-browser: not root and no sudo; install ${packages[*]} by hand" >&2
        exit 0
    fi
    sudo=(sudo)
fi
echo "install-browser: installing ${packages[*]} from Debian's packages"
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq \
    --no-install-recommends "${packages[@]}"

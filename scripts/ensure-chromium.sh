#!/bin/bash
# Debian's Chromium for the browser tests (driven by playwright-core; never `npx playwright install`). Idempotent.
set -euo pipefail
if [[ -x /usr/bin/chromium ]]; then
    exit 0
fi
echo "browser tests: installing chromium"
sudo_if_needed() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }
export DEBIAN_FRONTEND=noninteractive
sudo_if_needed apt-get update -qq
sudo_if_needed apt-get install -y -qq chromium fonts-dejavu-core > /dev/null

#!/usr/bin/env bash
# Debian packages the test suite needs: exiftool (reads output metadata back) and chromium (the
# review page's browser tests drive it through Playwright; Playwright's own download is not reachable).
set -euo pipefail
pkgs=(libimage-exiftool-perl chromium)
if [ "$(id -u)" -ne 0 ]; then
  echo "redactor: exiftool or chromium is missing; run as root: apt-get install ${pkgs[*]}" >&2
  exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pkgs[@]}" >/dev/null

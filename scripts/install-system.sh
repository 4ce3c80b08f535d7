#!/usr/bin/env bash
# Debian packages the test suite needs: exiftool (reads output metadata back), chromium (the
# review page's browser tests drive it through Playwright; Playwright's own download is not
# reachable) and a CJK font (the vertical-Chinese test draws its columns with exactly this one,
# /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc, whatever other fonts the machine has; the review
# page shows Chinese text with it).
set -euo pipefail
pkgs=(libimage-exiftool-perl chromium fonts-wqy-zenhei)
if [ "$(id -u)" -ne 0 ]; then
  echo "redactor: exiftool, chromium or the WenQuanYi font is missing; run as root: apt-get install ${pkgs[*]}" >&2
  exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${pkgs[@]}" >/dev/null

#!/usr/bin/env bash
# Headless Chromium for the dashboard's browser tests: Debian's package, installed if missing
# (needs root and apt-get; elsewhere install chromium yourself or set CALLAO_CHROMIUM=/path).
set -euo pipefail
[[ -n "${CALLAO_CHROMIUM:-}" && -x "${CALLAO_CHROMIUM}" ]] && exit 0
command -v chromium >/dev/null 2>&1 && exit 0
if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
  echo "run-tests: installing Debian's chromium for the browser tests..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq chromium >/dev/null 2>&1 || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq chromium >/dev/null 2>&1; }
  command -v chromium >/dev/null 2>&1 && exit 0
fi
exit 1

#!/usr/bin/env bash
# The web console's tooling:
#   browser.sh install    install headless Chromium (Debian package) if missing; prints its path
#   browser.sh path       print the Chromium path (exit 1 if none)
#   browser.sh web-build  rebuild web/dist from web/src (npm ci && npm run build)
set -euo pipefail
cd "$(dirname "$0")/.."

chromium_path() {
  local p
  for p in "${FORESIGHT_CHROMIUM:-}" /usr/bin/chromium /usr/bin/chromium-browser; do
    if [[ -n "$p" && -x "$p" ]]; then
      echo "$p"
      return 0
    fi
  done
  return 1
}

case "${1:-}" in
install)
  if ! p=$(chromium_path); then
    export DEBIAN_FRONTEND=noninteractive
    sudo=""
    [[ $(id -u) == 0 ]] || sudo="sudo"
    # Refresh the package lists only when the package is not known yet.
    if ! apt-cache show chromium >/dev/null 2>&1; then
      $sudo apt-get update -qq
    fi
    if ! $sudo apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null; then
      $sudo apt-get update -qq
      $sudo apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
    fi
    p=$(chromium_path)
  fi
  echo "$p"
  ;;
path)
  chromium_path
  ;;
web-build)
  cd web
  npm ci --no-audit --no-fund
  npm run build
  ;;
*)
  echo "usage: $0 install|path|web-build" >&2
  exit 2
  ;;
esac

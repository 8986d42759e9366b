#!/usr/bin/env bash
# The staff web app's tools, as `make install` and `make web` need them:
#   deploy/ensure-web.sh packages   npm ci in web/ when package-lock.json changed since the last one
#   deploy/ensure-web.sh build      build web/dist when its sources (or the API contract) changed
#   deploy/ensure-web.sh browser    Debian's chromium and the Thai and Japanese fonts, for the
#                                   browser tests, when missing (no browser is ever downloaded
#                                   by a test tool)
set -euo pipefail
cd "$(dirname "$0")/../web"

packages() {
  if ! command -v npm >/dev/null 2>&1; then
    echo "npm not found: install Node.js 20 (with npm) to build the staff web app" >&2
    exit 1
  fi
  if ! cmp -s package-lock.json node_modules/.crm-installed-lock 2>/dev/null; then
    npm ci --no-audit --no-fund --loglevel=error
    cp package-lock.json node_modules/.crm-installed-lock
  fi
}

sources_hash() {
  # Everything the build reads: our sources and config, the lockfile, the OpenAPI contract.
  local paths=()
  for path in src public index.html package-lock.json vite.config.ts tsconfig*.json ../contracts/openapi/gateway.json; do
    [ -e "$path" ] && paths+=("$path")
  done
  find "${paths[@]}" -type f | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -d' ' -f1
}

build() {
  packages
  local hash
  hash=$(sources_hash)
  if [ -f dist/index.html ] && [ "$(cat dist/.sources-hash 2>/dev/null)" = "$hash" ]; then
    return 0
  fi
  echo "building the staff web app ..."
  npm run build --silent
  echo "$hash" > dist/.sources-hash
}

browser() {
  local wanted=()
  command -v chromium >/dev/null 2>&1 || wanted+=(chromium)
  for font in fonts-thai-tlwg fonts-noto-cjk; do
    dpkg-query -W -f='${Status}' "$font" 2>/dev/null | grep -q "ok installed" || wanted+=("$font")
  done
  [ ${#wanted[@]} -eq 0 ] && return 0
  echo "installing ${wanted[*]} from Debian for the browser tests ..."
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get install -y -q --no-install-recommends "${wanted[@]}" >/dev/null \
    || { $sudo apt-get update -q >/dev/null && $sudo apt-get install -y -q --no-install-recommends "${wanted[@]}" >/dev/null; }
}

case "${1:-}" in
  packages) packages ;;
  build) build ;;
  browser) browser ;;
  *) echo "usage: $0 packages|build|browser" >&2; exit 2 ;;
esac

#!/usr/bin/env bash
# Idempotent setup of every tool DiceLens needs (see docs/TESTING.md, "Toolchain").
# A warm machine skips what it already has and finishes in seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

TRUNK_VERSION=0.21.14
WASM_BINDGEN_VERSION=0.2.130
say() { printf '[setup] %s\n' "$*"; }

export PATH="$HOME/.cargo/bin:$PATH"

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy
rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt

if [ "$(trunk --version 2>/dev/null || true)" != "trunk $TRUNK_VERSION" ]; then
  say "installing trunk $TRUNK_VERSION (about 12 min on 2 cores)"
  cargo install trunk --version "$TRUNK_VERSION" --locked
fi

if [ "$(wasm-bindgen --version 2>/dev/null || true)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]; then
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 5 min)"
  # Not --locked: the locked graph names a crate version the registry lacks.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

if [ ! -x /usr/bin/chromium ]; then
  say "installing Debian chromium"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver
fi

# The other engines of the browser smoke suite (e2e/engines/): Firefox ESR (driven over WebDriver
# BiDi by puppeteer-core) and WebKitGTK (WebKitWebDriver + MiniBrowser, under xvfb-run).
minibrowser() { ls /usr/lib/*/webkit2gtk-4.1/MiniBrowser >/dev/null 2>&1; }
if [ ! -x /usr/bin/firefox-esr ] || [ ! -x /usr/bin/WebKitWebDriver ] || ! minibrowser \
  || [ ! -x /usr/bin/xvfb-run ] || [ ! -x /usr/bin/xauth ]; then
  say "installing Debian firefox-esr, webkit2gtk-driver, xvfb"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq firefox-esr webkit2gtk-driver xvfb xauth
fi

if [ ! -x node_modules/.bin/wasm-opt ] || [ ! -d node_modules/playwright-core ] \
  || [ ! -d node_modules/puppeteer-core ] || [ ! -d node_modules/axe-core ] \
  || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages (binaryen for wasm-opt, playwright-core, puppeteer-core, axe-core)"
  npm ci --no-audit --no-fund --loglevel=error
fi
say "tools ready"

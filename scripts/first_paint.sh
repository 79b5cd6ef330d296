#!/usr/bin/env bash
# Trunk's pre_build hook (Trunk.toml): draws the pictures index.html shows before the wasm
# arrives, with `dicelens figure` at the default state: one per theory view whose figure is a
# line plot (the simplex and the landscapes are heat maps, too heavy as SVG), wide and narrow,
# light and dark, into $TRUNK_STAGING_DIR/first-paint/ (or the directory given). The list of
# views is index.html's FIRST_PAINT_VIEWS; e2e/first_paint.test.mjs checks the two agree.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-${TRUNK_STAGING_DIR:?run by trunk, or give an output directory}/first-paint}"
mkdir -p "$out"
# The debug build: the tests build it too, and drawing nine figures takes well under a second.
cargo build -q -p dicelens-cli --bin dicelens
bin="${CARGO_TARGET_DIR:-target}/debug/dicelens"
views=$(sed -n "s/.*FIRST_PAINT_VIEWS = \[\(.*\)\];.*/\1/p" index.html | tr -d "'" | tr ',' ' ')
[ -n "$views" ] || { echo "first_paint.sh: no FIRST_PAINT_VIEWS in index.html" >&2; exit 1; }
for v in $views; do
  "$bin" figure "$v" --width 800 --height 480 --out "$out/$v-wide.svg"
  "$bin" figure "$v" --width 800 --height 480 --dark --out "$out/$v-wide-dark.svg"
  "$bin" figure "$v" --width 360 --height 320 --out "$out/$v-narrow.svg"
  "$bin" figure "$v" --width 360 --height 320 --dark --out "$out/$v-narrow-dark.svg"
done

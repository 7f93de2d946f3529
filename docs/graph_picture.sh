#!/usr/bin/env bash
# Regenerate docs/images/pipeline_graph.png from the real project:
# `kedro viz build`, serve the static site on loopback, screenshot it with
# headless Chromium (Debian: apt-get install chromium). Run from the repo root.
set -euo pipefail
out="${1:-docs/images/pipeline_graph.png}"
tmp=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$tmp"' EXIT
KEDRO_DISABLE_TELEMETRY=1 kedro viz build >/dev/null 2>&1
cp -r build "$tmp/site" && rm -rf build
# a same-origin page that turns the first-visit feature tour off, then opens the app
cat > "$tmp/site/prep.html" <<'HTML'
<script>
localStorage.setItem("KedroViz", JSON.stringify({showFeatureHints: false, theme: "light"}));
location.replace("/");
</script>
HTML
python3 -m http.server 8767 --bind 127.0.0.1 -d "$tmp/site" >/dev/null 2>&1 &
server=$!
sleep 1
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$tmp/profile" --hide-scrollbars --window-size=1600,1100 \
  --virtual-time-budget=20000 --screenshot="$out" http://127.0.0.1:8767/prep.html
echo "wrote $out"

#!/usr/bin/env bash
# Smoke-test the bundle: build it (unless --no-build), then run the bundled window on the embedded
# demo lake offscreen and save a screenshot, and the bundled CLI. Exit 0 when both work.
#   packaging/smoke.sh [--no-build] [SHOT.png]
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ "${1:-}" == "--no-build" ]]; then shift; else packaging/build.sh; fi
shot=${1:-build/smoke-screenshot.png}
mkdir -p "$(dirname "$shot")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rm -f "$shot"
export QT_QPA_PLATFORM=offscreen LAKEGUI_CONFIG_DIR="$work/config" LAKEGUI_DATA_DIR="$work/data" \
    LAKEGUI_LOG_DIR="$work/log"
timeout 180 dist/lakegui/lakegui --demo --screenshot "$shot"
test -s "$shot" || { echo "smoke: no screenshot was saved" >&2; exit 1; }
dist/lakegui/lakegui-cli --version
timeout 120 dist/lakegui/lakegui-cli demo-server --json > "$work/demo.json" &
demo=$!
for _ in $(seq 100); do [[ -s "$work/demo.json" ]] && break; sleep 0.2; done
url=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["endpoint_url"])' "$work/demo.json")
AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo dist/lakegui/lakegui-cli coverage s3://us-equity-datalake/ \
    --endpoint-url "$url" --csv > "$work/coverage.csv"
kill "$demo"; wait "$demo" 2>/dev/null || true
grep -q "^AAPL,2024,1," "$work/coverage.csv" || { echo "smoke: the bundled CLI did not read the demo lake" >&2; exit 1; }
echo "smoke: ok, screenshot $shot ($(du -h "$shot" | cut -f1)), bundle $(du -sh dist/lakegui | cut -f1)"

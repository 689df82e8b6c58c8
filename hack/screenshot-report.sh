#!/usr/bin/env bash
# Renders a run directory's report.html with headless Chromium (Debian's package) into
# report.png beside it, so a person can look at the plots. Installs chromium through apt when
# it is missing. Usage: hack/screenshot-report.sh out/quickstart
set -euo pipefail
dir=${1:?usage: $0 RUN_DIR}
html="$(cd "$dir" && pwd)/report.html"
[[ -f $html ]] || { echo "$html: no report.html (run simctl run or simctl report first)" >&2; exit 2; }
browser=$(command -v chromium || command -v chromium-browser || true)
if [[ -z $browser ]]; then
	echo "installing chromium and fonts-liberation with apt..." >&2
	apt-get install -y -qq chromium fonts-liberation >/dev/null
	browser=$(command -v chromium)
fi
"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1280,4000 \
	--screenshot="$dir/report.png" "file://$html" 2>/dev/null
echo "$dir/report.png"

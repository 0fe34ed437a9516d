#!/bin/sh
# Renders `equiv report` pages in headless Chromium and checks what is on them: the table rows,
# the SVG plots, the primary suspect; takes a screenshot. Exit 77 (CTest skip) without chromium.
#
#   tests/browser/render_report.sh EQUIV FAULTY_RESULTS_PROGRAM CONFIG TF.json OUT_DIR
set -eu
equiv=$1 faulty=$2 config=$3 tf=$4 out=$5

browser=""
for b in chromium chromium-browser google-chrome; do
  if command -v "$b" >/dev/null 2>&1; then browser=$b; break; fi
done
if [ -z "$browser" ]; then
  echo "render_report: no chromium on PATH (apt-get install chromium); skipped"
  exit 77
fi

mkdir -p "$out"
"$faulty" "$config" rmsnorm_variance_bf16 "$out/results.json"
"$equiv" report "$out/results.json" --localize --teacher-forced "$tf" -o "$out/report.html"

profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
render() {
  # No network: the page must not need one (its CSP forbids every fetch anyway).
  "$browser" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$profile" "$@" "file://$out/report.html" 2>"$out/chromium.log"
}
render --dump-dom >"$out/dom.html"
render --screenshot="$out/report.png" --window-size=1200,2000 >/dev/null

fail=0
expect_count() {  # expect_count WHAT MIN PATTERN: at least MIN matches of PATTERN in the DOM
  n=$(grep -o "$3" "$out/dom.html" | wc -l)
  if [ "$n" -lt "$2" ]; then
    echo "FAIL: $1: $n of '$3' in the rendered DOM, expected at least $2"; fail=1
  else
    echo "ok: $1 ($n)"
  fi
}
cases=$(grep -o '"name": ' "$out/results.json" | wc -l)
expect_count "a table row per case" "$cases" '<tr class="case '
expect_count "the R chart" 1 '<svg class="plot r-chart"'
expect_count "a point per case in the R chart" "$cases" '<circle class="band-\|<circle class="not-judged'
expect_count "a QQ plot per case" "$cases" '<svg class="plot qq-plot"'
expect_count "a histogram per case" "$cases" '<svg class="plot histogram"'
expect_count "the teacher-forced plots" 3 '<figure class="tf-plot"'
expect_count "the primary suspect" 1 'id="primary-suspect"'
expect_count "the suspect's name" 1 '<b class="suspect-name">layers_0_input_layernorm/'
expect_count "the failing verdict" 1 'id="verdict">FAIL: '
if [ ! -s "$out/report.png" ]; then echo "FAIL: no screenshot"; fail=1; else echo "ok: $out/report.png"; fi
exit $fail

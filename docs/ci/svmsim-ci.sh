#!/usr/bin/env bash
# Plain-shell CI gate with svmsim (any CI system): exit status 0 passes, anything else fails.
#   svmsim test: 0 all expectations hold, 1 one failed, 2 bad trace or expect block.
#   svmsim diff: 0 same result as the baseline, 1 different, 2 not a result.
# Update the baseline deliberately: SVMSIM_UPDATE_BASELINE=1 bash svmsim-ci.sh, review the diff
# it printed, and commit baseline/app.jsonl.
set -euo pipefail
npx svmsim test traces/ --reporter junit --output svmsim-junit.xml
npx svmsim replay recordings/app.csv --format jsonl --output result.jsonl
if [ "${SVMSIM_UPDATE_BASELINE:-}" = 1 ]; then
  npx svmsim diff baseline/app.jsonl result.jsonl --ignore-us || true
  mv result.jsonl baseline/app.jsonl
  echo "baseline/app.jsonl updated: review and commit it"
  exit 0
fi
npx svmsim diff baseline/app.jsonl result.jsonl --ignore-us

#!/usr/bin/env bash
# Every test: installs what is missing (scripts/setup.sh), then lint, typecheck and vitest
# (unit tests, then integration tests against real peers), ending with one summary line.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
echo; echo '== lint'; npm run --silent lint
echo; echo '== typecheck'; npm run --silent typecheck
echo; echo '== vitest'
results=$(mktemp -t portlb-vitest-XXXXXX.json)
rc=0
npx vitest run --reporter=default --reporter=json --outputFile.json="$results" "$@" || rc=$?
node_modules/.bin/node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`\n${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
' "$results" || true
rm -f "$results"
exit "$rc"

#!/usr/bin/env bash
# Every test: installs what is missing (scripts/setup.sh), then lint, typecheck and vitest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
echo; echo '== lint'; npm run --silent lint
echo; echo '== typecheck'; npm run --silent typecheck
echo; echo '== vitest'; npm test

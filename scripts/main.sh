#!/usr/bin/env bash
# The main job. Until the lab lands: validate and plan the shipped example config.
set -euo pipefail
cd "$(dirname "$0")/.."
PORTLB_SKIP_KUBE=1 scripts/setup.sh
npm run --silent portlb -- validate --config examples/bgp-lab.yaml
npm run --silent portlb -- plan --config examples/bgp-lab.yaml

#!/usr/bin/env bash
# The main job (root, on a fresh Debian machine): install what is missing, check the shipped
# example config, then the netns BGP lab: the paper's topology and Fig. 12 ECMP tables, a route
# reflector lost, an LB killed, and a convergence run (Fig. 13b/c). EVENTS=220 for the full run.
set -euo pipefail
cd "$(dirname "$0")/.."
PORTLB_SKIP_KUBE=1 scripts/setup.sh
echo; echo '== the example config: validate and plan'
npm run --silent portlb -- validate --config examples/bgp-lab.yaml
npm run --silent portlb -- plan --config examples/bgp-lab.yaml
exec scripts/lab-demo.sh

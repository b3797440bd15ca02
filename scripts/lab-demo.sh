#!/usr/bin/env bash
# The lab demo (needs root): the paper's topology in network namespaces (Fig. 5/11), its Fig. 12
# ECMP tables, a route reflector lost, an LB killed, then a short convergence run (Fig. 13b/c).
#
#   scripts/lab-demo.sh                # EVENTS=40 convergence events by default
#   EVENTS=200 scripts/lab-demo.sh     # the full benchmark (about 10 minutes)
#
# Everything lives in namespaces named plb-* (the benchmark's own: plbb-*); `lab down` runs on
# exit whatever happens, and removes every namespace and process the lab recorded.
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS=${EVENTS:-40}
OUT=${OUT:-bench-out/convergence}
DIR=${PORTLB_LAB_DIR:-/run/portlb-lab}
export PORTLB_LAB_DIR=$DIR
portlb() { node_modules/.bin/node dist/cli/portlb.mjs "$@"; }
step() { printf '\n== %s\n' "$*"; }

[ -f dist/cli/portlb.mjs ] || npm run --silent build
portlb lab down >/dev/null 2>&1 || true # leftovers of an interrupted run
trap 'step "lab down"; portlb lab down' EXIT

step 'lab up: client, router (FRR, ECMP), 2 route reflectors (gobgpd, FRR), 4 nodes, 1 LB pod'
portlb lab up --nodes 4 --lbs 1 --backends 2
step 'Fig. 12a: one LB pod -> one next hop'
ip -n plb-router route show 10.1.1.0/24
step 'Fig. 12b: three LB pods -> three next hops'
portlb lab scale web 3
ip -n plb-router route show 10.1.1.0/24
step 'Fig. 12c: a second service (10.1.2.0/24) with two LB pods beside the first'
portlb lab scale api 2
ip -n plb-router route show proto bgp
step 'status: the ECMP table, every BGP session, every LB pod (also: lab status --json)'
portlb lab status
step 'the client reaches the VIP through the router and a node (the LB pod answers the ping)'
ip netns exec plb-client ping -c 2 -W 1 10.1.1.1
step 'a route reflector dies: nothing changes on the router (the other carries every path)'
portlb lab kill rr-gobgp
sleep 4
ip -n plb-router route show proto bgp
portlb lab revive rr-gobgp
step 'an LB pod is killed (SIGKILL): its next hop leaves the router within a fraction of a second'
portlb lab kill web-2
sleep 0.5
ip -n plb-router route show 10.1.1.0/24
step 'lab down'
trap - EXIT
portlb lab down

step "convergence benchmark: $EVENTS random LB changes (start, graceful stop, SIGKILL, node death)"
npm run --silent bench:convergence -- --events "$EVENTS" --out "$OUT"
echo "results: $OUT/convergence.json, $OUT/fig13b-lb-count.png, $OUT/fig13c-delay-histogram.png"

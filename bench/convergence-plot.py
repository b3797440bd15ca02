"""Plots for the convergence benchmark, like the paper's Fig. 13b and 13c.

usage: /usr/bin/python3 bench/convergence-plot.py DIR/convergence.json DIR
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

data = json.load(open(sys.argv[1]))
out = sys.argv[2]


def steps(points, key):
    xs, ys = [], []
    for p in points:
        if ys:
            xs.append(p["t"] / 1000)
            ys.append(ys[-1])
        xs.append(p["t"] / 1000)
        ys.append(p[key])
    return xs, ys


# Fig. 13b: the number of LBs we ran, and the number of next hops the router had, over time;
# the whole run above, its first minute below (where each step can be seen).
fig, axes = plt.subplots(2, 1, figsize=(10, 6))
lbs = steps(data["series"]["lbCount"], "lbs")
hops = steps([p for p in data["series"]["nextHops"] if p["t"] >= 0], "nextHops")
for ax, limit in zip(axes, [None, 60]):
    ax.plot(*lbs, color="tab:red", label="running LB pods")
    ax.plot(*hops, color="tab:blue", linestyle="--", label="ECMP next hops on the router")
    ax.set_ylabel("count")
    ax.yaxis.get_major_locator().set_params(integer=True)
    if limit is not None:
        ax.set_xlim(0, limit)
axes[1].set_xlabel("time (s)")
axes[0].set_title("LB pods vs. router next hops (cf. paper Fig. 13b); below: the first minute")
axes[0].legend(loc="upper right")
fig.tight_layout()
fig.savefig(f"{out}/fig13b-lb-count.png", dpi=120)

# Fig. 13c: histogram of the delay from each change to the router's FIB, per kind of change.
fig, ax = plt.subplots(figsize=(7, 4))
kinds = ["start", "graceful-stop", "sigkill", "node-death"]
series = [[e["delayMs"] / 1000 for e in data["events"] if e["kind"] == k and e["delayMs"] is not None] for k in kinds]
top = max([max(s) for s in series if s] + [1])
bins = [i * top / 40 for i in range(41)]
ax.hist(series, bins=bins, stacked=True, label=[f"{k} (n={len(s)})" for k, s in zip(kinds, series)])
ax.set_xlabel("delay until the router's FIB reflects the change (s)")
ax.set_ylabel("events")
ax.set_title("ECMP update delay (cf. paper Fig. 13c: most <= 6 s, max 10 s)")
ax.legend()
fig.tight_layout()
fig.savefig(f"{out}/fig13c-delay-histogram.png", dpi=120)

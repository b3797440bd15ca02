"""Plots for the traffic benchmark, like the paper's Fig. 13b, 13a and 10 with real requests.

usage: /usr/bin/python3 bench/traffic-plot.py DIR/traffic.json DIR
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

data = json.load(open(sys.argv[1]))
out = sys.argv[2]
setup = data["setup"]
colors = {
    "scale-up": "tab:green",
    "graceful-stop": "tab:blue",
    "sigkill": "tab:red",
    "backend-add": "tab:olive",
    "backend-remove": "tab:purple",
}


def mark_events(ax, label=False):
    seen = set()
    for e in data["events"]:
        kind = e["kind"]
        ax.axvspan(e["t0"], e["windowEnd"], color=colors[kind], alpha=0.15,
                   label=kind if label and kind not in seen else None)
        seen.add(kind)


# Fig. 13b: requests/s over time while LBs and backends change; errors below.
fig, axes = plt.subplots(3, 1, figsize=(11, 8), sharex=True, gridspec_kw={"height_ratios": [3, 2, 1.3]})
bulk = data["series"]["bulk"]
axes[0].plot([p["t"] for p in bulk], [sum(p["rps"].values()) for p in bulk], color="black", lw=1,
             label=f"long requests ({setup['streams']['bulk']})")
tl = data["series"]["timeline"]
ax2 = axes[0].twinx()
ax2.step([p["t"] for p in tl], [p["lbs"] for p in tl], where="post", color="tab:red", lw=1.5, label="LB pods")
ax2.set_ylabel("LB pods", color="tab:red")
ax2.set_ylim(0, max(p["lbs"] for p in tl) + 1)
axes[0].set_ylabel("requests/s")
mark_events(axes[0], label=True)
axes[0].legend(loc="upper left", fontsize=8)
axes[0].set_title(f"Requests through the VIP while LBs and backends change (cf. paper Fig. 13b); "
                  f"each node's link {setup['linkMbit']} Mbit/s", fontsize=10)

short = data["series"]["short"]
nodes = sorted({k for p in short for k in p["rps"]})
ts = [p["t"] for p in short]
axes[1].stackplot(ts, [[p["rps"].get(n, 0) for p in short] for n in nodes], labels=nodes, alpha=0.8)
axes[1].set_ylabel("short requests/s\nby LB (node)")
axes[1].legend(loc="upper left", fontsize=7, ncol=len(nodes))
mark_events(axes[1])

failed_short = [p["failed"] for p in short]
failed_bulk = {p["t"]: p["failed"] for p in bulk}
axes[2].bar(ts, failed_short, width=0.9, color="tab:red", label="failed short requests")
axes[2].bar(list(failed_bulk), list(failed_bulk.values()), width=0.5, color="black", label="failed long requests")
axes[2].set_ylabel("failed / s")
axes[2].set_xlabel("time (s)")
axes[2].legend(loc="upper left", fontsize=7)
mark_events(axes[2])
fig.tight_layout()
fig.savefig(f"{out}/fig13b-traffic.png", dpi=120)


def bars(key, xlabel, title, name):
    points = data["throughput"][key]
    xs = sorted(points, key=int)
    detail = data["throughput"]["points"][key]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot([int(x) for x in xs], [points[x] for x in xs], marker="o", label="requests/s")
    for x in xs:
        ax.annotate(f"{detail[x]['mbit']} Mbit/s\ncpu {int(detail[x]['cpuBusy'] * 100)}%", (int(x), points[x]),
                    textcoords="offset points", xytext=(0, 8), ha="center", fontsize=7)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("requests/s")
    ax.set_ylim(0, max(points.values()) * 1.3)
    ax.set_xticks([int(x) for x in xs])
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(f"{out}/{name}", dpi=120)


bars("byLbCount", "LB pods (ECMP next hops)",
     f"Throughput vs. LB count (cf. Fig. 13a): each node's link {setup['linkMbit']} Mbit/s",
     "fig13a-throughput-lbs.png")
bars("byBackendCount", "nginx backends",
     f"Throughput vs. backends, 1 LB (cf. Fig. 10): each backend's link "
     f"{setup['backendMbitForFig10']} Mbit/s, the LB's {setup['linkMbit']} Mbit/s",
     "fig10-throughput-backends.png")

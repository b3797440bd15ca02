"""Broken keep-alive connections per change, nat beside tunnel (bench:traffic --survival).

usage: /usr/bin/python3 bench/traffic-survival-plot.py DIR/traffic.json DIR
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

data = json.load(open(sys.argv[1]))
out = sys.argv[2]
survival = data["survival"]
kinds = ["scale-up", "graceful-stop", "backend-add", "backend-remove"]
modes = [("nat", "tab:red"), ("tunnel", "tab:blue")]

fig, (ax, tp) = plt.subplots(1, 2, figsize=(11, 4.5), gridspec_kw={"width_ratios": [3, 1]})
width = 0.38
for k, (mode, color) in enumerate(modes):
    xs = [i + (k - 0.5) * width for i in range(len(kinds))]
    broken = [survival[mode].get(kind, {}).get("broken", 0) for kind in kinds]
    total = [survival[mode].get(kind, {}).get("connections", 0) for kind in kinds]
    bars = ax.bar(xs, broken, width, color=color, label=mode)
    for bar, b, t in zip(bars, broken, total):
        ax.annotate(f"{b}/{t}", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    ha="center", va="bottom", fontsize=8)
ax.set_xticks(range(len(kinds)))
ax.set_xticklabels(kinds)
ax.set_ylabel("broken keep-alive connections")
change = data["backendChange"]
ax.set_title(
    "Connections broken per change, nat vs tunnel\n"
    f"(backend add {change['backendsBefore']} -> {change['backendsAfter']}: "
    f"tunnel moves {change['movedFraction']:.3f} of new flows, nat {change['sampledFlows']['nat']:.3f})",
    fontsize=10,
)
ax.legend()

rates = [survival[mode]["throughput"]["mbit"] for mode, _ in modes]
bars = tp.bar([mode for mode, _ in modes], rates, color=[color for _, color in modes])
for bar, rate in zip(bars, rates):
    tp.annotate(f"{rate:.0f}", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                ha="center", va="bottom", fontsize=8)
lbs = survival["nat"]["throughput"]["lbs"]
tp.set_ylabel("Mbit/s (GET 64 KiB, closed loop)")
tp.set_title(f"throughput, {lbs} LBs,\neach LB link limited alike", fontsize=10)
fig.tight_layout()
fig.savefig(f"{out}/survival-broken.png", dpi=120)

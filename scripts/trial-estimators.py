#!/usr/bin/env python3
"""Half-widths of every Δp50 95% interval of a scenario run, by two
estimators over the same paired segments: the mean with a Student-t
interval, and the Hodges-Lehmann estimate with the Wilcoxon signed-rank
interval (the normal approximation of its critical rank; mcpbench itself
uses the exact one). README's "How it measures" trial table comes from it.

    scripts/trial-estimators.py results/default/TIMESTAMP/summary.json
    scripts/trial-estimators.py results/trials/*/summary.json.gz
"""
import gzip, json, math, statistics, sys

def t975(df):  # Student-t 0.975 quantile by bisection on the regularized incomplete beta
    def cdf(x):
        # P(T <= x) for x >= 0 via numeric integration of the density
        n = 2000; h = x / n
        c = math.gamma((df + 1) / 2) / (math.sqrt(df * math.pi) * math.gamma(df / 2))
        f = lambda u: c * (1 + u * u / df) ** (-(df + 1) / 2)
        s = f(0) + f(x) + sum((4 if i % 2 else 2) * f(i * h) for i in range(1, n))
        return 0.5 + s * h / 3
    lo, hi = 0.0, 20.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if cdf(mid) < 0.975 else (lo, mid)
    return (lo + hi) / 2

def pairs(summary):
    base = summary["scenario"]["baseline"]
    order = summary["scenario"].get("order", "rotate")
    segs = sorted(summary["segments"], key=lambda r: r["started"])
    name = lambda r: r["name"].rsplit("#", 1)[0]
    out = {}
    if order == "adjacent":
        for i, r in enumerate(segs):
            v = name(r)
            if v == base or v.startswith("floor-"):
                continue
            nb = [segs[j] for j in (i - 1, i + 1) if 0 <= j < len(segs) and name(segs[j]) == base]
            if nb:
                b = sum(x["response_time"]["p50_ns"] for x in nb) / len(nb)
                out.setdefault(v, []).append((r["response_time"]["p50_ns"] - b) / 1e3)
    else:
        by = {}
        for r in segs:
            by.setdefault(name(r), []).append(r)
        for v, rs in by.items():
            if v == base or v.startswith("floor-"):
                continue
            out[v] = [(a["response_time"]["p50_ns"] - b["response_time"]["p50_ns"]) / 1e3 for a, b in zip(rs, by[base])]
    return out

def t_half(d):
    return t975(len(d) - 1) * statistics.stdev(d) / math.sqrt(len(d))

def hl_half(d):
    n = len(d)
    w = sorted((d[i] + d[j]) / 2 for i in range(n) for j in range(i, n))
    k = max(int(math.floor(n * (n + 1) / 4 - 1.96 * math.sqrt(n * (n + 1) * (2 * n + 1) / 24))), 0)
    return (w[len(w) - 1 - k] - w[k]) / 2

for f in sys.argv[1:]:
    s = json.load(gzip.open(f) if f.endswith(".gz") else open(f))
    ps = pairs(s)
    th = sorted(t_half(d) for d in ps.values())
    hh = sorted(hl_half(d) for d in ps.values() if len(d) >= 6)
    print(f"{f}: {len(ps)} comparisons, {min(len(d) for d in ps.values())} pairs each")
    print(f"  t:  median ±{statistics.median(th):.1f}µs, worst ±{th[-1]:.1f}µs")
    if hh:
        print(f"  HL: median ±{statistics.median(hh):.1f}µs, worst ±{hh[-1]:.1f}µs")

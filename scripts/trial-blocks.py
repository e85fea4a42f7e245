#!/usr/bin/env python3
"""Does a run's comparison move when its servers are restarted, and does the
machine's speed move within and between runs? For runs made with
results/trials/restart-blocks/restart-blocks.patch (fresh servers every
BLOCK rounds), prints each comparison's Hodges-Lehmann Δp50 per block and
over the run, the spread of the block estimates against what the pairs'
own scatter predicts for blocks of that size (sd of the pairs × √blocks /
√pairs), and the baseline's server CPU per call and p50 per block.

    scripts/trial-blocks.py BLOCKS results/trials/restart-blocks/run*.json.gz
"""
import gzip, importlib.util, json, os, statistics, sys

spec = importlib.util.spec_from_file_location("est", os.path.join(os.path.dirname(__file__), "trial-estimators.py"))
est = importlib.util.module_from_spec(spec)
sys.argv, files = sys.argv[:1], sys.argv[1:]  # trial-estimators reads argv at import
spec.loader.exec_module(est)
blocks, files = int(files[0]), files[1:]

def hl(d):
    n = len(d)
    return statistics.median((d[i] + d[j]) / 2 for i in range(n) for j in range(i, n))

def split(xs):
    k = len(xs) // blocks
    return [xs[i * k:(i + 1) * k] for i in range(blocks)]

for f in files:
    s = json.load(gzip.open(f) if f.endswith(".gz") else open(f))
    base = s["scenario"]["baseline"]
    print(f)
    print(f"  {'comparison':28} {'per block (µs)':>{8 * blocks}}   run    block sd  expected")
    for v, d in est.pairs(s).items():
        b = [hl(x) for x in split(d)]
        expect = statistics.stdev(d) * (blocks / len(d)) ** 0.5
        print(f"  {v:28} {''.join(f'{x:8.1f}' for x in b)} {hl(d):7.1f} {statistics.stdev(b):9.1f} {expect:9.1f}")
    segs = sorted((r for r in s["segments"] if r["name"].rsplit("#", 1)[0] == base), key=lambda r: r["started"])
    cpu = [statistics.median(r["server_cpu_per_call_ns"] / 1e3 for r in x) for x in split(segs)]
    p50 = [statistics.median(r["response_time"]["p50_ns"] / 1e3 for r in x) for x in split(segs)]
    print(f"  {base + ' server CPU/call':28} {''.join(f'{x:8.1f}' for x in cpu)}")
    print(f"  {base + ' p50':28} {''.join(f'{x:8.1f}' for x in p50)}")

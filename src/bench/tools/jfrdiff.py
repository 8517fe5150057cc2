#!/usr/bin/env python3
"""Differential CPU profile of two bench server JVMs recorded with JFR.

    jfr print --json --events jdk.ExecutionSample --stack-depth 64 plain.jfr > plain.json
    jfr print --json --events jdk.ExecutionSample --stack-depth 64 count.jfr > count.json
    python3 src/bench/tools/jfrdiff.py plain.json count.json            # methods gaining the most share
    python3 src/bench/tools/jfrdiff.py count.json JettyEvents.customize  # what a method spends on

Use a 1 ms sampling period (copy lib/jfr/profile.jfc, set jdk.ExecutionSample's period to
"1 ms") to get thousands of samples from a few seconds of load; shares are in % of all samples.
"""
import collections
import json
import sys


def samples(path):
    for e in json.load(open(path))['recording']['events']:
        st = e['values'].get('stackTrace')
        if st:
            yield [(f['method']['type']['name'].split('/')[-1] + '.' + f['method']['name'], f.get('lineNumber')) for f in st['frames']]


def diff(a_path, b_path, top=25):
    def load(path):
        incl, self_, total = collections.Counter(), collections.Counter(), 0
        for frames in samples(path):
            total += 1
            self_[frames[0][0]] += 1
            for m in {f[0] for f in frames}:
                incl[m] += 1
        return total, incl, self_
    ta, ia, sa = load(a_path)
    tb, ib, sb = load(b_path)
    print('samples', ta, tb)
    for name, a, b in (('inclusive', ia, ib), ('self', sa, sb)):
        print('==', name, 'share in second - share in first (percentage points)')
        for k in sorted(set(a) | set(b), key=lambda k: -(b[k] / tb - a[k] / ta))[:top]:
            print(f"{100 * (b[k] / tb - a[k] / ta):+6.2f}  first {100 * a[k] / ta:5.2f}  second {100 * b[k] / tb:5.2f}  {k}")


def callees(path, method, top=20):
    c, total = collections.Counter(), 0
    for frames in samples(path):
        total += 1
        names = [f[0] for f in frames]
        if method in names:
            i = len(names) - 1 - names[::-1].index(method)
            below = f"{frames[i - 1][0]}:{frames[i - 1][1]}" if i >= 1 else '(self)'
            c[f"{method}:{frames[i][1]} -> {below}"] += 1
    for k, n in c.most_common(top):
        print(f"{100 * n / total:5.2f}% {k}")


if __name__ == '__main__':
    if sys.argv[2].endswith('.json'):
        diff(sys.argv[1], sys.argv[2])
    else:
        callees(sys.argv[1], sys.argv[2])

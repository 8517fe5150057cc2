#!/usr/bin/env python3
"""Runs a JMH benchmark's variants in alternating rounds, one fork each, and compares each
variant with the plain fork that ran right next to it.

Why: on a shared host, slow spells of 10-60 s change a pinned core's speed by up to half
(FINDINGS.md, 2026-12-07). JMH runs all forks of one variant before the next, so a spell can
land on one variant's forks only. Here every round runs every variant once, each right after
(every other round, right before) a plain fork, and the ratio of the two is the figure. Every
fork is a fresh JVM, so plain's forks are no warmer than the variants' (the socket bench's
servers, kept for the whole run, would be: a plain server driven next to every variant
stays warmer than each of them).

Usage, from the project root, after `mvn -Pbench test-compile`:

    src/bench/tools/alternate.py [--rounds N] [--cpu C] BENCH VARIANT... [-- JMH ARGS]

A VARIANT may name other code: `metrics@/tmp/old/target/classes` runs `metrics` with those
classes ahead of the project's (an older commit built in a worktree). `plain` is always run
and need not be named. Default JMH arguments: -wi 5 -w 2 -i 5 -r 1 -prof gc (on one pinned
core the JIT's threads share the core: a fork needs about 10 s to warm).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile


def classpath():
    out = os.path.join(tempfile.gettempdir(), 'connstate-bench.cp')
    subprocess.run(['mvn', '-q', '-o', '-B', '-Pbench', 'dependency:build-classpath',
                    '-Dmdep.outputFile=' + out, '-Dmdep.includeScope=test'], check=True)
    with open(out) as f:
        deps = f.read().strip()
    return ':'.join(['target/test-classes', 'target/classes', deps])


def run(cp, cpu, bench, variant, jmh_args):
    name, _, code = variant.partition('@')
    path = (code + ':' + cp) if code else cp
    with tempfile.NamedTemporaryFile(suffix='.json', delete=False) as f:
        result = f.name
    cmd = ['taskset', '-c', cpu, 'java', '-cp', path, 'org.openjdk.jmh.Main', bench,
           '-p', 'variant=' + name, '-f', '1', '-rf', 'json', '-rff', result] + jmh_args
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(result) as f:
        data = json.load(f)[0]
    os.unlink(result)
    iterations = [x for fork in data['primaryMetric']['rawData'] for x in fork]
    alloc = data.get('secondaryMetrics', {}).get('gc.alloc.rate.norm', {}).get('score')
    return statistics.median(iterations), min(iterations), alloc


def summary(values):
    return '%.3f [%.3f-%.3f]' % (statistics.median(values), min(values), max(values))


def main():
    argv = sys.argv[1:]
    jmh_args = ['-wi', '5', '-w', '2', '-i', '5', '-r', '1', '-prof', 'gc']
    if '--' in argv:
        jmh_args = argv[argv.index('--') + 1:]
        argv = argv[:argv.index('--')]
    parser = argparse.ArgumentParser()
    parser.add_argument('--rounds', type=int, default=6)
    parser.add_argument('--cpu', default='1')
    parser.add_argument('bench')
    parser.add_argument('variants', nargs='+')
    args = parser.parse_args(argv)
    variants = [v for v in args.variants if v != 'plain']
    cp = classpath()
    forks = {v: [] for v in ['plain'] + variants}
    ratios = {v: [] for v in variants}
    for round_ in range(args.rounds):
        order = variants if round_ % 2 == 0 else list(reversed(variants))
        for v in order:
            pair = ['plain', v] if round_ % 2 == 0 else [v, 'plain']
            got = {w: run(cp, args.cpu, args.bench, w, jmh_args) for w in pair}
            for w in pair:
                forks[w].append(got[w])
            ratios[v].append(got[v][0] / got['plain'][0])
            print('round %d %-24s plain %7.0f ns  %7.0f ns  ratio %.3f' % (round_, v, got['plain'][0], got[v][0], ratios[v][-1]), flush=True)
    print()
    print('| variant | ns per op, median of forks [min-max] | fastest iteration | B per op | ratio to its adjacent plain fork, median [min-max] |')
    print('| --- | --- | --- | --- | --- |')
    for v in ['plain'] + variants:
        medians = [f[0] for f in forks[v]]
        alloc = statistics.median([f[2] for f in forks[v]]) if forks[v][0][2] is not None else float('nan')
        print('| %s | %.0f [%.0f-%.0f] | %.0f | %.0f | %s |' % (v, statistics.median(medians), min(medians), max(medians),
                                                          min(f[1] for f in forks[v]), alloc,
                                                          summary(ratios[v]) if v in ratios else ''))


if __name__ == '__main__':
    main()

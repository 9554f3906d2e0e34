#!/usr/bin/env python3
"""Compares two builds of cnpg-lint in alternating runs (A B, B A, ...), so that a slow moment of
the machine costs both alike: median wall time and peak RSS of `check --format json .` per
repository.

    scripts/alternate.py OLD_BINARY NEW_BINARY REPO... (N=21 for more runs; default 7)
"""
import subprocess, time, os, sys, statistics, resource
bins={'before':sys.argv[1],'after':sys.argv[2]}
repos=sys.argv[3:]
N=int(os.environ.get("N","7"))
for repo in repos:
    t={k:[] for k in bins}; rss={k:[] for k in bins}
    for i in range(N):
        for k in (['before','after'] if i%2==0 else ['after','before']):
            s=time.perf_counter()
            p=subprocess.Popen([bins[k],'check','--format','json','.'],cwd=repo,stdout=subprocess.DEVNULL,stderr=subprocess.DEVNULL)
            _,status,ru=os.wait4(p.pid,0)
            t[k].append(time.perf_counter()-s); rss[k].append(ru.ru_maxrss/1024)
    b=statistics.median(t['before']); a=statistics.median(t['after'])
    print(f"{os.path.basename(repo.rstrip('/')):28} before {b*1000:8.1f} ms  after {a*1000:8.1f} ms  ratio {a/b:5.3f}  rss {statistics.median(rss['before']):6.1f} -> {statistics.median(rss['after']):6.1f} MB")

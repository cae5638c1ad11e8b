#!/usr/bin/env python3
"""Where one `esim-sync once` spent its time, from its debug log (docs/performance.md).

  bench/breakdown.py LOG   prints "phase ms" lines, one per phase, in pass order

The phases overlap where the pass overlaps them: requests and parsing run on the pager's
workers and COPY on its own thread, all during the walk. The walk's own split is what it
waited for pages (the API and parsing were slower than staging) and what staging took (building
COPY lines, and waiting whenever PostgreSQL fell behind).
"""
import re
import sys

text = open(sys.argv[1]).read()
phases = []
walk = re.search(r"walk (\d+) ms: waited (\d+) ms for pages, staged them in (\d+) ms; on the workers, "
                 r"requests (\d+) ms and parsing (\d+) ms; summary \(the diff\) (\d+) ms", text)
if walk:
    w, waited, staged, requests, parsing, diff = map(int, walk.groups())
    phases += [("walk (wall)", w), ("  waiting on the API", waited), ("  staging (COPY lines, backpressure)", staged),
               ("  API requests (sum over workers)", requests), ("  parse (sum over workers)", parsing)]
# Since the chunk index (issue 24) the line also says what the batches held, in parentheses.
apply = re.search(r"apply: (.*); staging took (\d+) ms in (\d+) (?:COPY )?batches(?: \([^)]*\))?, the diff (\d+) ms", text)
if apply:
    phases.append(("  COPY into staging (own thread)", int(apply.group(2))))
if walk:
    phases.append(("diff (after the walk)", diff))
proof = re.search(r"proof (\d+) ms \((\d+) lookups\)", text)
if proof:
    phases.append((f"removal proof ({proof.group(2)} lookups)", int(proof.group(1))))
if apply:
    for step in apply.group(1).split(", "):
        name, ms, _ = step.rsplit(" ", 2)
        label = {"pick": "apply: pick the rows that differ", "changes": "apply: changes", "inserts": "apply: inserts",
                 "removals": "apply: removals", "index builds": "index build", "checks": "apply: checks",
                 "commit": "commit"}.get(name, "apply: " + name)
        phases.append((label, int(ms)))
for name, ms in phases:
    print(f"{name}\t{ms}")

#!/usr/bin/env python3
"""A fault's scheduled instant -> in effect, from the journals of runs.

    tests/bench/fault_latency.py [--label NAME=DIR ...] DIR...

Reads every journal.json under each DIR (recursively) and prints a
Markdown table per placement of the services (process, container, ssh
node) and fault kind:

  * scheduled: the instant the timeline meant -- `scheduled_t` for a
    fault at a time, the trigger's instant plus its delay for `on_event`
    (`trigger.event_t`) and `on_ready` (`trigger.ready_t`) faults;
  * began: `apply_began_t`, when the engine started applying it
    (dispatch: the loop noticed the timer or the event);
  * in effect: `applied_t`, when the apply returned -- the signal
    delivered by kill(2), runc's kill returned, or the command on the node
    answered over ssh.

Figures are medians, 90th percentiles and maxima in milliseconds.  A
run's placement: "ssh nodes" when its journal has `ssh_nodes`,
"containers" when a service has a `container` key, else "processes".
`--label NAME=DIR` names the rows of the runs under DIR (e.g. quiet=...).
Only applied occurrences count.  No third-party modules.
"""
import json
import os
import sys


def percentile(v, p):
    v = sorted(v)
    if not v:
        return float("nan")
    k = (len(v) - 1) * p
    lo = int(k)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def journals(root):
    for d, _, files in os.walk(root):
        if "journal.json" in files:
            yield os.path.join(d, "journal.json")


def placement(j):
    if j.get("ssh_nodes"):
        return "ssh nodes"
    for s in (j.get("scenario") or {}).get("services", []):
        if s.get("container"):
            return "containers"
    return "processes"


def scheduled(f):
    t = f.get("trigger")
    if isinstance(t, dict):
        base = t.get("event_t", t.get("ready_t"))
        if base is not None:
            return base + (t.get("delay_s") or 0.0)
    return f.get("scheduled_t")


def main(argv):
    dirs = []
    label = {}
    i = 0
    while i < len(argv):
        if argv[i] == "--label" and i + 1 < len(argv):
            name, _, d = argv[i + 1].partition("=")
            label[os.path.abspath(d)] = name
            dirs.append(d)
            i += 2
            continue
        if argv[i] in ("-h", "--help"):
            print(__doc__.strip())
            return 0
        dirs.append(argv[i])
        i += 1
    if not dirs:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    rows = {}
    runs = 0
    for d in dirs:
        tag = label.get(os.path.abspath(d), "")
        for p in journals(d):
            try:
                with open(p) as fh:
                    j = json.load(fh)
            except (OSError, ValueError) as e:
                print(f"fault_latency: {p}: {e}", file=sys.stderr)
                continue
            runs += 1
            for f in j.get("faults", []):
                if f.get("outcome") != "applied":
                    continue
                s, b, a = scheduled(f), f.get("apply_began_t"), f.get("applied_t")
                if s is None or b is None or a is None:
                    continue
                key = (tag, placement(j), f.get("kind"))
                r = rows.setdefault(key, ([], [], []))
                r[0].append((b - s) * 1e3)
                r[1].append((a - b) * 1e3)
                r[2].append((a - s) * 1e3)
    if not rows:
        print("fault_latency: no applied fault in any journal", file=sys.stderr)
        return 1
    print(f"{runs} runs.  Milliseconds: median / 90th percentile / max.\n")
    head = "| | services | kind | n | scheduled → began | began → in effect | scheduled → in effect |"
    if not label:
        head = head.replace("| | services", "| services", 1)
    print(head)
    print("|" + "---|" * (head.count("|") - 1))

    def fmt(v):
        return f"{percentile(v, .5):.1f} / {percentile(v, .9):.1f} / {max(v):.1f}"

    for key in sorted(rows):
        tag, where, kind = key
        d, e, t = rows[key]
        cells = [where, kind, str(len(t)), fmt(d), fmt(e), fmt(t)]
        if label:
            cells.insert(0, tag)
        print("| " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

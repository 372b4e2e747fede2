#!/usr/bin/env python3
"""Write a large or hostile scenario to stdout, for measuring the loader.

    gen_big_scen.py services N     N services (names s0..), no faults
    gen_big_scen.py faults N [EVERY]
                                   one service, N kill faults over 100 s,
                                   each once (EVERY 0, the default) or
                                   repeated every EVERY s
    gen_big_scen.py keys N         one service with N unknown keys
    gen_big_scen.py regex LEVELS   a log readiness regex of LEVELS nested
                                   {1,100} repetitions: (((a{1,100}){1,100})...)

Figures in tests/bench/README.md, "bench_loader".
"""
import json
import sys


def service(name, **extra):
    s = {"name": name, "cmd": ["sleep", "1000"]}
    s.update(extra)
    return s


def main():
    if len(sys.argv) not in (3, 4) or sys.argv[1] not in ("services", "faults", "keys", "regex"):
        sys.stderr.write(__doc__)
        return 2
    what, n = sys.argv[1], int(sys.argv[2])
    doc = {"name": "big", "duration_s": 86400}
    if what == "services":
        doc["services"] = [service("s%d" % i) for i in range(n)]
    elif what == "faults":
        doc["services"] = [service("w")]
        every = float(sys.argv[3]) if len(sys.argv) == 4 else 0.0
        doc["duration_s"] = 100
        doc["faults"] = [{"kind": "kill", "target": "w", "at_s": i % 100}
                         for i in range(n)]
        if every > 0:
            for f in doc["faults"]:
                f["at_s"] = 0
                f["every_s"] = every
    elif what == "keys":
        s = service("w")
        for i in range(n):
            s["k%d" % i] = i
        doc["services"] = [s]
    else:
        rx = "a"
        for _ in range(n):
            rx = "(%s{1,100})" % rx
        doc["services"] = [service("w", ready={"kind": "log", "regex": rx})]
    json.dump(doc, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

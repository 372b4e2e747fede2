#!/usr/bin/env python3
"""Generate the recorded-run fixtures used by the report tests.

The fixtures are committed; this script documents how they were made and
regenerates them identically (fixed random seed).  Each run directory holds
journal.json, events.jsonl and logs/ in the format of reports/README.md.

  pass3   a passing run with three faults (kill, pause, syscall), breaker
          events, retries, accepted/delivered with latency_ms, checkpoints,
          a failover and an alert
  fail    the same scenario failing: records lost, slow recovery, one
          unknown verdict, plus a malformed event line
  interrupted  stopped by SIGINT at t=14 with a fault still applied
  unrunnable   refused before start: the kernel lacks sch_netem
  lost    records lost where a fault hit: worker.1 killed while holding
          leased ids (`leased` events), worker.0 paused while scoring ids
          (spans in traces/worker.0.jsonl only), two ids dropped at ingest
          with no fault near; an evidence list longer than a page
"""
import json, os, random, sys

HERE = os.path.dirname(os.path.abspath(__file__))
T0 = 1764200001.50
STARTED = 1764200000.12

SCENARIO = {
    "name": "pipeline-three-faults",
    "description": "Gateway -> 2 workers -> store; a worker is killed, the "
                   "store is paused, fsync fails with EIO.",
    "duration_s": 30, "drain_s": 3, "seed": 42,
    "services": [
        {"name": "gateway", "argv": ["bin/gateway", "--port", "8080"], "port": 8080,
         "ready": {"http": "http://127.0.0.1:8080/health"}},
        {"name": "worker", "argv": ["bin/worker"], "replicas": 2, "restart": "on-failure"},
        {"name": "store", "argv": ["bin/store", "--dir", "data"], "port": 9090},
    ],
    "faults": [
        {"name": "kill-worker", "kind": "kill", "target": "worker.random",
         "at_s": [5, 8]},
        {"name": "pause-store", "kind": "pause", "target": "store", "at_s": 12,
         "for_s": 4},
        {"name": "fsync-eio", "kind": "syscall", "target": "worker",
         "call": "posix/io/sync/fsync", "errno": "EIO", "probability": 0.3,
         "at_s": 20, "for_s": 5},
    ],
    "probes": [{"name": "api-up", "kind": "http", "url": "http://127.0.0.1:8080/health"}],
    "expect": [
        {"name": "recovers", "kind": "recovers", "within_s": 5},
        {"name": "no-data-loss", "kind": "no_loss"},
        {"name": "breaker-opens", "kind": "events", "ev": "breaker",
         "where": {"state": "open"}, "min": 1},
        {"name": "bounded-retries", "kind": "retries", "max_attempts": 5},
        {"name": "latency-p99", "kind": "latency", "p99_ms": 500},
        {"name": "checkpoint-resume", "kind": "resumes", "from": "checkpoint"},
    ],
}


def ev(out, t, svc, evname, inst=None, **kw):
    d = {"ts": round(T0 + t, 6), "svc": svc}
    if inst:
        d["inst"] = inst
    d["ev"] = evname
    d.update(kw)
    out.append(d)


def gen_events(rng, fail, stop_at=None):
    """A plausible event stream for the scenario; returns (events, facts)."""
    out = []
    end = stop_at if stop_at is not None else 33.0
    kill_t, restart_ready = 6.21, 7.62
    pause = (12.004, 16.01)
    sysc = (20.0, 25.0)
    rid = 0
    lost = []
    backlog = []
    ev(out, -1.02, "store", "ready", "store.0")
    ev(out, -0.98, "worker", "ready", "worker.0")
    ev(out, -0.97, "worker", "ready", "worker.1")
    ev(out, -0.61, "gateway", "ready", "gateway.0")
    ev(out, 0.0, "worker", "breaker", "worker.0", name="store", state="closed")
    t = 0.0
    while t < min(end, 30.0):
        t += rng.expovariate(40.0)
        if t >= min(end, 30.0):
            break
        rid += 1
        rec = "r%05d" % rid
        lat = rng.lognormvariate(3.0, 0.35)  # ~20 ms
        ev(out, t, "gateway", "accepted", "gateway.0", id=rec,
           latency_ms=round(lat, 2), trace_id="tr-%05d" % rid)
        worker = "worker.%d" % (rid % 2)
        if worker == "worker.1" and kill_t <= t < restart_ready:
            worker = "worker.0"  # failover
        d = t + rng.uniform(0.01, 0.06)
        dl = rng.lognormvariate(3.3, 0.4)
        if pause[0] <= d < pause[1]:
            backlog.append((rec, worker, d))
            continue
        if sysc[0] <= d < sysc[1] and rng.random() < 0.3:
            att = 1
            while True:
                delay = 50 * 2 ** (att - 1)
                ev(out, d, "worker", "retry", worker, op="fsync", attempt=att,
                   delay_ms=delay, error="EIO")
                d += delay / 1000.0
                att += 1
                if rng.random() > 0.3 or att > 4:
                    break
            dl += (d - t) * 1000
        if fail and 9.0 <= t < 9.2 and len(lost) < 3:
            lost.append((t, rec))
            continue
        if d < end:
            ev(out, d, "worker", "delivered", worker, id=rec, latency_ms=round(dl, 2))
    # the store pause: retries, breaker, rejected calls, alert, backlog drain
    if end > pause[0]:
        for w in ("worker.0", "worker.1"):
            tt = pause[0] + 0.1
            att = 1
            while tt < min(pause[0] + 1.0, end):
                ev(out, tt, "worker", "retry", w, op="store_put", attempt=att,
                   delay_ms=100 * att, error="timeout")
                tt += 0.1 * att + 0.25
                att += 1
        if end > 13.02:
            ev(out, 13.02, "worker", "breaker", "worker.0", name="store", state="open")
            ev(out, 13.03, "worker", "degraded", "worker.0", feature="store",
               reason="breaker open")
        tt = 13.1
        while tt < min(pause[1], end):
            ev(out, tt, "worker", "rejected", "worker.%d" % (int(tt * 10) % 2), name="store")
            tt += 0.18
        if end > 13.5:
            ev(out, 13.5, "monitor", "alert", "monitor.0", name="delivery-lag", state="firing")
        if end > pause[1]:
            ev(out, 15.02, "worker", "breaker", "worker.0", name="store", state="half_open")
            ev(out, 16.31, "worker", "breaker", "worker.0", name="store", state="closed")
            ev(out, 16.32, "worker", "restored", "worker.0", feature="store")
            ev(out, 17.6, "monitor", "alert", "monitor.0", name="delivery-lag", state="resolved")
            # backlog drains after the breaker closed
            tt = 16.35
            for rec, w, d in backlog:
                tt += rng.uniform(0.002, 0.01)
                ev(out, tt, "worker", "delivered", w, id=rec,
                   latency_ms=round((tt - d) * 1000 + 30, 2))
    # kill of worker.1 and its restart
    if end > kill_t:
        ev(out, kill_t + 0.08, "gateway", "failover", "gateway.0", **{"from": "worker.1", "to": "worker.0"})
    if end > restart_ready:
        ev(out, restart_ready - 0.05, "worker", "checkpoint_restored", "worker.1",
           name="offsets", step=1) if not fail else None
        ev(out, restart_ready, "worker", "ready", "worker.1")
        ev(out, restart_ready + 0.3, "gateway", "failover", "gateway.0", **{"from": "worker.0", "to": "worker.1"})
    for k, tt in enumerate((5.0, 10.0, 15.0, 20.0, 25.0, 30.0)):
        if tt < end and not (pause[0] <= tt < pause[1]):
            for w in ("worker.0", "worker.1"):
                ev(out, tt + 0.01, "worker", "checkpoint_saved", w, name="offsets", step=k + 1)
    if stop_at is None:
        ev(out, 33.1, "gateway", "stopping", "gateway.0")
        ev(out, 33.15, "gateway", "stopped", "gateway.0")
    out.sort(key=lambda d: d["ts"])
    return out, {"lost": lost, "n": rid}


def history(fail, stop_at=None):
    end = stop_at if stop_at is not None else 33.2
    h = {
        "gateway.0": [{"t": -1.30, "what": "start", "pid": 4240}, {"t": -0.61, "what": "ready"}],
        "worker.0": [{"t": -1.28, "what": "start", "pid": 4241}, {"t": -0.98, "what": "ready"}],
        "worker.1": [{"t": -1.28, "what": "start", "pid": 4242}, {"t": -0.97, "what": "ready"},
                     {"t": 6.21, "what": "exit", "code": None, "signal": "SIGKILL",
                      "cause": "fault:kill-worker"}],
        "store.0": [{"t": -1.35, "what": "start", "pid": 4239}, {"t": -1.02, "what": "ready"}],
    }
    if end > 6.43:
        h["worker.1"].append({"t": 6.43, "what": "start", "pid": 4301, "cause": "restart-policy"})
    if end > 7.62:
        h["worker.1"].append({"t": 7.62, "what": "ready"})
    if fail:
        h["store.0"] += [{"t": 12.004, "what": "pause", "cause": "fault:pause-store"},
                         {"t": 16.01, "what": "resume", "cause": "fault:pause-store"}]
    pids = {"gateway.0": 4240, "worker.0": 4241, "worker.1": 4301, "store.0": 4239}
    for inst in h:
        if stop_at is None:
            h[inst].append({"t": 33.2, "what": "exit", "code": 0, "signal": None, "cause": "stop"})
        else:
            h[inst].append({"t": stop_at + 0.05, "what": "exit", "code": None,
                            "signal": "SIGTERM", "cause": "stop"})
    return h


def write_logs(d, events, hist, stop_at=None, timed=True, faults=None):
    """Per-instance logs.  timed: lines carry the engine's "[t] " prefix;
    otherwise plain lines, and each fault records the log sizes at apply and
    revert ("log_offsets", "log_offsets_reverted") for the excerpts."""
    os.makedirs(os.path.join(d, "logs"), exist_ok=True)
    per = {}
    for e in events:
        inst = e.get("inst", e["svc"])
        t = e["ts"] - T0
        line = None
        if e["ev"] == "retry":
            line = "WARN %s failed (%s), attempt %d, retrying in %d ms" % (
                e["op"], e["error"], e["attempt"], e["delay_ms"])
        elif e["ev"] == "breaker":
            line = "INFO breaker %s -> %s" % (e["name"], e["state"])
        elif e["ev"] == "failover":
            line = "WARN routing: %s unreachable, sending to %s" % (e["from"], e["to"])
        elif e["ev"] == "checkpoint_saved":
            line = "INFO checkpoint %s saved at step %d" % (e["name"], e["step"])
        elif e["ev"] == "checkpoint_restored":
            line = "INFO resumed from checkpoint %s step %d" % (e["name"], e["step"])
        elif e["ev"] == "ready":
            line = "INFO ready"
        elif e["ev"] == "delivered" and int(e["id"][1:]) % 97 == 0:
            line = "DEBUG delivered %s in %.1f ms" % (e["id"], e["latency_ms"])
        elif e["ev"] == "rejected" and int(t * 100) % 3 == 0:
            line = "WARN store call rejected: breaker open <store@127.0.0.1:9090>"
        if line:
            per.setdefault(inst, []).append((t, line))
    for inst, hs in hist.items():
        for x in hs:
            if x["what"] == "start":
                per.setdefault(inst, []).append((x["t"] + 0.01, "INFO %s starting (pid %d)" % (inst, x["pid"])))
    per.setdefault("store.0", []).append((11.9, "INFO compaction finished: 3 segments"))
    per.setdefault("store.0", []).append((16.02, "WARN clock jump detected: 4.0 s since last tick"))
    for inst, lines in per.items():
        lines.sort()
        off = 0
        with open(os.path.join(d, "logs", inst + ".log"), "w") as f:
            for t, line in lines:
                if stop_at is not None and t > stop_at:
                    continue
                if timed == "unix":  # the service's own Unix-time stamps
                    text = "%.6f %s: %s\n" % (T0 + t, inst, line)
                else:
                    text = ("[%9.3f] %s\n" % (t, line)) if timed else line + "\n"
                for flt in faults or []:
                    for key, ft in (("log_offsets", flt["applied_t"]),
                                    ("log_offsets_reverted", flt["reverted_t"])):
                        if ft is not None and t >= ft:
                            flt.setdefault(key, {}).setdefault(inst, off)
                f.write(text)
                off += len(text.encode())
        for flt in faults or []:
            for key, ft in (("log_offsets", flt["applied_t"]),
                            ("log_offsets_reverted", flt["reverted_t"])):
                if ft is not None:
                    flt.setdefault(key, {}).setdefault(inst, off)


def faults_journal(fail, stop_at=None):
    f = [
        {"name": "kill-worker", "kind": "kill", "occurrence": 0, "target": "worker.1",
         "for_s": 0, "scheduled_t": 6.2079, "applied_t": 6.21, "reverted_t": None,
         "trigger": None, "outcome": "applied", "error": None,
         "details": {"signal": "SIGKILL", "pids": [4242]}},
        {"name": "pause-store", "kind": "pause", "occurrence": 0, "target": "store.0",
         "for_s": 4, "scheduled_t": 12.0, "applied_t": 12.004, "reverted_t": 16.01,
         "trigger": None, "outcome": "applied", "error": None,
         "details": {"method": "SIGSTOP", "pids": [4239]}},
        {"name": "fsync-eio", "kind": "syscall", "occurrence": 0, "target": "worker",
         "for_s": 5, "scheduled_t": 20.0, "applied_t": 20.0011, "reverted_t": 25.002,
         "trigger": None, "outcome": "applied", "error": None,
         "details": {"call": "posix/io/sync/fsync", "errno": "EIO", "probability": 0.3}},
    ]
    if stop_at is not None:
        f[1]["reverted_t"] = None  # interrupted while the store was paused
        f[2].update({"applied_t": None, "reverted_t": None, "outcome": "skipped",
                     "error": "run interrupted before the fault's time"})
    return f


def journal(name, status, code, seed, events, hist, faults, expects, stop_at=None,
            malformed=0, first_malformed=None):
    end = stop_at if stop_at is not None else 33.4
    phases = [{"name": "startup", "t": -1.38}, {"name": "before", "t": -0.2},
              {"name": "faults", "t": 0}]
    if stop_at is None:
        phases += [{"name": "drain", "t": 30}, {"name": "after", "t": 33},
                   {"name": "stop", "t": 33.2}]
    else:
        phases += [{"name": "stop", "t": stop_at}]
    scen = dict(SCENARIO)
    scen["name"] = name
    return {
        "chaosrun": "0.1.0", "format": 1,
        "scenario_file": "scenarios/%s.json" % name, "name": name,
        "description": SCENARIO["description"], "status": status, "exit_code": code,
        "error": None, "seed": seed, "seed_source": "command line",
        "reproduce": "chaosrun --seed %d scenarios/%s.json" % (seed, name),
        "started_at": STARTED, "t0_unix": T0, "ended_at": T0 + end + 0.1,
        "duration_s": 30, "drain_s": 3,
        "machine": {"hostname": "ci-runner-07", "kernel": "6.18.0", "cpus": 2},
        "scenario": scen,
        "timeline": [
            {"fault": "kill-worker", "kind": "kill", "target": "worker.random",
             "occurrence": 0, "at_s": 6.2079, "for_s": 0},
            {"fault": "pause-store", "kind": "pause", "target": "store",
             "occurrence": 0, "at_s": 12.0, "for_s": 4},
            {"fault": "fsync-eio", "kind": "syscall", "target": "worker",
             "occurrence": 0, "at_s": 20.0, "for_s": 5}],
        "phases": phases,
        "services": [
            {"instance": i, "service": i.split(".")[0], "replica": int(i.split(".")[1]),
             "restarts": 1 if i == "worker.1" and (stop_at is None or stop_at > 6.43) else 0,
             "log": "logs/%s.log" % i, "history": h}
            for i, h in hist.items()],
        "faults": faults,
        "probes": [{"probe": "api-up", "kind": "http", "phase": "before", "t": -0.2,
                    "ok": True, "detail": "HTTP 200"}] +
                  [{"probe": "api-up", "kind": "http", "phase": "during", "t": float(t),
                    "ok": not (12 <= t < 17), "detail": "HTTP 200" if not (12 <= t < 17)
                    else "timeout after 2 s"} for t in range(0, min(30, int(end)))] +
                  ([{"probe": "api-up", "kind": "http", "phase": "after", "t": 33.0,
                     "ok": True, "detail": "HTTP 200"}] if stop_at is None else []),
        "expectations": expects,
        "events": {"file": "events.jsonl", "count": len(events) + malformed,
                   "malformed": malformed, "first_malformed": first_malformed},
        "log": [{"t": f["applied_t"], "text": "fault %s applied to %s" % (f["name"], f["target"])}
                for f in faults if f["applied_t"] is not None],
    }


def pass_expects(events):
    lat = sorted(e["latency_ms"] for e in events if e["ev"] == "accepted")
    p99 = lat[int(0.99 * (len(lat) - 1))]
    acc = sum(1 for e in events if e["ev"] == "accepted")
    maxatt = max([e["attempt"] for e in events if e["ev"] == "retry"] or [0])
    return [
        {"name": "recovers", "kind": "recovers", "verdict": "passed",
         "summary": "probes passed again 1.84 s after the last fault ended (bound 5 s)",
         "measured": {"value": 1.84, "unit": "s", "bound": "<= 5"},
         "evidence": [{"t": 25.002, "text": "last fault fsync-eio reverted"},
                      {"t": 26.84, "text": "probe api-up passed (HTTP 200)"}],
         "details": {"per_fault": {"kill-worker": 1.41, "pause-store": 1.21, "fsync-eio": 1.84}}},
        {"name": "no-data-loss", "kind": "no_loss", "verdict": "passed",
         "summary": "all %d accepted records were delivered" % acc,
         "measured": {"value": 0, "unit": "records", "bound": "== 0"},
         "evidence": [], "details": {"accepted": acc, "delivered": acc, "lost": 0}},
        {"name": "breaker-opens", "kind": "events", "verdict": "passed",
         "summary": "breaker opened 1 time while the store was paused (at least 1)",
         "measured": {"value": 1, "unit": "events", "bound": ">= 1"},
         "evidence": [{"t": 13.02, "text": "t=13.020 worker.0 breaker name=store state=open"}],
         "details": {}},
        {"name": "bounded-retries", "kind": "retries", "verdict": "passed",
         "summary": "at most %d attempts per operation (bound 5)" % maxatt,
         "measured": {"value": maxatt, "unit": "attempts", "bound": "<= 5"},
         "evidence": [], "details": {}},
        {"name": "latency-p99", "kind": "latency", "verdict": "passed",
         "summary": "p99 accept latency %.0f ms (bound 500 ms)" % p99,
         "measured": {"value": round(p99, 1), "unit": "ms", "bound": "<= 500"},
         "evidence": [], "details": {"samples": len(lat)}},
        {"name": "checkpoint-resume", "kind": "resumes", "verdict": "passed",
         "summary": "worker.1 resumed from checkpoint offsets step 1 after its restart",
         "evidence": [{"t": 7.57, "text": "t=7.570 worker.1 checkpoint_restored name=offsets step=1"}],
         "details": {}},
    ]


def fail_expects(events, lost):
    exp = pass_expects(events)
    acc = sum(1 for e in events if e["ev"] == "accepted")
    exp[0].update({"verdict": "failed",
                   "summary": "probes passed again only 7.40 s after the last fault ended (bound 5 s)",
                   "measured": {"value": 7.4, "unit": "s", "bound": "<= 5"},
                   "evidence": [{"t": 25.002, "text": "last fault fsync-eio reverted"},
                                {"t": 26.0, "text": "probe api-up failed: HTTP 503 <html>Service Unavailable</html>"},
                                {"t": 29.0, "text": "probe api-up failed: timeout after 2 s"},
                                {"t": 32.402, "text": "probe api-up passed (HTTP 200)"}]})
    exp[1].update({"verdict": "failed",
                   "summary": "%d of %d accepted records were never delivered" % (len(lost), acc),
                   "measured": {"value": len(lost), "unit": "records", "bound": "== 0"},
                   "evidence": [{"t": round(t, 3), "text": "t=%.3f gateway.0 accepted id=%s: never delivered, never dead-lettered" % (t, r)}
                                for t, r in lost],
                   "details": {"accepted": acc, "delivered": acc - len(lost), "lost": len(lost)}})
    exp[5].update({"verdict": "unknown",
                   "summary": "no checkpoint_restored event after worker.1 restarted: cannot judge resumption",
                   "evidence": [{"t": 6.43, "text": "worker.1 started again (restart-policy)"}]})
    return exp


def write_run(name, j, events, extra_lines=()):
    d = os.path.join(HERE, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "journal.json"), "w") as f:
        json.dump(j, f, indent=1)
        f.write("\n")
    if events is not None:
        with open(os.path.join(d, "events.jsonl"), "w") as f:
            for e in events:
                f.write(json.dumps(e, separators=(",", ":")) + "\n")
            for line in extra_lines:
                f.write(line + "\n")


def span_line(inst, svc, trace, name, start, end):
    """One OTLP/JSON export line holding one span (as the reference
    pipeline writes them)."""
    return {"resourceSpans": [{
        "resource": {"attributes": [
            {"key": "service.name", "value": {"stringValue": svc}},
            {"key": "service.instance.id", "value": {"stringValue": inst}}]},
        "scopeSpans": [{"scope": {"name": "crp"}, "spans": [{
            "traceId": trace, "spanId": "%016x" % (int(trace, 16) & 0xffffffff),
            "name": name, "kind": 1,
            "startTimeUnixNano": "%d" % round((T0 + start) * 1e9),
            "endTimeUnixNano": "%d" % round((T0 + end) * 1e9),
            "status": {"code": 1}}]}]}]}


def gen_lost():
    """Deterministic: ids every 20 ms from 0.02 s to 9.98 s; odd ids go to
    worker.1 (`leased` at +10 ms, delivered 100 ms after the lease), even
    ids to worker.0 (span worker.score ending +30 ms, delivered 100 ms
    later).  worker.1 is killed at 4.0 s: the ids it leased in the 100 ms
    before are lost (3); worker.0 is paused 6.0-7.0 s: the ids it scored in
    the 80 ms before are lost (2); r0400 and r0401 are accepted and dropped at
    ingest (no fault near)."""
    ev_, spans = [], []
    kill_t, pause = 4.0, (6.0, 7.0)
    lost = []
    for k in range(1, 500):
        t = round(0.02 * k, 3)
        rec, tr = "r%04d" % k, "%032x" % (0xabc000 + k)
        ev(ev_, t, "ingest", "accepted", "ingest.0", id=rec, trace_id=tr,
           latency_ms=2.0)
        if k in (400, 401):
            lost.append((t, rec, "ingest.0"))
            continue
        if k == 123:
            ev(ev_, t + 0.001, "ingest", "dead_lettered", "ingest.0", id=rec,
               reason="schema: unsupported version 9")
            continue
        if k % 2:
            lease = round(t + 0.01, 3)
            if 4.0 <= lease < 4.3:  # worker.1 down: ingest holds them back
                lease = round(4.31 + (lease - 4.0), 3)
            ev(ev_, lease, "worker", "leased", "worker.1", id=rec)
            if kill_t - 0.1 < lease <= kill_t:
                lost.append((t, rec, "worker.1"))
                continue
            ev(ev_, lease + 0.1, "sink", "delivered", "sink.0", id=rec,
               latency_ms=round((lease + 0.1 - t) * 1000, 1))
        else:
            end = t + 0.03
            if pause[0] <= end < pause[1]:
                end = pause[1] + (end - pause[0])
            spans.append(span_line("worker.0", "worker", tr, "worker.score",
                                   end - 0.005, end))
            if pause[0] - 0.08 < end <= pause[0]:
                lost.append((t, rec, "worker.0"))
                continue
            ev(ev_, end + 0.1, "sink", "delivered", "sink.0", id=rec,
               latency_ms=round((end + 0.1 - t) * 1000, 1))
    ev(ev_, 4.3, "worker", "ready", "worker.1")
    ev_.sort(key=lambda d: d["ts"])
    return ev_, spans, lost


def write_lost():
    events, spans, lost = gen_lost()
    name = "pipeline-lost-records"
    hist = {
        "ingest.0": [{"t": -1.0, "what": "start", "pid": 5001}, {"t": -0.8, "what": "ready"}],
        "worker.0": [{"t": -1.0, "what": "start", "pid": 5002}, {"t": -0.8, "what": "ready"}],
        "worker.1": [{"t": -1.0, "what": "start", "pid": 5003}, {"t": -0.8, "what": "ready"},
                     {"t": 4.0, "what": "exit", "code": None, "signal": "SIGKILL",
                      "cause": "fault:kill-worker"},
                     {"t": 4.2, "what": "start", "pid": 5004, "cause": "restart-policy"},
                     {"t": 4.3, "what": "ready"}],
        "sink.0": [{"t": -1.0, "what": "start", "pid": 5005}, {"t": -0.8, "what": "ready"}],
    }
    for h in hist.values():
        h.append({"t": 11.2, "what": "exit", "code": 0, "signal": None, "cause": "stop"})
    faults = [
        {"name": "kill-worker", "kind": "kill", "occurrence": 0, "target": "worker.1",
         "for_s": 0, "scheduled_t": 4.0, "applied_t": 4.0, "reverted_t": None,
         "trigger": None, "outcome": "applied", "error": None,
         "details": {"signal": "SIGKILL", "pids": [5003]}},
        {"name": "stall-worker0", "kind": "pause", "occurrence": 0, "target": "worker.0",
         "for_s": 1, "scheduled_t": 6.0, "applied_t": 6.0, "reverted_t": 7.0,
         "trigger": None, "outcome": "applied", "error": None,
         "details": {"method": "SIGSTOP", "pids": [5002]}},
    ]
    acc = sum(1 for e in events if e["ev"] == "accepted")
    lost.sort()
    # The checker's order: its first lost ids, then dead-lettered, then
    # carried through a fault (informational), as cr_check_no_loss writes.
    evid = [{"t": t, "text": "id %s accepted at t=%.3f, never delivered" % (r, t)}
            for t, r, _ in lost[:5]]
    evid += [{"t": 2.461, "text": "id r0123 dead-lettered"}]
    evid += [{"t": 7.13, "text": "id r0300 accepted at t=6.000, delivered after the fault at t=7.130"}]
    steady = [{"t": round(0.5 * k + 0.25, 3), "text": "probe api failed: HTTP 503"}
              for k in range(14)]
    steady.insert(3, {"t": 0.1, "role": "info", "text": "probe api passed before the faults"})
    expects = [
        {"name": "no-loss", "kind": "no_loss", "verdict": "failed",
         "summary": "lost %d of %d accepted ids (bound <= 0)" % (len(lost), acc),
         "measured": {"value": len(lost), "unit": "ids", "bound": "<= 0"},
         "evidence": evid,
         "details": {"lost": len(lost), "duplicated": 0, "unexpected": 0,
                     "dead_lettered": 1, "recovered": 1, "accepted": acc,
                     "ids": acc, "events_without_id": 0}},
        {"name": "api-steady", "kind": "steady_state", "verdict": "failed",
         "summary": "probe api failed 14 times during the faults",
         "evidence": steady, "details": {"evidence_omitted": 7}},
        {"name": "worker-restarted", "kind": "service", "verdict": "passed",
         "summary": "worker.1 restarted once", "evidence": [], "details": {}},
        {"name": "resumes", "kind": "resumes", "verdict": "unknown",
         "summary": "no checkpoint_restored event: cannot judge resumption",
         "evidence": [], "details": {}},
    ]
    j = {
        "chaosrun": "0.1.0", "format": 1, "scenario_file": "scenarios/%s.json" % name,
        "name": name, "description": "Records lost where the faults hit.",
        "status": "failed", "exit_code": 1, "error": None, "seed": 5,
        "seed_source": "scenario", "reproduce": "chaosrun --seed 5 scenarios/%s.json" % name,
        "started_at": STARTED, "t0_unix": T0, "ended_at": T0 + 11.3,
        "duration_s": 10, "drain_s": 1,
        "machine": {"hostname": "ci-runner-07", "kernel": "6.18.0", "cpus": 2},
        "scenario": {"name": name, "expect": [{"name": "no-loss", "kind": "no_loss"}]},
        "timeline": [], "phases": [{"name": "faults", "t": 0}, {"name": "drain", "t": 10}],
        "services": [{"instance": i, "service": i.split(".")[0],
                      "replica": int(i.split(".")[1]),
                      "restarts": 1 if i == "worker.1" else 0, "history": h}
                     for i, h in hist.items()],
        "faults": faults, "probes": [], "expectations": expects,
        "events": {"file": "events.jsonl", "count": len(events), "malformed": 0,
                   "first_malformed": None},
        "log": [],
    }
    write_run("lost", j, events)
    os.makedirs(os.path.join(HERE, "lost", "traces"), exist_ok=True)
    with open(os.path.join(HERE, "lost", "traces", "worker.0.jsonl"), "w") as f:
        for sp in spans:
            f.write(json.dumps(sp, separators=(",", ":")) + "\n")
        f.write("not json: a torn line is skipped\n")


def main():
    # pass3
    rng = random.Random(42)
    events, facts = gen_events(rng, fail=False)
    hist = history(False)
    j = journal("pipeline-three-faults", "passed", 0, 42, events, hist,
                faults_journal(False), pass_expects(events))
    write_run("pass3", j, events)
    write_logs(os.path.join(HERE, "pass3"), events, hist)

    # fail (same scenario, seed 7)
    rng = random.Random(7)
    events, facts = gen_events(rng, fail=True)
    hist = history(True)
    bad = ['{"ts": 1764200010.5, "svc": "worker", "ev": "delivered", "id": "r00', 'not json at all']
    j = journal("pipeline-three-faults", "failed", 1, 7, events, hist,
                faults_journal(False), fail_expects(events, facts["lost"]),
                malformed=len(bad), first_malformed=bad[0])
    write_run("fail", j, events, bad)
    write_logs(os.path.join(HERE, "fail"), events, hist, timed="unix")

    # interrupted at t=14 while the store is paused
    rng = random.Random(3)
    events, facts = gen_events(rng, fail=False, stop_at=14.0)
    hist = history(False, stop_at=14.0)
    exp = [
        {"name": "recovers", "kind": "recovers", "verdict": "unknown",
         "summary": "the run was interrupted before the faults ended",
         "evidence": [], "details": {}},
        {"name": "breaker-opens", "kind": "events", "verdict": "passed",
         "summary": "breaker opened 1 time (at least 1)",
         "measured": {"value": 1, "unit": "events", "bound": ">= 1"},
         "evidence": [{"t": 13.02, "text": "t=13.020 worker.0 breaker name=store state=open"}],
         "details": {}},
    ]
    faults = faults_journal(False, stop_at=14.0)
    write_logs(os.path.join(HERE, "interrupted"), events, hist, stop_at=14.0,
               timed=False, faults=faults)
    j = journal("pipeline-three-faults", "interrupted", 4, 3, events, hist,
                faults, exp, stop_at=14.0)
    j["error"] = "interrupted by SIGINT at t=14.00 s; faults reverted, services stopped"
    write_run("interrupted", j, events)

    # unrunnable: nothing started
    j = {
        "chaosrun": "0.1.0", "format": 1, "scenario_file": "scenarios/netem-partition.json",
        "name": "netem-partition", "description": "Delay & loss between h1 and h2 (needs sch_netem).",
        "status": "unrunnable", "exit_code": 3,
        "error": "netem on veth-h2: RTM_NEWQDISC: No such file or directory (kernel lacks sch_netem)",
        "seed": 11, "seed_source": "scenario",
        "reproduce": "chaosrun --seed 11 scenarios/netem-partition.json",
        "started_at": STARTED, "t0_unix": None, "ended_at": STARTED + 0.21,
        "duration_s": 20, "drain_s": 2,
        "machine": {"hostname": "ci-runner-07", "kernel": "6.18.0", "cpus": 2},
        "scenario": {"name": "netem-partition", "duration_s": 20,
                     "services": [{"name": "h1", "argv": ["bin/echo-server"]}],
                     "faults": [{"kind": "netem", "link": "h1<->h2", "delay_ms": 200, "loss": 0.1}],
                     "expect": [{"name": "recovers", "kind": "recovers", "within_s": 5}]},
        "timeline": [], "phases": [{"name": "startup", "t": 0}],
        "services": [], "faults": [], "probes": [], "expectations": [],
        "events": {"file": "events.jsonl", "count": 0, "malformed": 0, "first_malformed": None},
        "log": [{"t": 0, "text": "checking the machine: sch_netem missing"}],
    }
    write_run("unrunnable", j, None)

    write_lost()


if __name__ == "__main__":
    main()

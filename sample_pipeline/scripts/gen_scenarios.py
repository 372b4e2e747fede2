#!/usr/bin/env python3
"""Generate the reference pipeline's scenarios (scenarios/quickstart.json and
scenarios/pipeline-*.json) so that the services block stays the same in
all of them.  Run from the source root: python3 sample_pipeline/scripts/gen_scenarios.py
Every service passes ${CRP_DEFECT:-} through: the defect switches (test
only) are turned on by the end-to-end tests from the environment."""
import json
import os

B = "${CHAOSRUN_BINDIR}/crp"


def svc(name, stage, port, args=(), replicas=1, restart="on-failure", dirs=None):
    s = {"name": name, "cmd": [B, stage, *args], "port": port}
    if replicas > 1:
        s["replicas"] = replicas
    s["env"] = {"CRP_DEFECT": "${CRP_DEFECT:-}"}
    if dirs:
        s["dirs"] = list(dirs)
    s["ready"] = {"kind": "tcp", "timeout_s": 10}
    s["stop_signal"] = "SIGTERM"
    s["stop_timeout_s"] = 8
    s["restart"] = restart
    s["restart_delay_s"] = 0.3
    return s


PORTS = {"queue": 7201, "feature": 7230, "ingest": 7210, "worker": 7220, "sink": 7240,
         "trainer": 7250, "producer": 7260}


def pipeline(rate=200, dur=14, workers=2, worker=(), feature=(), sink=(), queue=(),
             producer=(), trainer=None, restart="on-failure", ports=None, http=None,
             dirs=None):
    """ports: service -> port (default PORTS); http: service -> --http-port
    for the stages whose metrics port is not their port (queue, ingest,
    feature: port+100 by default); dirs: every service's "dirs"."""
    p = ports or PORTS
    h = http or {}

    def hp(name):
        return ["--http-port", str(h[name])] if name in h else []
    k = {"restart": restart, "dirs": dirs}
    s = [svc("queue", "queue", p["queue"], [*queue, *hp("queue")], **k),
         svc("feature", "feature", p["feature"], [*feature, *hp("feature")], **k),
         svc("ingest", "ingest", p["ingest"], hp("ingest"), **k),
         svc("worker", "worker", p["worker"], worker, replicas=workers, **k),
         svc("sink", "sink", p["sink"], sink, **k)]
    if trainer is not None:
        s.append(svc("trainer", "trainer", p["trainer"], trainer, **k))
    s.append(svc("producer", "produce", p["producer"],
                 ["--rate", str(rate), "--duration-s", str(dur), "--count", "0", *producer],
                 **k))
    return s


HEALTH = [
    {"kind": "http", "name": "sink-health", "url": "http://127.0.0.1:7240/health",
     "status": 200, "phases": ["before", "after"]},
    {"kind": "tcp", "name": "queue-up", "port": 7201, "phases": ["before", "after"]},
]
# Feature calls: 100 ms timeout; the breaker opens after 15 consecutive
# failures (3 records' worth of 5 attempts), so there are enough retry
# sequences for the backoff checker to judge the jitter.
WORKER_FAST = ["--feature-timeout-ms", "100", "--breaker-failures", "15"]
# How soon after an outage begins the breaker must open: by design at most
# 15 timeouts of 100 ms (1.5 s) plus three records' retry back-offs, each
# at most 50+100+200+400 ms (2.25 s): 3.75 s.  The bound leaves 1.25 s for
# the machine: a CPU-starved worker's timers fire late (4.08 s was seen
# beside stress-ng --cpu 2 at load 35 against the former bound of 4 s, a
# false failure).  breaker_never_opens never opens at all.
BREAKER_OPENS_S = 5
BACKOFF = {"kind": "backoff", "name": "feature-backoff", "op": "features", "base_ms": 50,
           "factor": 2, "max_ms": 2000, "max_attempts": 5, "jitter": "full"}
NO_LOSS = {"kind": "no_loss", "name": "no-loss", "max_lost": 0}
# The registry's trouble must not move traffic: no failover because the
# registry dropped the primary (reason "unhealthy").  A failover on a
# request that timed out (reason "timeout", then "failback") is the
# mechanism working on a slow machine, not a symptom of the registry (seen
# once in 20 seeds beside stress-ng at load 35, a false failure of the
# former "no failover at all").
NO_SPURIOUS_FAILOVER = {"kind": "events", "name": "no-spurious-failover", "ev": "failover",
                        "where": {"reason": "unhealthy"}, "max": 0}

SCEN = {}

SCEN["quickstart"] = {
    "name": "quickstart",
    "description": "The whole reference pipeline (queue, ingest, 2 workers, feature service, sink, "
                   "trainer, producer at 200 records/s): a worker is SIGKILLed once and restarted, "
                   "the feature service is paused for 6 s. Nothing accepted may be lost or delivered "
                   "twice, retries follow the backoff policy, the breaker opens and closes.",
    "seed": 42, "duration_s": 16, "drain_s": 4,
    "services": pipeline(rate=200, dur=14, worker=WORKER_FAST,
                         trainer=["--train-n", "1000", "--epochs", "3"]),
    "steady_state": HEALTH,
    "faults": [
        {"kind": "kill", "name": "kill-worker", "target": "worker.random", "at_s": [2, 4],
         "signal": "SIGKILL"},
        {"kind": "pause", "name": "feature-outage", "target": "feature", "at_s": 6, "for_s": 6}],
    "expect": [
        {"kind": "steady_state", "name": "healthy-before-and-after"},
        NO_LOSS,
        {"kind": "events", "name": "retries-happened", "ev": "retry", "where": {"op": "features"},
         "min": 1},
        BACKOFF,
        {"kind": "breaker", "name": "feature-breaker", "breaker": "features", "opens_within_s": BREAKER_OPENS_S,
         "closes_within_s": 6, "dependency_fault": "feature-outage"},
        {"kind": "service", "name": "worker-restarted", "service": "worker",
         "restarts": {"min": 1}}],
}

SCEN["pipeline-feature-outage"] = {
    "name": "pipeline-feature-outage",
    "description": "The feature service is down twice (paused 5 s, then killed and restarted "
                   "after 4 s): workers retry with backoff and a limit, the breaker opens and "
                   "closes, results are degraded meanwhile and nothing is lost. Covers the defect "
                   "switches no_backoff, no_retry_limit and breaker_never_opens.",
    "seed": 11, "duration_s": 13, "drain_s": 3,
    "services": pipeline(rate=150, dur=11, worker=WORKER_FAST),
    "steady_state": HEALTH,
    "faults": [
        {"kind": "pause", "name": "feature-outage", "target": "feature", "at_s": 3, "for_s": 5}],
    "expect": [
        NO_LOSS,
        BACKOFF,
        {"kind": "breaker", "name": "feature-breaker", "breaker": "features", "opens_within_s": BREAKER_OPENS_S,
         "closes_within_s": 6, "min_open_s": 2, "dependency_fault": "feature-outage"},
        {"kind": "events", "name": "degraded-results", "ev": "degraded", "min": 1},
        {"kind": "events", "name": "features-restored", "ev": "restored", "min": 1},
        {"kind": "events", "name": "giveups", "ev": "giveup", "where": {"op": "features"},
         "min": 1}],
}

# Overload keeps the workers busy (the feature service answers in 5 ms,
# i.e. 200 calls/s, for 250 records/s), so a kill usually hits a worker with
# a batch in hand.  A stall does always: it is anchored to the worker's
# `leased` event of a full batch (16 records: at least 80 ms of feature
# calls in hand), not to a time -- on a loaded CI machine the queue can run
# dry for a moment, and a stall at a fixed time then found worker.1 idle:
# nothing processed twice, the defect no_dedup not caught.
# Kills hit only worker.2, a third replica never stalled: random kills once
# hit both stalled workers 15-30 ms after they resumed, before either
# committed the stale batch whose second delivery shows no_dedup (stop 28,
# no hog, seed 5).  The first kill is anchored to worker.2's third full
# lease (16 records it has not committed, which ack_before_commit loses);
# the next two come 1.5 s after it is ready again, which is sure to come --
# a 20th full lease was not (beside a hog worker.2 had 14 in one seed).
# The counts are each worker's own full leases, a third of them each with
# three workers (worker.1's 30th, the count for two, came at 11 s once).
BUSY_FEATURE = ["--feature-delay-us", "5000"]
SCEN["pipeline-worker-kill"] = {
    "name": "pipeline-worker-kill",
    "description": "Three workers under load, with a 1 s lease: worker.2 SIGKILLed three times, "
                   "worker.0 and worker.1 each stalled (SIGSTOP) once; the killed worker's records "
                   "come back at once (its connection closed), the stalled worker's after the "
                   "lease, and are processed again; the sink deduplicates. The first kill and "
                   "each stall are anchored to a full batch the worker has just leased (its "
                   "leased event), so it holds records; the next kills come 1.5 s after worker.2 "
                   "is ready again; no kill hits a stalled worker. No "
                   "accepted record lost, none delivered twice. Covers the defect switches "
                   "ack_before_commit and no_dedup.",
    "seed": 23, "duration_s": 14, "duration_max_s": 60,
    "drain": {"until_quiet_s": 3, "ev": "delivered", "max_s": 60},
    # data/ and traces/ made by chaosrun: e2e pipeline_service_user runs
    # the services as nobody
    "services": pipeline(rate=250, dur=9, workers=3,
                         worker=["--batch", "16", "--lease-events", "1"],
                         feature=BUSY_FEATURE,
                         queue=["--lease-ms", "1000"], dirs=["data", "traces"]),
    "steady_state": HEALTH,
    "faults": [
        {"kind": "kill", "name": "kill-worker1", "target": "worker.2", "signal": "SIGKILL",
         "on_event": {"ev": "leased", "svc": "worker.2", "where": {"n": 16}, "count": 3}},
        *({"kind": "kill", "name": f"kill-worker{k}", "target": "worker.2", "signal": "SIGKILL",
           "on_ready": {"svc": "worker.2", "count": k, "delay_s": 1.5}} for k in (2, 3)),
        {"kind": "pause", "name": "stall-worker0", "target": "worker.0", "for_s": 2.5,
         "on_event": {"ev": "leased", "svc": "worker.0", "where": {"n": 16}, "count": 5}},
        {"kind": "pause", "name": "stall-worker1", "target": "worker.1", "for_s": 2.5,
         "on_event": {"ev": "leased", "svc": "worker.1", "where": {"n": 16}, "count": 12}}],
    "expect": [
        NO_LOSS,
        {"kind": "service", "name": "worker-restarted", "service": "worker",
         "restarts": {"min": 1}}],
}

TRAINER = ["--train-n", "1500", "--epochs", "3", "--step-delay-us", "2000", "--ckpt-every", "250"]
SCEN["pipeline-trainer-kill"] = {
    "name": "pipeline-trainer-kill",
    "description": "The trainer is SIGKILLed twice: right after its 4th checkpoint, and right "
                   "after its first checkpoint write that failed in a 3 s disk-full window "
                   "opened after its 6th checkpoint (seccomp: writes and fsyncs under its data "
                   "directory fail with ENOSPC; its event file still takes writes, so the failure "
                   "is seen as it happens). "
                   "It resumes each time from the last checkpoint it saved, and the final model "
                   "hash is bit-identical to that of the fault-free baseline run. Covers the "
                   "defect switch unsafe_checkpoint (written in place: the failed write destroys "
                   "the only checkpoint). Both kills and the window are anchored to the "
                   "trainer's own checkpoint events, never to how fast this machine trains.",
    "seed": 5, "duration_s": 14, "duration_max_s": 60,
    "drain": {"until_quiet_s": 3, "ev": "progress", "svc": "trainer", "max_s": 90},
    "services": [svc("trainer", "trainer", 7250, TRAINER)],
    "faults": [
        {"kind": "kill", "name": "kill-after-checkpoint", "target": "trainer", "signal": "SIGKILL",
         "on_event": {"ev": "checkpoint_saved", "svc": "trainer", "count": 4}},
        {"kind": "syscall", "name": "trainer-disk-full", "target": "trainer", "preset": "disk_full",
         "backend": "seccomp", "path": "data/",
         "on_event": {"ev": "checkpoint_saved", "svc": "trainer", "count": 6}, "for_s": 3},
        {"kind": "kill", "name": "kill-between-checkpoints", "target": "trainer",
         "signal": "SIGKILL", "on_event": {"ev": "checkpoint_failed", "svc": "trainer"}}],
    "expect": [
        {"kind": "same_result", "name": "same-model", "result": "model_hash"},
        # replay bound: one checkpoint interval plus the disk-full window
        {"kind": "checkpoint", "name": "resumes-from-checkpoint", "service": "trainer",
         "checkpoint": "trainer", "max_replay": 1000},
        {"kind": "service", "name": "trainer-restarted", "service": "trainer",
         "restarts": {"min": 2}}],
}

SCEN["pipeline-disk-errors"] = {
    "name": "pipeline-disk-errors",
    "description": "The sink's disk fails under load: 3 s of disk full (ENOSPC on write/fsync), "
                   "then 2 s in which 30% of reads and writes fail with EIO (libfiu). The sink "
                   "rolls back, retries its commit with backoff on a reopened database and "
                   "acknowledges nothing it did not commit: no accepted record lost, none "
                   "delivered twice.",
    "seed": 17, "duration_s": 12, "drain_s": 5,
    "services": pipeline(rate=200, dur=10),
    "steady_state": HEALTH,
    "faults": [
        {"kind": "syscall", "name": "sink-disk-full", "target": "sink", "preset": "disk_full",
         "at_s": 2, "for_s": 3},
        {"kind": "syscall", "name": "sink-io-errors", "target": "sink", "preset": "io_error",
         "probability": 0.3, "at_s": 7, "for_s": 2}],
    "expect": [
        NO_LOSS,
        {"kind": "events", "name": "commit-retried", "ev": "retry", "svc": "sink",
         "where": {"op": "commit"}, "min": 1}],
}

SCEN["pipeline-pressure"] = {
    "name": "pipeline-pressure",
    "description": "Resource pressure under load: the workers are capped at 2 % of a CPU for "
                   "4 s (cgroup CFS quota; at 200 records/s they may need less -- the journal's "
                   "periods_throttled says whether the cap bit), and the sink's disk -- a 64 MiB "
                   "tmpfs at its data directory -- is really filled (fallocate) for 3 s, so SQLite "
                   "gets ENOSPC from the kernel, no preload. The sink retries its commits and "
                   "recovers: no accepted record lost, none delivered twice. Needs root "
                   "(cgroups, tmpfs).",
    "seed": 17, "duration_s": 12, "drain_s": 5,
    "services": pipeline(rate=200, dur=10),
    "steady_state": HEALTH,
    "faults": [
        {"kind": "cpu", "name": "worker-cpu", "target": "worker", "quota_pct": 2,
         "at_s": 2, "for_s": 4},
        {"kind": "disk_fill", "name": "sink-disk-full", "path": "data/sink.0", "tmpfs_mb": 64,
         "leave_mb": 0, "at_s": 3, "for_s": 3}],
    "expect": [
        NO_LOSS,
        {"kind": "events", "name": "commit-retried", "ev": "retry", "svc": "sink",
         "where": {"op": "commit"}, "min": 1}],
}

SCEN["pipeline-slow-disk"] = {
    "name": "pipeline-slow-disk",
    "description": "The sink's disk goes slow under load for 3 s: every read, write and sync of "
                   "its database files (data/sink.0 under the run directory) is held 100 ms "
                   "(seccomp backend: the sink's other calls, its sockets and its log are not "
                   "touched). Its commits slow down, the results queue backs up, deliveries "
                   "fall behind the producer and catch up after the window: backpressure, "
                   "with no accepted record lost and none delivered twice.",
    "seed": 19, "duration_s": 12, "drain_s": 5,
    "services": pipeline(rate=200, dur=10),
    "steady_state": HEALTH,
    "faults": [
        {"kind": "syscall", "name": "sink-slow-disk", "target": "sink", "preset": "slow_disk",
         "delay_ms": 100, "path": "data/sink.0", "at_s": 3, "for_s": 3}],
    "expect": [NO_LOSS],
}

SCEN["pipeline-poison"] = {
    "name": "pipeline-poison",
    "description": "10% malformed records (bad JSON, missing fields, out-of-range values, wrong "
                   "dimension, unknown schema) and 5% poison records (valid but unprocessable) with "
                   "a worker killed meanwhile: every malformed record is dead-lettered by ingest "
                   "with its reason, every poison record by a worker after 3 deliveries, every "
                   "other record delivered once.",
    "seed": 31, "duration_s": 8, "drain_s": 3,
    "services": pipeline(rate=150, dur=6, producer=["--malformed", "0.1", "--poison", "0.05"]),
    "steady_state": HEALTH,
    "faults": [
        {"kind": "kill", "name": "kill-worker", "target": "worker.random", "at_s": [2, 4],
         "signal": "SIGKILL"}],
    "expect": [
        NO_LOSS,
        {"kind": "events", "name": "malformed-dead-lettered", "ev": "dead_lettered",
         "svc": "ingest", "min": 40},
        {"kind": "events", "name": "poison-dead-lettered", "ev": "dead_lettered", "svc": "worker",
         "min": 15}],
}

# Alerting: the pipeline on ports 77xx (other scenarios use 72xx and run in
# parallel) with `crp alerter` scraping every stage.  The feature service is
# paused for 6 s at 4 s: the error-ratio rule (failed+rejected over all
# feature calls, 1 s window, > 0.5 for 3 s) must not fire in the fault-free
# lead-in nor within its for_s of the fault's start (alert_no_for fires
# about 1 s in), must fire during the outage and must resolve after it
# (alert_never_resolves does not).
AP = {"queue": 7701, "feature": 7730, "ingest": 7710, "worker": 7720, "sink": 7740,
      "producer": 7760}
AHTTP = {"queue": 7702, "ingest": 7711, "feature": 7731}
ALERTER = svc("alerter", "alerter", 7770,
              ["--scrape-ms", "250", "--targets",
               "queue=7702,ingest=7711,feature=7731,worker.0=7720,worker.1=7721,sink=7740,"
               "produce=7760"])
SCEN["pipeline-alerts"] = {
    "name": "pipeline-alerts",
    "description": "The pipeline with its alerter (crp alerter, built-in rules) through a 6 s "
                   "feature-service outage: the feature error-ratio and breaker-open alerts fire "
                   "during the outage, only after their for_s, and resolve after it; nothing fires "
                   "in the fault-free lead-in; nothing is lost. Covers the defect switches "
                   "alert_no_for and alert_never_resolves.",
    "seed": 13, "duration_s": 17, "drain_s": 3,
    "services": pipeline(rate=150, dur=15, worker=WORKER_FAST, ports=AP, http=AHTTP)
    + [ALERTER],
    "steady_state": [
        {"kind": "http", "name": "sink-health", "url": "http://127.0.0.1:7740/health",
         "status": 200, "phases": ["before", "after"]},
        {"kind": "http", "name": "alerter-health", "url": "http://127.0.0.1:7770/health",
         "status": 200, "phases": ["before", "after"]}],
    "faults": [
        {"kind": "pause", "name": "feature-outage", "target": "feature", "at_s": 4, "for_s": 6}],
    "expect": [
        NO_LOSS,
        {"kind": "events", "name": "quiet-lead-in", "ev": "alert", "svc": "alerter",
         "where": {"state": "firing"}, "max": 0, "window": {"from_s": 0, "to_s": 4}},
        {"kind": "events", "name": "error-ratio-waits-for", "ev": "alert", "svc": "alerter",
         "where": {"rule": "feature-error-ratio", "state": "firing"}, "max": 0,
         "window": {"fault": "feature-outage", "from_s": 0, "to_s": 2.9}},
        {"kind": "events", "name": "error-ratio-fires", "ev": "alert", "svc": "alerter",
         "where": {"rule": "feature-error-ratio", "state": "firing"}, "min": 1, "max": 1,
         "window": {"fault": "feature-outage", "from_s": 0, "to_s": 6}},
        {"kind": "events", "name": "breaker-open-fires", "ev": "alert", "svc": "alerter",
         "where": {"rule": "feature-breaker-open", "state": "firing"}, "min": 1,
         "window": {"fault": "feature-outage", "from_s": 1, "to_s": 6}},
        {"kind": "events", "name": "error-ratio-resolves", "ev": "alert", "svc": "alerter",
         "where": {"rule": "feature-error-ratio", "state": "resolved"}, "min": 1,
         "window": {"fault": "feature-outage", "from": "end", "from_s": 0, "to_s": 6}}],
}

STAGES = ["queue", "feature", "ingest", "worker", "sink", "trainer", "producer"]
SCEN["pipeline-sigterm"] = {
    "name": "pipeline-sigterm",
    "description": "Every stage is stopped with SIGTERM once under load and started again (and "
                   "all of them again at the end of the run): each drains gracefully "
                   "(stopping/stopped: stop intake, finish or hand back in-flight work, flush, exit "
                   "0) and nothing acknowledged is lost or delivered twice. Covers the defect "
                   "switch drop_inflight.",
    "seed": 3, "duration_s": 14,
    "drain": {"until_quiet_s": 3, "ev": "delivered", "max_s": 60},
    "services": pipeline(rate=250, dur=7, feature=BUSY_FEATURE, worker=["--batch", "16"],
                         trainer=TRAINER),
    "steady_state": HEALTH,
    "faults": [
        {"kind": "restart", "name": "term-" + t.replace(".", ""), "target": t, "at_s": at,
         "signal": "SIGTERM"}
        for t, at in [("worker.0", 2), ("ingest", 3), ("worker.1", 4), ("sink", 5),
                      ("queue", 6), ("feature", 7), ("trainer", 7.5), ("worker.0", 8),
                      ("producer", 9)]],
    "expect": [NO_LOSS,
               {"kind": "events", "name": "graceful-stops", "ev": "stopped", "min": 17}] + [
        {"kind": "service", "name": st + "-exits-clean", "service": st, "exit": "clean"}
        for st in STAGES],
}
for i, f in enumerate(SCEN["pipeline-sigterm"]["faults"]):
    f["name"] = "term-%d-%s" % (i, f["target"].replace(".", ""))

# Model versions: every stage on 76xx ports (this scenario runs in parallel
# with the 72xx ones).  The store is <run dir>/store (a relative --store is
# taken under $CHAOSRUN_RUN_DIR), so the fault-free baseline has its own.
# There is no exec-style fault: the operator is a small service ("ops", a
# shell script) that waits for the first promoted model, runs a second
# training on shuffled labels (the gate must refuse it), and then acts on
# signals sent by `kill` faults at fixed times: SIGUSR1 force-promotes the
# newest model (the refused one), SIGUSR2 rolls back.  In the baseline no
# signal comes, so its last canary result is the good model's: the run's
# must equal it once the rollback restored the old version.
VSTORE = ["--store", "store"]
OPS = r"""C=$1; M="$C models --store store"
i=0
until $M list | grep -q ' current '; do
  i=$((i+1)); [ $i -gt 200 ] && { echo "no promoted model" >&2; exit 1; }; sleep 0.1
done
CHAOSRUN_SERVICE=trainer-bad CHAOSRUN_INSTANCE=trainer-bad.0 \
CRP_DEFECT="shuffled_labels,$CRP_DEFECT" $C trainer --store store --port 7651 \
  --data-dir "$CHAOSRUN_RUN_DIR/data/trainer-bad" --exit-when-done 1 \
  --train-n 1000 --step-delay-us 200 || exit 1
bad=$($M list | awk 'NR > 1 { v = $1 } END { print v }')
echo "ops: newest model $bad" >&2
trap '$M promote "$bad" --force' USR1
trap '$M rollback' USR2
trap 'exit 0' TERM
echo "ops: ready for promote (USR1) and rollback (USR2)" >&2
while :; do sleep 0.1; done
"""


def vsvc(name, stage, port, args=(), replicas=1):
    s = svc(name, stage, port, args, replicas=replicas)
    return s


VWORKER = VSTORE + ["--queue", "127.0.0.1:7601", "--feature", "127.0.0.1:7605"]
SCEN["pipeline-model-versions"] = {
    "name": "pipeline-model-versions",
    "description": "Versioned models: the trainer publishes a good model to the content-addressed "
                   "artifact store and the gate promotes it; a second training on shuffled labels "
                   "gives a bad model that the gate must refuse. An operator then force-promotes "
                   "the bad model (SIGUSR1 to ops) and rolls back (SIGUSR2): both workers follow "
                   "the store's current pointer without a restart, and after the rollback their "
                   "canary results equal the fault-free baseline's (the good model's). Covers the "
                   "defect switch no_gate. Ports 76xx.",
    "seed": 7, "duration_s": 14, "drain_s": 3,
    "services": [
        vsvc("queue", "queue", 7601, ["--http-port", "7611"]),
        vsvc("feature", "feature", 7605, ["--http-port", "7615"]),
        vsvc("ingest", "ingest", 7603, ["--http-port", "7613", "--queue", "127.0.0.1:7601"]),
        vsvc("worker", "worker", 7620, VWORKER, replicas=2),
        vsvc("sink", "sink", 7640, ["--queue", "127.0.0.1:7601"]),
        vsvc("trainer", "trainer", 7650,
             VSTORE + ["--train-n", "1000", "--epochs", "3", "--step-delay-us", "200"]),
        vsvc("producer", "produce", 7660,
             ["--ingest", "127.0.0.1:7603", "--rate", "60", "--duration-s", "12", "--count",
              "0"]),
        {"name": "ops", "cmd": ["sh", "-c", OPS, "ops", B],
         "env": {"CRP_DEFECT": "${CRP_DEFECT:-}"}, "stop_signal": "SIGTERM",
         "stop_timeout_s": 5,
         "ready": {"kind": "log", "regex": "ops: ready for promote", "timeout_s": 120},
         "restart": "never"}],
    "faults": [
        {"kind": "kill", "name": "force-promote-bad", "target": "ops", "signal": "SIGUSR1",
         "at_s": 6},
        {"kind": "kill", "name": "rollback", "target": "ops", "signal": "SIGUSR2",
         "at_s": 10}],
    "expect": [
        {"kind": "events", "name": "one-model-passes-gate", "ev": "model_promoted",
         "where": {"by": "gate"}, "min": 1, "max": 1},
        {"kind": "events", "name": "bad-model-refused", "ev": "model_rejected", "min": 1,
         "max": 1},
        {"kind": "events", "name": "workers-follow-force-promotion", "ev": "model_loaded",
         "svc": "worker", "window": {"fault": "force-promote-bad", "from_s": 0, "to_s": 3},
         "min": 2, "max": 2},
        {"kind": "events", "name": "workers-follow-rollback", "ev": "model_loaded",
         "svc": "worker", "window": {"fault": "rollback", "from_s": 0, "to_s": 3},
         "min": 2, "max": 2},
        {"kind": "events", "name": "rollback-recorded", "ev": "model_rolled_back", "min": 1,
         "max": 1},
        {"kind": "events", "name": "no-bad-blob-loaded", "ev": "model_load_failed", "max": 0},
        {"kind": "same_result", "name": "results-restored", "result": "canary_scores"},
        NO_LOSS,
        {"kind": "service", "name": "ops-exits-clean", "service": "ops", "exit": "clean"}],
}

# Redundant model serving (ports 78xx; other scenarios use 72xx/76xx/77xx
# and run in parallel).  Scoring moves out of the workers into two model
# servers, a primary (modelsrv-a, priority 0) and a standby (modelsrv-b,
# priority 1), found through `crp registry`; the workers route to the
# preferred healthy one and fail over when it stops answering.
FP = {"queue": 7801, "ingest": 7803, "feature": 7805, "worker": 7820, "sink": 7840,
      "producer": 7860}
FHTTP = {"queue": 7811, "ingest": 7813, "feature": 7815}
REMOTE = ["--scoring", "remote", "--failback", "1", "--score-timeout-ms", "500",
          "--refresh-ms", "200", "--down-ms", "2000"]


def registry(extra=()):
    return svc("registry", "registry", 7870, ["--http-port", "7871", *extra])


def modelsrv(name, port, prio, extra=()):
    return svc(name, "modelsrv", port,
               ["--http-port", str(port + 10), "--priority", str(prio), *extra])


def serving(rate=150, dur=10, worker=()):
    return ([registry(), modelsrv("modelsrv-a", 7880, 0), modelsrv("modelsrv-b", 7881, 1)]
            + pipeline(rate=rate, dur=dur, worker=[*REMOTE, *worker], ports=FP, http=FHTTP))


FHEALTH = [
    {"kind": "http", "name": "sink-health", "url": "http://127.0.0.1:7840/health",
     "status": 200, "phases": ["before", "after"]},
    {"kind": "http", "name": "registry-health", "url": "http://127.0.0.1:7871/health",
     "status": 200, "phases": ["before", "after"]}]

SCEN["pipeline-failover"] = {
    "name": "pipeline-failover",
    "description": "Redundant model serving: the workers score remotely on the primary model "
                   "server (modelsrv-a) found through the registry; it is SIGKILLed under load. "
                   "The workers fail over to the standby (modelsrv-b) at once, re-sending the "
                   "request in flight, the standby serves within 1.5 s, the primary serves nothing "
                   "until it is back (restarted), the workers fail back to it once the registry "
                   "reports it healthy again, and no accepted record is lost or delivered twice. "
                   "Covers the defect switches no_failover and failover_drop. Ports 78xx.",
    "seed": 29, "duration_s": 12, "drain_s": 4,
    "services": serving(rate=150, dur=10),
    "steady_state": FHEALTH,
    "faults": [
        {"kind": "kill", "name": "kill-primary", "target": "modelsrv-a", "at_s": 4,
         "signal": "SIGKILL"}],
    "expect": [
        {"kind": "events", "name": "primary-preferred", "ev": "served", "svc": "modelsrv-b",
         "max": 0, "window": {"from_s": 0, "to_s": 4}},
        {"kind": "failover", "name": "fails-over", "from": "modelsrv-a", "to": "modelsrv-b",
         "within_ms": 1500, "exclusive": True, "success_ev": ["served"]},
        # Counted from the instant the restarted primary is ready again
        # (its readiness #2), not from the kill: the window then measures
        # the registry and the workers, not how fast modelsrv-a boots.
        {"kind": "events", "name": "fails-back", "ev": "failover", "svc": "worker",
         "where": {"reason": "failback"}, "min": 1,
         "window": {"ready": "modelsrv-a", "count": 2, "from_s": 0, "to_s": 6}},
        NO_LOSS],
}

SCEN["pipeline-registry-down"] = {
    "name": "pipeline-registry-down",
    "description": "The service registry fails under load: paused (SIGSTOP) for 4 s, later "
                   "SIGKILLed and restarted with an empty table. The workers keep routing to "
                   "the model servers they last knew to be healthy (registry_unreachable, then "
                   "registry_restored), nothing fails over spuriously (the registry warms up "
                   "after its stall and after its restart instead of declaring every instance "
                   "dead), deliveries go on throughout, and nothing is lost. Covers the defect "
                   "switch registry_forgets. Ports 78xx.",
    "seed": 31, "duration_s": 13, "drain_s": 4,
    "services": serving(rate=150, dur=11),
    "steady_state": FHEALTH,
    "faults": [
        {"kind": "pause", "name": "registry-paused", "target": "registry", "at_s": 3,
         "for_s": 4},
        {"kind": "kill", "name": "registry-killed", "target": "registry", "at_s": 9,
         "signal": "SIGKILL"}],
    "expect": [
        {"kind": "events", "name": "outage-noticed", "ev": "registry_unreachable",
         "svc": "worker", "min": 1},
        {"kind": "events", "name": "registry-restored", "ev": "registry_restored",
         "svc": "worker", "min": 1},
        {"kind": "events", "name": "keeps-serving-while-paused", "ev": "delivered", "min": 100,
         "window": {"fault": "registry-paused", "from_s": 1.5, "to_s": 4}},
        {"kind": "events", "name": "keeps-serving-after-restart", "ev": "delivered", "min": 100,
         "window": {"fault": "registry-killed", "from_s": 0.2, "to_s": 2}},
        NO_SPURIOUS_FAILOVER,
        NO_LOSS],
}

SCEN["pipeline-clock-skew"] = {
    "name": "pipeline-clock-skew",
    "description": "The service registry's wall clock misbehaves under load (the clock fault, "
                   "through libfaketime): 10 s ahead for 4 s (a step forward, then back), then "
                   "a step 10 s back that stays. Leases measure elapsed time, so the registry "
                   "times heartbeats with CLOCK_MONOTONIC: no instance is declared unhealthy, "
                   "nothing fails over, deliveries go on and nothing is lost. Covers the defect "
                   "switch registry_wall_clock (heartbeats timed by the wall clock: the step "
                   "forward ages every heartbeat at once). Ports 78xx.",
    "seed": 37, "duration_s": 11, "drain_s": 4,
    "services": serving(rate=150, dur=9),
    "steady_state": FHEALTH,
    "faults": [
        {"kind": "clock", "name": "registry-ahead", "target": "registry", "offset_s": 10,
         "at_s": 2, "for_s": 4},
        {"kind": "clock", "name": "registry-back", "target": "registry", "jump_s": -10,
         "at_s": 7}],
    "expect": [
        {"kind": "events", "name": "no-false-unhealthy", "ev": "instance_unhealthy",
         "svc": "registry", "max": 0},
        NO_SPURIOUS_FAILOVER,
        {"kind": "events", "name": "keeps-serving-while-skewed", "ev": "delivered", "min": 100,
         "window": {"fault": "registry-ahead", "from_s": 0.5, "to_s": 4}},
        NO_LOSS],
}

# Multi-region (chaosrun hosts = network namespaces): the pipeline and the
# registry on host "core", one model server in each of "region-a" (the
# preferred one) and "region-b".  Only the registry and the model servers
# are reached across hosts (they listen on 0.0.0.0 and find each other
# through CHAOSRUN_ADDR_*: the registry at core's address, each model
# server advertising its host's); the stages inside core talk over core's
# loopback.  Probes run in the harness's namespace, so readiness is read
# from the logs and the health probes run from core.
LOOP = {"queue": "127.0.0.1:7801", "ingest": "127.0.0.1:7803", "feature": "127.0.0.1:7805"}
READY_LOG = {"registry": "registry on", "modelsrv": "model server on", "queue": "queue on",
             "ingest": "ingest on", "feature": "feature service on", "worker": "worker: queue",
             "sink": "sink: queue"}


def on_host(s, host):
    s = dict(s)
    s["host"] = host
    stage = s["cmd"][1]
    if stage in READY_LOG:
        s["ready"] = {"kind": "log", "regex": READY_LOG[stage], "timeout_s": 10}
    else:
        s.pop("ready", None)
    peers = {"ingest": ["--queue", LOOP["queue"]], "worker": ["--queue", LOOP["queue"],
             "--feature", LOOP["feature"]], "sink": ["--queue", LOOP["queue"]],
             "produce": ["--ingest", LOOP["ingest"]]}
    s["cmd"] = s["cmd"] + peers.get(stage, [])
    return s


def regions():
    core = [on_host(s, "core") for s in
            [registry(["--bind", "0.0.0.0"])]
            + pipeline(rate=120, dur=12, worker=REMOTE, ports=FP, http=FHTTP)]
    # each model server's region comes from its host (CHAOSRUN_REGION)
    a = on_host(modelsrv("modelsrv-a", 7880, 0, ["--bind", "0.0.0.0"]), "region-a")
    b = on_host(modelsrv("modelsrv-b", 7881, 1, ["--bind", "0.0.0.0"]), "region-b")
    return [core[0], a, b] + core[1:]


SCEN["pipeline-regions"] = {
    "name": "pipeline-regions",
    "description": "Two regions (chaosrun hosts region-a and region-b, one model server each; "
                   "the pipeline and the registry on host core). region-a is partitioned away "
                   "for 4 s under load (silent drops: requests time out): the workers fail over "
                   "to region-b's server, the registry marks region-a's unhealthy (no heartbeat, "
                   "failed checks), nothing acknowledged is lost; after the heal the workers fail "
                   "back to region-a. Covers the defect switch no_failover. Ports 78xx; needs "
                   "root (network namespaces).",
    "seed": 37, "duration_s": 14, "drain_s": 4,
    "hosts": [{"name": "core"}, {"name": "region-a", "region": "region-a"},
              {"name": "region-b", "region": "region-b"}],
    "services": regions(),
    "steady_state": [
        {"kind": "http", "name": "sink-health", "url": "http://127.0.0.1:7840/health",
         "status": 200, "phases": ["before", "after"], "from_host": "core"},
        {"kind": "http", "name": "registry-health", "url": "http://127.0.0.1:7871/health",
         "status": 200, "phases": ["before", "after"], "from_host": "core"}],
    "faults": [
        {"kind": "partition", "name": "region-a-cut-off",
         "groups": [["region-a"], ["core", "region-b"]], "at_s": 4, "for_s": 4}],
    "expect": [
        {"kind": "events", "name": "region-a-preferred", "ev": "served", "svc": "modelsrv-b",
         "max": 0, "window": {"from_s": 0, "to_s": 4}},
        # the partition hits modelsrv-a through its host: region-a is the
        # smaller group, the side cut off
        {"kind": "failover", "name": "fails-over-to-region-b", "from": "modelsrv-a",
         "to": "modelsrv-b", "within_ms": 2000, "exclusive": True,
         "success_ev": ["served"]},
        {"kind": "events", "name": "region-b-serves", "ev": "served", "svc": "modelsrv-b",
         "min": 10, "window": {"fault": "region-a-cut-off", "from_s": 1, "to_s": 4}},
        {"kind": "events", "name": "region-a-unhealthy", "ev": "instance_unhealthy",
         "svc": "registry", "where": {"instance": "modelsrv-a.0"}, "min": 1,
         "window": {"fault": "region-a-cut-off", "from_s": 0, "to_s": 2}},
        {"kind": "events", "name": "fails-back-after-heal", "ev": "failover", "svc": "worker",
         "where": {"reason": "failback"}, "min": 1,
         "window": {"fault": "region-a-cut-off", "from": "end", "from_s": 0, "to_s": 4}},
        NO_LOSS],
}

# RabbitMQ as the distributed queue: every stage on 81xx ports (others run
# in parallel on 72xx..79xx).  The broker is the service named `queue`, so
# CHAOSRUN_ADDR_QUEUE (the broker, or the fault proxy in front of it) is
# where `--broker amqp://guest:guest@/` connects.  epmd is its own
# foreground service on a private port, started before the broker, so no
# daemonized epmd survives the run.  The broker (sample_pipeline/scripts/
# rabbitmq.sh, copied to the build's bin/crp-rabbitmq.sh) keeps its node
# data under the run directory, which survives its restarts.
# Timeline, anchored to the broker's state, not to its boot time: the
# broker is SIGKILLed and restarted at 3 s; what follows counts from the
# instant it is ready again (R, its readiness #2 -- 6 s after the kill on
# a quiet machine, 10-20 s on a loaded one, more with
# CRP_BROKER_BOOT_DELAY_S): a worker SIGKILLed at R+3, the broker paused
# 4 s at R+6, and a silent partition (data held both ways, connections
# kept) between the broker and ingest, workers and sink for 5 s at R+14.
# The windows count deliveries after R, after the pause and after the
# partition.  duration_s (60) leaves room for R up to 41 s (the chain ends
# at R+19); on a slower machine the timeline stretches (duration_max_s 120:
# R up to 101 s) instead of failing the run (scenarios/README.md);
# the producer is stopped at R+24 (a fault), and the drain waits until no record was
# delivered for 5 s (at most 120 s: beside stress-ng --cpu 2 at load
# 11-18 the pipeline still delivered about 100 records/s when a 45 s cap
# ended the drain with thousands queued) instead of guessing how long the
# backlog takes.
RP = {"queue": 8101, "feature": 8130, "ingest": 8110, "worker": 8120, "sink": 8140,
      "producer": 8160}
RHTTP = {"ingest": 8111, "feature": 8131}
BROKER = ["--broker", "amqp://guest:guest@/"]
RLINKS = [{"name": n + "2mq", "from": n, "to": "queue", "listen_port": lp}
          for n, lp in [("ingest", 8105), ("worker", 8106), ("sink", 8107)]]


def rabbit_pipeline():
    s = pipeline(rate=150, dur=3600, worker=["--batch", "16", *BROKER], feature=BUSY_FEATURE,
                 sink=BROKER, ports=RP, http=RHTTP,
                 producer=["--poison", "0.02", "--malformed", "0.02"])
    for x in s:
        if x["name"] == "ingest":
            x["cmd"] += BROKER
    epmd = {"name": "epmd", "cmd": ["epmd", "-port", "8103"], "port": 8103,
            "ready": {"kind": "tcp", "timeout_s": 10}, "stop_signal": "SIGTERM",
            "stop_timeout_s": 3, "restart": "on-failure"}
    broker = {"name": "queue",
              "cmd": ["sh", "${CHAOSRUN_BINDIR}/crp-rabbitmq.sh", "8101", "8102", "8103"],
              "port": 8101, "ready": {"kind": "tcp", "timeout_s": 90},
              "stop_signal": "SIGTERM", "stop_timeout_s": 15, "restart": "on-failure",
              "restart_delay_s": 0.3}
    return [epmd, broker] + [x for x in s if x["name"] != "queue"]


SCEN["pipeline-rabbitmq"] = {
    "name": "pipeline-rabbitmq",
    "description": "The pipeline on RabbitMQ (durable quorum queues, persistent messages, "
                   "publisher confirms, manual acks, --broker) under load with 2% poison: the "
                   "broker is SIGKILLed and restarted; counted from the instant it is ready "
                   "again (however long its boot took), a worker is SIGKILLed, the broker is "
                   "paused 4 s, then silently partitioned from ingest, workers and sink for 5 s "
                   "(fault proxy, data held); the run drains until nothing is delivered for "
                   "5 s. Nothing accepted is lost or delivered twice, poison "
                   "is dead-lettered once, the pipeline delivers again after each fault. Covers "
                   "the defect switches amqp_transient and amqp_auto_ack. Ports 81xx.",
    "seed": 19, "duration_s": 60, "duration_max_s": 120,
    "drain": {"until_quiet_s": 5, "ev": "delivered", "max_s": 300},
    "services": rabbit_pipeline(),
    "links": RLINKS,
    "steady_state": [
        {"kind": "http", "name": "sink-health", "url": "http://127.0.0.1:8140/health",
         "status": 200, "phases": ["before", "after"]},
        {"kind": "tcp", "name": "broker-up", "port": 8101, "phases": ["before", "after"]}],
    "faults": [
        {"kind": "restart", "name": "kill-broker", "target": "queue", "signal": "SIGKILL",
         "at_s": 3},
        {"kind": "kill", "name": "kill-worker", "target": "worker.random", "signal": "SIGKILL",
         "on_ready": {"svc": "queue", "count": 2, "delay_s": 3}},
        {"kind": "pause", "name": "pause-broker", "target": "queue", "for_s": 4,
         "on_ready": {"svc": "queue", "count": 2, "delay_s": 6}}]
    + [{"kind": "proxy", "name": "partition-" + l["from"], "link": l["name"],
        "toxic": "timeout", "timeout": 0, "stream": "both", "for_s": 5,
        "on_ready": {"svc": "queue", "count": 2, "delay_s": 14}}
       for l in RLINKS]
    # The load ends with the chain, not at a wall-clock instant: the producer
    # (no time limit of its own) is stopped 5 s after the partition, so that
    # a timeline stretched by a slow boot still has traffic in its windows
    # (with --duration-s 56 a run whose broker was ready again at 60 s saw 0
    # deliveries after the pause: 5 of 15 beside stress-ng at load 20-35).
    + [{"kind": "terminate", "name": "stop-producer", "target": "producer",
        "on_ready": {"svc": "queue", "count": 2, "delay_s": 24}}],
    "expect": [
        NO_LOSS,
        # On RabbitMQ the sink announces each dead letter, once per id
        # (sample_pipeline/README.md): a copy redelivered after a lost
        # confirm is committed once.
        {"kind": "events", "name": "poison-dead-lettered", "ev": "dead_lettered",
         "svc": "sink", "min": 20},
        {"kind": "events", "name": "delivers-after-broker-restart", "ev": "delivered",
         "min": 50, "window": {"ready": "queue", "count": 2, "from_s": 0, "to_s": 6}},
        {"kind": "events", "name": "delivers-after-pause", "ev": "delivered", "min": 50,
         "window": {"fault": "pause-broker", "from": "end", "from_s": 0, "to_s": 3}},
        {"kind": "events", "name": "delivers-after-partition", "ev": "delivered", "min": 50,
         "window": {"fault": "partition-worker", "from": "end", "from_s": 0, "to_s": 5}},
        {"kind": "service", "name": "broker-restarted", "service": "queue",
         "restarts": {"min": 1}}],
}

# Autoscaling: every stage on 79xx ports.  chaosrun runs queue, feature,
# ingest, sink and the producers as services; `crp supervise --stages
# worker --autoscale 1:3` runs the workers and scales them on the ready
# depth of `work`.  A worker takes 5 ms per record (--process-delay-us), so
# one worker handles ~200 records/s: the steady producer (100/s) needs one,
# the burst (a second producer, 300/s for 6 s from ~3 s after it starts)
# needs three.  The supervisor scales up while the backlog grows, then
# down once it is gone, draining each retired worker with SIGTERM.
XP = {"queue": 7901, "feature": 7930, "ingest": 7910, "sink": 7940, "producer": 7960}
XHTTP = {"queue": 7902, "ingest": 7911, "feature": 7931}
SCALE = {"min": 1, "max": 3, "up": 150, "down": 20, "for_ms": 1000, "cooldown_ms": 2500}
BURST = ('sleep 3; exec "$0" produce --port 7961 --rate 300 --duration-s 6 --count 0')


def xsvc(name, stage, port, args=()):
    return svc(name, stage, port, [*args, *(["--http-port", str(XHTTP[name])]
                                           if name in XHTTP else [])])


SCEN["pipeline-autoscale"] = {
    "name": "pipeline-autoscale",
    "description": "Autoscaling and graceful scale-down: the workers run under `crp supervise "
                   "--stages worker --autoscale 1:3` beside the other stages; a 6 s producer burst "
                   "(3x one worker's capacity) makes the work backlog grow, the supervisor adds "
                   "workers (one at a time, after the depth stayed above 150 for 1 s, 2.5 s "
                   "cool-down) and removes them after the burst (depth below 20), draining each "
                   "with SIGTERM. Checks: scaled up then down, within [1, 3], cool-down held, "
                   "every retired worker stopped gracefully, nothing lost. Covers the defect "
                   "switches scale_no_cooldown and scale_down_kill. Ports 79xx.",
    "seed": 19, "duration_s": 22,
    # until the backlog is delivered and both scale-downs came: they follow
    # the last delivery by ~1 s (depth < 20 for --scale-for-ms) and 2.5 s
    # more (cool-down); a fixed drain_s: 4 ended runs on a CPU-starved
    # machine with the backlog still queued (7 of 20 beside stress-ng).
    "drain": {"until_quiet_s": 6, "ev": "delivered", "max_s": 60},
    "services": [
        xsvc("queue", "queue", XP["queue"]),
        xsvc("feature", "feature", XP["feature"]),
        xsvc("ingest", "ingest", XP["ingest"]),
        xsvc("sink", "sink", XP["sink"]),
        svc("workers", "supervise", 7970,
            ["--stages", "worker", "--autoscale", "%d:%d" % (SCALE["min"], SCALE["max"]),
             "--scale-up-depth", str(SCALE["up"]), "--scale-down-depth", str(SCALE["down"]),
             "--scale-for-ms", str(SCALE["for_ms"]), "--cooldown-ms", str(SCALE["cooldown_ms"]),
             "--scale-poll-ms", "200", "--drain-timeout-ms", "5000", "--worker-port", "7920",
             "--worker-args", "--process-delay-us 5000 --batch 16"]),
        xsvc("producer", "produce", XP["producer"],
             ["--rate", "100", "--duration-s", "20", "--count", "0"]),
        {"name": "burst", "cmd": ["sh", "-c", BURST, B],
         "env": {"CRP_DEFECT": "${CRP_DEFECT:-}"}, "stop_signal": "SIGTERM",
         "stop_timeout_s": 5, "restart": "never"}],
    "steady_state": [
        {"kind": "http", "name": "sink-health", "url": "http://127.0.0.1:7940/health",
         "status": 200, "phases": ["before", "after"]},
        {"kind": "http", "name": "supervisor-health", "url": "http://127.0.0.1:7970/health",
         "status": 200, "phases": ["before", "after"]}],
    "expect": [
        NO_LOSS,
        {"kind": "scaling", "name": "scales-up-then-down", "svc": "workers",
         "min": SCALE["min"], "max": SCALE["max"], "min_ups": 2, "min_downs": 2, "graceful": False},
        {"kind": "scaling", "name": "cooldown-held", "svc": "workers",
         "min": SCALE["min"], "max": SCALE["max"], "cooldown_s": SCALE["cooldown_ms"] / 1000,
         "min_ups": 0, "min_downs": 0, "graceful": False},
        {"kind": "scaling", "name": "drains-gracefully", "svc": "workers",
         "min": SCALE["min"], "max": SCALE["max"], "min_ups": 0, "min_downs": 1,
         "drain_s": 6},
        {"kind": "events", "name": "reached-max", "ev": "scaled", "svc": "workers",
         "where": {"to": SCALE["max"]}, "min": 1},
        {"kind": "service", "name": "supervisor-exits-clean", "service": "workers",
         "exit": "clean"}],
}

# One hour (issue 20): every fault kind in its own slot of a 210 s grid, so
# that no fault's recovery overlaps another's (a worker killed while its
# breaker is open would restart with a closed one).  Slot k (k = 1..16) has
# its centre at 210 k - 60: the worker kill is drawn within +-45 s of it
# (so kills come every 2-5 min); 100 s after it, the slot's other fault in
# turn: feature outage, sink disk full, sink I/O errors.  The queue restarts
# 60 s after the centres of slots 5 and 11; the trainer (independent of the
# records) is killed every 5 min while it trains (~2500 s).  The ${SOAK_*}
# variables let tests/e2e/pipeline_soak.sh compress it to two minutes.
SOAK_SLOT = 210
SOAK_CENTRES = [SOAK_SLOT * k - 60 for k in range(1, 17)]
SCEN["pipeline-soak"] = {
    "name": "pipeline-soak",
    "description": "One hour of the reference pipeline under load (150 records/s) and repeated "
                   "faults, each kind in its own slot of a 210 s grid so that no fault's recovery "
                   "overlaps another's: a worker SIGKILLed every 2-5 min (16 kills, drawn within "
                   "+-45 s of a slot centre), the feature service down 10 s every 10.5 min "
                   "(backoff, breaker opens and closes), the sink's disk full 3 s / 30% EIO 2 s "
                   "every 10.5 min each (libfiu), the embedded queue SIGKILLed and restarted twice, "
                   "and the trainer SIGKILLed every 5 min while it trains (resumes from its "
                   "checkpoint; final model equals the fault-free baseline's). Nothing accepted "
                   "lost or delivered twice; deliveries resume after every queue restart, counted "
                   "from the instant the queue is ready again. The figures of the one-hour run: "
                   "tests/bench/README.md; tests/e2e/pipeline_soak.sh runs a 2-minute variant.",
    "seed": 20, "duration_s": 3600,
    "drain": {"until_quiet_s": 5, "ev": "delivered", "max_s": 60},
    "services": pipeline(rate="${SOAK_RATE:-150}", dur="${SOAK_PRODUCE_S:-3580}",
                         worker=["--batch", "16", *WORKER_FAST],
                         feature=["--feature-delay-us", "2000"],
                         trainer=["--train-n", "1500", "--epochs", "${SOAK_TRAIN_EPOCHS:-32}",
                                  "--step-delay-us", "${SOAK_STEP_DELAY_US:-50000}",
                                  "--ckpt-every", "250"]),
    "steady_state": HEALTH,
    "faults": [
        *[{"kind": "kill", "name": "kill-worker-%02d" % k, "target": "worker.random",
           "signal": "SIGKILL", "at_s": [c - 45, c + 45]}
          for k, c in enumerate(SOAK_CENTRES, 1)],
        {"kind": "pause", "name": "feature-outage", "target": "feature",
         "at_s": SOAK_CENTRES[0] + 100, "for_s": 10, "every_s": 3 * SOAK_SLOT},
        {"kind": "syscall", "name": "sink-disk-full", "target": "sink", "preset": "disk_full",
         "at_s": SOAK_CENTRES[1] + 100, "for_s": 3, "every_s": 3 * SOAK_SLOT},
        {"kind": "syscall", "name": "sink-io-errors", "target": "sink", "preset": "io_error",
         "probability": 0.3, "at_s": SOAK_CENTRES[2] + 100, "for_s": 2,
         "every_s": 3 * SOAK_SLOT},
        {"kind": "restart", "name": "queue-restart", "target": "queue", "signal": "SIGKILL",
         "at_s": SOAK_CENTRES[4] + 60, "every_s": 6 * SOAK_SLOT,
         "until_s": SOAK_CENTRES[10] + 60},
        {"kind": "kill", "name": "kill-trainer", "target": "trainer", "signal": "SIGKILL",
         "at_s": [100, 140], "every_s": 300, "until_s": 2400}],
    "expect": [
        NO_LOSS,
        BACKOFF,
        {"kind": "breaker", "name": "feature-breaker", "breaker": "features", "opens_within_s": BREAKER_OPENS_S,
         "closes_within_s": 6, "min_open_s": 2, "dependency_fault": "feature-outage"},
        {"kind": "checkpoint", "name": "trainer-resumes", "service": "trainer",
         "checkpoint": "trainer", "max_replay": 1000},
        {"kind": "same_result", "name": "same-model", "result": "model_hash"},
        {"kind": "slo", "name": "healthy-slo", "phase": "before", "ev": "delivered",
         "p99_ms_max": 1000, "throughput_min": 100},
        # Giveups only: the producer's 2% malformed and 0.5% poison records
        # are dead-lettered by design (no_loss counts them).  A record gives
        # up at most once, and only when an outage hits it: the ratio is
        # bounded by the time under outage, 6 x 10 s of 3600 s = 1.7%.
        {"kind": "slo", "name": "soak-error-ratio", "phase": "all", "ev": "delivered",
         "error_ev": ["giveup"], "error_ratio_max": 0.02},
        {"kind": "events", "name": "delivers-after-queue-restart", "ev": "delivered",
         "min": 100, "window": {"ready": "queue", "count": 2, "from_s": 0, "to_s": 10}},
        {"kind": "events", "name": "delivers-after-second-queue-restart", "ev": "delivered",
         "min": 100, "window": {"ready": "queue", "count": 3, "from_s": 0, "to_s": 10}},
        {"kind": "events", "name": "sink-commit-retried", "ev": "retry", "svc": "sink",
         "where": {"op": "commit"}, "min": 1},
        {"kind": "service", "name": "workers-restarted", "service": "worker",
         "restarts": {"min": 16}},
        {"kind": "service", "name": "queue-restarted", "service": "queue",
         "restarts": {"min": 2}}],
}

# Every stage a container (issue 17): the image is built offline by
# sample_pipeline/scripts/build-image.sh (busybox-static + crp + its
# libraries; ${CRP_IMAGE}).  The feature service is alone on host "feat",
# every other stage on host "core", so that a partition can cut the
# feature container off (network faults act on hosts: a container on a
# host joins its namespace).  Inside core the stages talk over core's
# loopback; the workers reach the feature service at feat's address
# ($CHAOSRUN_ADDR_FEATURE; it listens on 0.0.0.0).  Probes run in the
# harness's namespace: readiness is read from the logs, the health probes
# run from core.  A worker sleeps 10 ms per record (--process-delay-us), so
# a full batch (32) is held at least 320 ms between its `leased` event and
# its commit, and the producer (200/s) outpaces the workers (~170/s): the
# queue holds a backlog, leases are full, and a worker holds a leased,
# uncommitted batch all the time but for its commit's round trips.  A kill
# anchored to a full lease thus lands on records the worker has not
# committed (ack_before_commit then loses them): the announced batch, or
# the next one when runc is slow (event -> runc kill returned: 98-806 ms
# on a loaded machine, runc's own start).
# Timeline, anchored to the system's state, never to the machine's speed
# (a podman start takes 1-3 s here, more when loaded): worker.0 is killed
# on its 8th full lease, worker.1 on its 20th; counted from R, the
# instant both are ready again (the workers' 4th readiness), the queue
# container is frozen (cgroup freezer) 3 s at R+2 and the feature
# container partitioned away 4 s at R+8; the producer is stopped at R+17
# and the run drains until nothing is delivered for 3 s.  The timeline
# stretches (duration_max_s) when the restarts come late.
CIMAGE = "${CRP_IMAGE:-localhost/chaosrun-crp:dev}"
CPEERS = {"ingest": ["--queue", "127.0.0.1:7201"],
          "worker": ["--queue", "127.0.0.1:7201"],
          "sink": ["--queue", "127.0.0.1:7201"],
          "produce": ["--ingest", "127.0.0.1:7210"],
          "feature": ["--bind", "0.0.0.0"]}


def in_container(s, host):
    """A pipeline() service as a container of CIMAGE on host."""
    cmd = s["cmd"]
    stage = cmd[1]
    c = {"name": s["name"], "host": host,
         "container": {"image": CIMAGE,
                       "args": ["/bin/crp", *cmd[1:], *CPEERS.get(stage, [])]}}
    c.update({k: v for k, v in s.items() if k not in ("name", "cmd", "ready")})
    if stage in READY_LOG:
        c["ready"] = {"kind": "log", "regex": READY_LOG[stage], "timeout_s": 30}
    return c


CWORKER = ["--batch", "32", "--lease-events", "1", "--process-delay-us", "10000",
           *WORKER_FAST]
R4 = {"svc": "worker", "count": 4}
SCEN["pipeline-containers"] = {
    "name": "pipeline-containers",
    "description": "Every stage a container (podman + runc; the image ${CRP_IMAGE}, built "
                   "offline by sample_pipeline/scripts/build-image.sh), the feature service on "
                   "host feat, the others on host core. Under load: worker.0 SIGKILLed on its "
                   "8th full lease and worker.1 on its 20th (each holds 32 records it has not "
                   "committed); from the instant both are ready again (R), the queue container is "
                   "frozen 3 s at R+2 and the feature container partitioned away 4 s at R+8 "
                   "(retries, breaker, degraded results, restored after); the producer stops at "
                   "R+17 and the run drains until quiet. No accepted record lost, none delivered "
                   "twice, deliveries resume after each fault. Covers the defect switch "
                   "ack_before_commit. Needs root, podman and runc.",
    "seed": 41, "duration_s": 26, "duration_max_s": 120,
    "drain": {"until_quiet_s": 3, "ev": "delivered", "max_s": 90},
    "hosts": [{"name": "core"}, {"name": "feat"}],
    "services": [in_container(s, "feat" if s["name"] == "feature" else "core")
                 for s in pipeline(rate=200, dur=3600, worker=CWORKER)],
    "steady_state": [
        {"kind": "http", "name": "sink-health", "url": "http://127.0.0.1:7240/health",
         "status": 200, "phases": ["before", "after"], "from_host": "core"},
        {"kind": "tcp", "name": "queue-up", "port": 7201, "phases": ["before", "after"],
         "from_host": "core"}],
    "faults": [
        {"kind": "kill", "name": "kill-worker0", "target": "worker.0", "signal": "SIGKILL",
         "on_event": {"ev": "leased", "svc": "worker.0", "where": {"n": 32}, "count": 8}},
        {"kind": "kill", "name": "kill-worker1", "target": "worker.1", "signal": "SIGKILL",
         "on_event": {"ev": "leased", "svc": "worker.1", "where": {"n": 32}, "count": 20}},
        {"kind": "pause", "name": "freeze-queue", "target": "queue", "for_s": 3,
         "on_ready": dict(R4, delay_s=2)},
        {"kind": "partition", "name": "cut-feature", "groups": [["feat"], ["core"]],
         "for_s": 4, "on_ready": dict(R4, delay_s=8)},
        {"kind": "terminate", "name": "stop-producer", "target": "producer",
         "on_ready": dict(R4, delay_s=17)}],
    "expect": [
        {"kind": "steady_state", "name": "healthy-before-and-after"},
        NO_LOSS,
        {"kind": "events", "name": "delivers-after-worker0-restart", "ev": "delivered",
         "min": 50, "window": {"ready": "worker", "count": 3, "from_s": 0, "to_s": 4}},
        {"kind": "events", "name": "delivers-after-worker1-restart", "ev": "delivered",
         "min": 50, "window": {"ready": "worker", "count": 4, "from_s": 0, "to_s": 4}},
        {"kind": "events", "name": "delivers-after-queue-freeze", "ev": "delivered",
         "min": 50, "window": {"fault": "freeze-queue", "from": "end", "from_s": 0, "to_s": 3}},
        {"kind": "events", "name": "feature-calls-fail-during-cut", "ev": "retry",
         "where": {"op": "features"}, "min": 1,
         "window": {"fault": "cut-feature", "from_s": 0, "to_s": 4}},
        {"kind": "events", "name": "delivers-after-cut", "ev": "delivered",
         "min": 50, "window": {"fault": "cut-feature", "from": "end", "from_s": 0, "to_s": 5}},
        {"kind": "events", "name": "features-restored-after-cut", "ev": "restored", "min": 1,
         "window": {"fault": "cut-feature", "from": "end", "from_s": 0, "to_s": 8}},
        {"kind": "service", "name": "workers-restarted", "service": "worker",
         "restarts": {"min": 2}},
        {"kind": "service", "name": "queue-survives-freeze", "service": "queue",
         "restarts": {"max": 0}}],
}

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scenarios")
# Hours-long scenarios live in scenarios/long/: `chaosrun suite scenarios`
# (and the e2e suite test, and stability.sh) run the top level only.
LONG = {"pipeline-soak"}
for name, d in SCEN.items():
    sub = "long" if name in LONG else ""
    with open(os.path.join(root, sub, name + ".json"), "w") as f:
        f.write(json.dumps(d, indent=2) + "\n")

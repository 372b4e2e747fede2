/* crp_conf: see crp_conf.h.  The table below is the documentation too. */
#include "crp_conf.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crp_util.h"

enum { T_INT, T_LL, T_DBL, T_STR };

typedef struct opt {
    const char *name;
    int type;
    size_t off;
    const char *dflt;
    const char *doc;
} opt;

#define O(n, t, f, d, doc)                                                     \
    {                                                                          \
        n, t, offsetof(crp_conf, f), d, doc                                    \
    }
static const opt opts[] = {
    O("data-dir", T_STR, data_dir, "",
      "data directory (default $CHAOSRUN_RUN_DIR/data/<instance>, else "
      "./crp-data/<instance>)"),
    O("events", T_STR, events, "",
      "event file (default $CHAOSRUN_EVENTS; none when empty)"),
    O("traces", T_STR, traces, "",
      "OTLP-JSON span file (default "
      "$CHAOSRUN_RUN_DIR/traces/<instance>.jsonl)"),
    O("queue", T_STR, queue_addr, "127.0.0.1:7201",
      "queue service address ($CHAOSRUN_ADDR_QUEUE)"),
    O("broker", T_STR, broker, "",
      "AMQP URL amqp://user:pass@host:port/vhost: the stages' queues are "
      "RabbitMQ queues instead of the queue service; without host:port "
      "(amqp://user:pass@/vhost) the broker is at the `queue` address"),
    O("amqp-heartbeat-s", T_INT, amqp_heartbeat_s, "5",
      "RabbitMQ: AMQP heartbeat interval (s) of every connection; the broker "
      "takes back the deliveries of a consumer it has not heard from within "
      "about three intervals, and a client reconnects when the broker was "
      "silent for two; 0 = no heartbeats"),
    O("ingest", T_STR, ingest_addr, "127.0.0.1:7210",
      "ingest address, for the producer ($CHAOSRUN_ADDR_INGEST)"),
    O("feature", T_STR, feature_addr, "127.0.0.1:7230",
      "feature service address ($CHAOSRUN_ADDR_FEATURE)"),
    O("port", T_INT, port, "0",
      "listening port ($CHAOSRUN_PORT; 0 = the stage default: queue 7201, "
      "ingest 7210, worker 7220+replica, feature 7230, sink 7240, trainer "
      "7250, producer 7260, supervisor 7270)"),
    O("http-port", T_INT, http_port, "0",
      "metrics/health port (0 = port+100 for queue/ingest/feature, = port for "
      "the others)"),
    O("defect", T_STR, defect, "",
      "TEST ONLY: comma-separated defect switches ($CRP_DEFECT), see README"),
    O("seed", T_LL, seed, "1",
      "seed of the workload and the trainer ($CHAOSRUN_SEED)"),
    O("lease-ms", T_INT, lease_ms, "10000",
      "queue: a delivered record not acked within this time is redelivered (a "
      "closed connection returns its records at once)"),
    O("dedup-s", T_INT, dedup_s, "600",
      "queue: a PUT on a --dedup-queues queue of an id that queue had within "
      "this many seconds adds nothing (answer OK DUP); 0 = forever"),
    O("dedup-queues", T_STR, dedup_queues, "work,dlq",
      "queue: comma-separated queues whose PUT is idempotent by id (a resent "
      "record stays one copy); empty = none"),
    O("fair-lease", T_INT, fair_lease, "1",
      "queue: a GET leases at most its fair share of the ready records "
      "(ready / consumers that polled that queue in the last second, rounded "
      "up); 0 = up to the whole batch"),
    O("rate", T_DBL, rate, "200", "producer: records per second"),
    O("count", T_LL, count, "2000",
      "producer: records to send (0 = unlimited)"),
    O("duration-s", T_DBL, duration_s, "0",
      "producer: stop sending after this many seconds (0 = no limit)"),
    O("malformed", T_DBL, malformed, "0.02",
      "producer: fraction of malformed records"),
    O("v1", T_DBL, v1, "0.3", "producer: fraction of schema-v1 records"),
    O("poison", T_DBL, poison, "0.005",
      "producer: fraction of poison records (valid but unprocessable: all-zero "
      "x)"),
    O("window", T_INT, window, "256",
      "producer: records in flight before waiting for acks"),
    O("batch", T_INT, batch, "64",
      "ingest/worker/sink: records per group commit, at most (ingest and "
      "sink: 256 by default)"),
    O("lease-events", T_INT, lease_events, "0",
      "worker: 1 = announce each lease of records (event `leased`, n records), "
      "so a scenario can stall a worker that holds records"),
    O("idle-ms", T_INT, idle_ms, "20",
      "worker/sink: poll interval when the queue is empty"),
    O("feature-timeout-ms", T_INT, feat_timeout_ms, "200",
      "worker: timeout of one feature call"),
    O("retry-base-ms", T_INT, retry_base_ms, "50",
      "worker: backoff base (delay cap before attempt n+1 = "
      "base*factor^(n-1))"),
    O("retry-factor", T_DBL, retry_factor, "2", "worker: backoff factor"),
    O("retry-max-ms", T_INT, retry_max_ms, "2000", "worker: backoff cap"),
    O("retry-attempts", T_INT, retry_attempts, "5",
      "worker: attempts per call before giving up"),
    O("jitter", T_STR, jitter, "full",
      "worker: full (delay uniform in [0, cap]) or none"),
    O("breaker-failures", T_INT, brk_failures, "5",
      "worker: consecutive failures that open the breaker"),
    O("breaker-open-ms", T_INT, brk_open_ms, "2000",
      "worker: time open before half-open"),
    O("breaker-probes", T_INT, brk_probes, "1",
      "worker: successful half-open calls that close it"),
    O("max-deliveries", T_INT, max_deliveries, "3",
      "worker: deliveries after which a failing record is dead-lettered"),
    O("model", T_STR, model, "",
      "worker: model artifact, or a directory whose newest model-*.bin is used "
      "(checked every 2 s; default: the built-in model)"),
    O("feature-delay-us", T_INT, feat_delay_us, "0",
      "feature: service time per call"),
    O("feature-fail", T_DBL, feat_fail, "0",
      "feature: fraction of calls answered with an error"),
    O("commit-base-ms", T_INT, commit_base_ms, "20",
      "sink: first retry delay of a failed commit"),
    O("commit-max-ms", T_INT, commit_max_ms, "1000",
      "sink: retry delay cap (commits are retried until they succeed)"),
    O("train-n", T_LL, train_n, "2000", "trainer: training records"),
    O("epochs", T_INT, epochs, "3", "trainer: passes over the data"),
    O("ckpt-every", T_INT, ckpt_every, "200",
      "trainer: checkpoint every K steps"),
    O("step-delay-us", T_INT, step_delay_us, "1000",
      "trainer: simulated work per step"),
    O("lr", T_DBL, lr, "0.05", "trainer: learning rate"),
    O("momentum", T_DBL, momentum, "0.9", "trainer: SGD momentum"),
    O("exit-when-done", T_INT, exit_when_done, "0",
      "trainer/producer: exit 0 when finished (else wait for SIGTERM)"),
    O("workers", T_INT, workers, "2", "supervisor: worker replicas"),
    O("restart-max", T_INT, restart_max, "5",
      "supervisor: restarts of one stage before giving up"),
    O("restart-base-ms", T_INT, restart_base_ms, "200",
      "supervisor: first restart delay (doubles, cap 5 s)"),
    O("bindir", T_STR, bindir, "",
      "supervisor: directory of crp (default: that of /proc/self/exe)"),
    O("stages", T_STR, stages, "",
      "supervisor: comma-separated stages to run (default: all), e.g. worker "
      "when the other stages run elsewhere"),
    O("autoscale", T_STR, autoscale, "",
      "supervisor: MIN:MAX workers, scaled on the depth of the work queue "
      "(default: off, --workers fixed)"),
    O("scale-up-depth", T_LL, scale_up_depth, "200",
      "supervisor: add a worker while the ready depth of work is above this"),
    O("scale-down-depth", T_LL, scale_down_depth, "20",
      "supervisor: remove a worker while the ready depth is below this"),
    O("scale-for-ms", T_INT, scale_for_ms, "1000",
      "supervisor: how long a scaling condition must hold"),
    O("cooldown-ms", T_INT, cooldown_ms, "3000",
      "supervisor: no scaling change this long after a change"),
    O("scale-poll-ms", T_INT, scale_poll_ms, "250",
      "supervisor: depth polling period"),
    O("drain-timeout-ms", T_INT, drain_timeout_ms, "10000",
      "supervisor: a worker drained on scale-down is SIGKILLed after this"),
    O("worker-port", T_INT, worker_port, "0",
      "supervisor: metrics port of worker replica i = this + i (0 = the "
      "worker default 7220 + i)"),
    O("worker-args", T_STR, worker_args, "",
      "supervisor: extra space-separated flags for the workers it starts"),
    O("process-delay-us", T_INT, process_delay_us, "0",
      "worker: simulated compute per record"),
    O("targets", T_STR, alert_targets,
      "queue=7301,ingest=7310,feature=7330,worker.0=7220,worker.1=7221,"
      "sink=7240,trainer=7250,produce=7260",
      "alerter: metrics endpoints to scrape, name=port or name=host:port"),
    O("rules", T_STR, alert_rules, "",
      "alerter: JSON rules file (default: the built-in rules, see README)"),
    O("scrape-ms", T_INT, scrape_ms, "500",
      "alerter: scrape and evaluation period"),
    O("webhook", T_STR, webhook, "",
      "alerter: URL to POST each firing/resolved alert to (JSON)"),
    O("store", T_STR, store, "",
      "trainer/worker/models: artifact store directory (relative: under "
      "$CHAOSRUN_RUN_DIR when set); the trainer registers and gates its "
      "models there, the worker follows its current model"),
    O("promote-margin", T_DBL, promote_margin, "0.02",
      "trainer/models: a model is promoted when its held-out accuracy >= the "
      "current model's - this"),
    O("min-accuracy", T_DBL, min_accuracy, "0.6",
      "trainer/models: held-out accuracy floor of every promotion"),
    O("holdout-n", T_LL, holdout_n, "1000",
      "trainer: held-out validation records (a snapshot in the store)"),
    O("scoring", T_STR, scoring, "local",
      "worker: local (score in the worker) or remote (ask the model servers "
      "found in the registry, with failover)"),
    O("registry", T_STR, registry_addr, "127.0.0.1:7290",
      "worker/modelsrv: registry address ($CHAOSRUN_ADDR_REGISTRY)"),
    O("bind", T_STR, bind, "127.0.0.1",
      "queue/ingest/feature/registry/modelsrv: listen address (an IPv4 "
      "address; 0.0.0.0 where other hosts or nodes must reach it)"),
    O("advertise", T_STR, advertise, "",
      "modelsrv: address registered (default: this service's "
      "$CHAOSRUN_ADDR_<SERVICE> host, else 127.0.0.1, and its port)"),
    O("region", T_STR, region, "",
      "modelsrv: its region; worker: region preferred when routing"),
    O("reg-service", T_STR, reg_service, "model",
      "modelsrv/worker: service name in the registry"),
    O("priority", T_INT, priority, "0",
      "modelsrv: routing preference (lower first)"),
    O("heartbeat-ms", T_INT, heartbeat_ms, "200", "modelsrv: heartbeat period"),
    O("hb-timeout-ms", T_INT, hb_timeout_ms, "1000",
      "registry: an instance without heartbeat this long is unhealthy"),
    O("probe-ms", T_INT, probe_ms, "250",
      "registry: active health check (TCP PING) period"),
    O("probe-timeout-ms", T_INT, probe_timeout_ms, "300",
      "registry: timeout of one health check"),
    O("probe-failures", T_INT, probe_failures, "3",
      "registry: consecutive failed checks that make an instance unhealthy"),
    O("warmup-ms", T_INT, warmup_ms, "1000",
      "registry: after a start or a stall, LIST answers WARMING this long"),
    O("score-timeout-ms", T_INT, score_timeout_ms, "500",
      "worker (remote scoring): timeout of one scoring request"),
    O("refresh-ms", T_INT, refresh_ms, "250",
      "worker (remote scoring): registry LIST period"),
    O("failback", T_INT, failback, "0",
      "worker (remote scoring): 1 = return to the preferred server when it "
      "is healthy again"),
    O("down-ms", T_INT, down_ms, "2000",
      "worker (remote scoring): a server that failed is avoided this long"),
};
#define NOPTS (sizeof opts / sizeof opts[0])

static const char *const defect_names[] = {"no_backoff",
                                           "no_retry_limit",
                                           "breaker_never_opens",
                                           "unsafe_checkpoint",
                                           "ack_before_commit",
                                           "no_dedup",
                                           "drop_inflight",
                                           "alert_no_for",
                                           "alert_never_resolves",
                                           "shuffled_labels",
                                           "no_gate",
                                           "amqp_transient",
                                           "amqp_auto_ack",
                                           "scale_no_cooldown",
                                           "scale_down_kill",
                                           "no_failover",
                                           "failover_drop",
                                           "registry_forgets",
                                           "registry_wall_clock",
                                           NULL};

int crp_conf_defects(const char *s, unsigned *out)
{
    *out = 0;
    char buf[CRP_STR];
    crp_strlcpy(buf, s, sizeof buf);
    char *save = NULL;
    for (char *t = strtok_r(buf, ", ", &save); t;
         t = strtok_r(NULL, ", ", &save)) {
        int found = 0;
        for (int i = 0; defect_names[i]; i++)
            if (strcmp(t, defect_names[i]) == 0) {
                *out |= 1u << i;
                found = 1;
            }
        if (!found)
            return -1;
    }
    return 0;
}

static int set_opt(crp_conf *c, const opt *o, const char *v)
{
    char *p = (char *)c + o->off;
    char *end = NULL;
    switch (o->type) {
    case T_INT:
        *(int *)p = (int)strtol(v, &end, 10);
        break;
    case T_LL:
        *(long long *)p = strtoll(v, &end, 10);
        break;
    case T_DBL:
        *(double *)p = strtod(v, &end);
        break;
    case T_STR:
        crp_strlcpy(p, v, CRP_STR);
        return 0;
    }
    return (end && *end == '\0' && end != v) ? 0 : -1;
}

static const opt *find(const char *name)
{
    for (size_t i = 0; i < NOPTS; i++)
        if (strcmp(opts[i].name, name) == 0)
            return &opts[i];
    return NULL;
}

static void env_str(char *dst, const char *var)
{
    const char *v = getenv(var);
    if (v && *v)
        crp_strlcpy(dst, v, CRP_STR);
}

static int load_json(crp_conf *c, const char *path, char *err, int n)
{
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (!root || !json_is_object(root)) {
        snprintf(err, n, "config %s: %s (line %d)", path,
                 root ? "not an object" : je.text, je.line);
        json_decref(root);
        return -1;
    }
    const char *k;
    json_t *v;
    int rc = 0;
    json_object_foreach (root, k, v) {
        const opt *o = find(k);
        char buf[CRP_STR];
        if (!o) {
            snprintf(err, n, "config %s: unknown key \"%s\"", path, k);
            rc = -1;
            break;
        }
        if (json_is_string(v))
            crp_strlcpy(buf, json_string_value(v), sizeof buf);
        else if (json_is_integer(v))
            snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
        else if (json_is_number(v))
            snprintf(buf, sizeof buf, "%.17g", json_number_value(v));
        else {
            snprintf(err, n, "config %s: \"%s\" must be a string or number",
                     path, k);
            rc = -1;
            break;
        }
        if (set_opt(c, o, buf) < 0) {
            snprintf(err, n, "config %s: bad value for \"%s\"", path, k);
            rc = -1;
            break;
        }
    }
    json_decref(root);
    return rc;
}

static int default_port(const char *stage)
{
    static const struct {
        const char *s;
        int p;
    } t[] = {{"queue", 7201},   {"ingest", 7210},   {"worker", 7220},
             {"feature", 7230}, {"sink", 7240},     {"trainer", 7250},
             {"produce", 7260}, {"supervise", 7270}};
    if (strcmp(stage, "alerter") == 0)
        return 7280;
    if (strcmp(stage, "registry") == 0)
        return 7290;
    if (strcmp(stage, "modelsrv") == 0)
        return 7295;
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        if (strcmp(t[i].s, stage) == 0)
            return t[i].p;
    return 0;
}

int crp_conf_broker_addr(const char *broker, const char *queue, char *out,
                         size_t size, char *err, int n)
{
    const char *p = broker;
    if (strncmp(p, "amqp://", 7) != 0) {
        snprintf(err, n, "broker \"%s\": not an amqp:// URL", broker);
        return -1;
    }
    p += 7;
    const char *slash = strchr(p, '/');
    const char *at = memchr(p, '@', slash ? (size_t)(slash - p) : strlen(p));
    const char *hp = at ? at + 1 : p; /* host:port starts here */
    char buf[CRP_STR * 2];
    if (*hp == '\0' || hp == slash) {
        /* no host: the broker is at the queue address (host:port) */
        if (strncmp(queue, "amqp://", 7) == 0 || !strchr(queue, ':')) {
            snprintf(err, n,
                     "broker \"%s\" has no host and the queue address "
                     "\"%s\" is not host:port",
                     broker, queue);
            return -1;
        }
        snprintf(buf, sizeof buf, "%.*s%s%s", (int)(hp - broker), broker, queue,
                 slash ? slash : "/");
    } else {
        snprintf(buf, sizeof buf, "%s", broker);
    }
    if (strlen(buf) >= size) {
        snprintf(err, n, "broker URL too long (%zu bytes)", strlen(buf));
        return -1;
    }
    memcpy(out, buf, strlen(buf) + 1);
    return 0;
}

int crp_conf_load(crp_conf *c, const char *stage, int argc, char **argv,
                  char *err, int n)
{
    memset(c, 0, sizeof *c);
    crp_strlcpy(c->stage, stage, sizeof c->stage);
    for (size_t i = 0; i < NOPTS; i++)
        set_opt(c, &opts[i], opts[i].dflt);
    /* Ingest and the sink are one process each, and each of their group
     * commits waits for the disk: a batch of 64 caps them near 20k
     * records/s on this kind of machine (tests/bench/README.md, "fifth
     * round").  Under light load a batch is whatever one round read, so
     * the larger cap costs no latency there. */
    if (!strcmp(stage, "ingest") || !strcmp(stage, "sink"))
        c->batch = 256;
    /* environment */
    const char *v;
    env_str(c->queue_addr, "CHAOSRUN_ADDR_QUEUE");
    env_str(c->ingest_addr, "CHAOSRUN_ADDR_INGEST");
    env_str(c->feature_addr, "CHAOSRUN_ADDR_FEATURE");
    env_str(c->registry_addr, "CHAOSRUN_ADDR_REGISTRY");
    env_str(c->region, "CHAOSRUN_REGION"); /* the host's region label */
    env_str(c->events, "CHAOSRUN_EVENTS");
    env_str(c->run_dir, "CHAOSRUN_RUN_DIR");
    env_str(c->defect, "CRP_DEFECT");
    if ((v = getenv("CHAOSRUN_PORT")) && *v)
        c->port = atoi(v);
    if ((v = getenv("CHAOSRUN_SEED")) && *v)
        c->seed = strtoll(v, NULL, 10);
    if ((v = getenv("CHAOSRUN_REPLICA")) && *v)
        c->replica = atoi(v);
    crp_strlcpy(c->svc, stage, sizeof c->svc);
    if ((v = getenv("CHAOSRUN_SERVICE")) && *v)
        crp_strlcpy(c->svc, v, sizeof c->svc);
    snprintf(c->inst, sizeof c->inst, "%.50s.%d", c->svc, c->replica);
    if ((v = getenv("CHAOSRUN_INSTANCE")) && *v)
        crp_strlcpy(c->inst, v, sizeof c->inst);
    /* --config first, then the other flags override it */
    for (int i = 0; i + 1 < argc; i++)
        if (strcmp(argv[i], "--config") == 0) {
            crp_strlcpy(c->config, argv[i + 1], sizeof c->config);
            if (load_json(c, argv[i + 1], err, n) < 0)
                return -1;
        }
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "--", 2) != 0) {
            snprintf(err, n, "unexpected argument \"%s\"", a);
            return -1;
        }
        if (strcmp(a, "--config") == 0) {
            i++;
            continue;
        }
        const opt *o = find(a + 2);
        if (!o) {
            snprintf(err, n, "unknown option \"%s\" (see `crp help`)", a);
            return -1;
        }
        if (i + 1 >= argc) {
            snprintf(err, n, "option \"%s\" needs a value", a);
            return -1;
        }
        if (set_opt(c, o, argv[++i]) < 0) {
            snprintf(err, n, "bad value \"%s\" for %s", argv[i], a);
            return -1;
        }
    }
    if (c->broker[0] &&
        crp_conf_broker_addr(c->broker, c->queue_addr, c->queue_addr,
                             sizeof c->queue_addr, err, n) < 0)
        return -1;
    if (c->port == 0)
        c->port = default_port(stage) + ((strcmp(stage, "worker") == 0 ||
                                          strcmp(stage, "modelsrv") == 0)
                                             ? c->replica
                                             : 0);
    if (c->http_port == 0) {
        int server = !strcmp(stage, "queue") || !strcmp(stage, "ingest") ||
                     !strcmp(stage, "feature") || !strcmp(stage, "registry") ||
                     !strcmp(stage, "modelsrv");
        c->http_port = server ? c->port + 100 : c->port;
    }
    if (c->data_dir[0] == '\0') {
        if (c->run_dir[0])
            snprintf(c->data_dir, sizeof c->data_dir, "%.120s/data/%.64s",
                     c->run_dir, c->inst);
        else
            snprintf(c->data_dir, sizeof c->data_dir, "crp-data/%.64s",
                     c->inst);
    }
    if (c->traces[0] == '\0' && c->run_dir[0])
        snprintf(c->traces, sizeof c->traces, "%.120s/traces/%.64s.jsonl",
                 c->run_dir, c->inst);
    if (c->store[0] && c->store[0] != '/' && c->run_dir[0]) {
        char rel[CRP_STR];
        crp_strlcpy(rel, c->store, sizeof rel);
        snprintf(c->store, sizeof c->store, "%.120s/%.120s", c->run_dir, rel);
    }
    if (crp_conf_defects(c->defect, &c->defects) < 0) {
        snprintf(err, n, "unknown defect in \"%s\"", c->defect);
        return -1;
    }
    if (strcmp(c->jitter, "full") != 0 && strcmp(c->jitter, "none") != 0) {
        snprintf(err, n, "--jitter must be full or none");
        return -1;
    }
    struct in_addr ia;
    if (inet_pton(AF_INET, c->bind, &ia) != 1) {
        /* Refused here, not at the listen: the stage would start and
         * only then fail, naming no option. */
        snprintf(err, n, "--bind must be an IPv4 address, not \"%s\"", c->bind);
        return -1;
    }
    if (strcmp(c->scoring, "local") != 0 && strcmp(c->scoring, "remote") != 0) {
        snprintf(err, n, "--scoring must be local or remote");
        return -1;
    }
    if (c->heartbeat_ms < 1 || c->hb_timeout_ms < 1 || c->probe_ms < 1 ||
        c->probe_timeout_ms < 1 || c->probe_failures < 1 ||
        c->score_timeout_ms < 1 || c->refresh_ms < 1 || c->warmup_ms < 0 ||
        c->down_ms < 0) {
        snprintf(err, n,
                 "heartbeat-ms, hb-timeout-ms, probe-ms, probe-timeout-ms, "
                 "probe-failures, score-timeout-ms and refresh-ms must be >= "
                 "1; warmup-ms and down-ms >= 0");
        return -1;
    }
    if (c->batch > 512) {
        snprintf(err, n, "--batch must be <= 512");
        return -1;
    }
    if (c->batch < 1 || c->retry_attempts < 1 || c->brk_failures < 1 ||
        c->ckpt_every < 1 || c->max_deliveries < 1 || c->window < 1) {
        snprintf(err, n,
                 "batch, retry-attempts, breaker-failures, ckpt-every, "
                 "max-deliveries and window must be >= 1");
        return -1;
    }
    return 0;
}

void crp_conf_usage(void)
{
    printf("usage: crp STAGE [--config FILE.json] [--OPTION VALUE]...\n"
           "stages: queue ingest worker feature sink trainer produce supervise "
           "alerter registry modelsrv\n"
           "models: crp models --store DIR list | show V | promote V [--force] "
           "| rollback [V]\n\n"
           "options (also JSON config keys):\n");
    for (size_t i = 0; i < NOPTS; i++)
        printf("  --%-20s default %-16s %s\n", opts[i].name,
               opts[i].dflt[0] ? opts[i].dflt : "\"\"", opts[i].doc);
    printf("\ndefect switches (TEST ONLY):");
    for (int i = 0; defect_names[i]; i++)
        printf(" %s", defect_names[i]);
    printf("\n");
}

/* crp_conf: every tunable of every stage in one struct, filled from
 * defaults, then environment (CHAOSRUN_*), then an optional JSON config
 * file (--config, keys = flag names without dashes), then flags.
 * The option table in crp_conf.c is the single source of truth; `crp help`
 * prints it and sample_pipeline/README.md documents it. */
#ifndef CRP_CONF_H
#define CRP_CONF_H

#include <stddef.h>
#include <stdint.h>

/* Defect switches: for the harness's own tests only (README, "Defects"). */
enum {
    CRP_DEFECT_NO_BACKOFF = 1u << 0,     /* retries without backoff */
    CRP_DEFECT_NO_RETRY_LIMIT = 1u << 1, /* retries without limit */
    CRP_DEFECT_BREAKER_NEVER_OPENS = 1u << 2,
    CRP_DEFECT_UNSAFE_CHECKPOINT = 1u << 3, /* in place, no fsync/rename */
    CRP_DEFECT_ACK_BEFORE_COMMIT = 1u << 4,
    CRP_DEFECT_NO_DEDUP = 1u << 5,
    CRP_DEFECT_DROP_INFLIGHT = 1u << 6, /* shutdown drops in-flight work */
    CRP_DEFECT_ALERT_NO_FOR = 1u << 7,  /* alerts fire without for_s */
    CRP_DEFECT_ALERT_NEVER_RESOLVES = 1u << 8,
    CRP_DEFECT_SHUFFLED_LABELS = 1u << 9, /* trainer: labels shuffled */
    CRP_DEFECT_NO_GATE = 1u << 10,        /* promote without the gate */
    CRP_DEFECT_AMQP_TRANSIENT = 1u << 11, /* classic queue, delivery_mode 1 */
    CRP_DEFECT_AMQP_AUTO_ACK = 1u << 12,  /* consumer with no_ack */
    CRP_DEFECT_SCALE_NO_COOLDOWN = 1u << 13, /* autoscaler flaps */
    CRP_DEFECT_SCALE_DOWN_KILL = 1u << 14,   /* scale-down SIGKILLs, no drain */
    /* remote scoring (crp_scorer.c, crp_worker.c) */
    CRP_DEFECT_NO_FAILOVER = 1u << 15,   /* retry the dead server forever */
    CRP_DEFECT_FAILOVER_DROP = 1u << 16, /* in-flight record acked, no result */
    CRP_DEFECT_REGISTRY_FORGETS = 1u << 17, /* registry down: set dropped */
    /* registry (crp_registry.c): leases timed by the wall clock */
    CRP_DEFECT_REGISTRY_WALL_CLOCK = 1u << 18,
};

#define CRP_STR 256

typedef struct crp_conf {
    char stage[32];
    char svc[64], inst[64];
    char run_dir[CRP_STR], data_dir[CRP_STR], events[CRP_STR], traces[CRP_STR];
    char broker[CRP_STR]; /* AMQP URL or "" (crp_conf_broker_addr) */
    int amqp_heartbeat_s; /* AMQP heartbeat interval, 0 none */
    char queue_addr[CRP_STR], ingest_addr[CRP_STR], feature_addr[CRP_STR];
    int port, http_port;
    char defect[CRP_STR];
    unsigned defects;
    long long seed;
    int replica;
    /* queue */
    int lease_ms;
    int dedup_s; /* queue: how long a put id is remembered (0: forever) */
    char dedup_queues[CRP_STR]; /* queue: queues with idempotent PUT */
    int fair_lease;
    /* producer */
    double rate;
    long long count;
    double duration_s;
    double malformed, v1, poison;
    int window;
    /* ingest / worker / sink batching */
    int batch;
    int idle_ms;
    /* feature calls (worker) */
    int feat_timeout_ms;
    int retry_base_ms, retry_max_ms, retry_attempts;
    double retry_factor;
    char jitter[CRP_STR];
    int brk_failures, brk_open_ms, brk_probes;
    int max_deliveries;
    char model[CRP_STR];
    /* feature service */
    int feat_delay_us;
    int lease_events; /* worker: emit `leased` per non-empty lease */
    double feat_fail;
    /* sink commit retries */
    int commit_base_ms, commit_max_ms;
    /* trainer */
    long long train_n;
    int epochs, ckpt_every, step_delay_us;
    double lr, momentum;
    int exit_when_done;
    /* supervisor */
    int workers;
    int restart_max;
    int restart_base_ms;
    char bindir[CRP_STR];
    char config[CRP_STR]; /* the --config file, or "" */
    /* supervisor: stage subset and autoscaling (crp_scale.h) */
    char stages[CRP_STR], autoscale[CRP_STR], worker_args[CRP_STR];
    long long scale_up_depth, scale_down_depth;
    int scale_for_ms, cooldown_ms, scale_poll_ms, drain_timeout_ms;
    int worker_port;
    /* worker: simulated compute per record */
    int process_delay_us;
    /* alerter */
    char alert_targets[CRP_STR], alert_rules[CRP_STR], webhook[CRP_STR];
    int scrape_ms;
    /* artifact store (crp_artifact.h): trainer, worker, `crp models` */
    char store[CRP_STR];
    double promote_margin, min_accuracy;
    long long holdout_n;
    /* model serving, service discovery (crp_modelsrv.c, crp_registry.c,
     * crp_scorer.c) */
    char scoring[CRP_STR]; /* worker: local | remote */
    char registry_addr[CRP_STR];
    char bind[CRP_STR];        /* registry/modelsrv listen address */
    char advertise[CRP_STR];   /* modelsrv: address registered */
    char region[CRP_STR];      /* modelsrv: its region; worker: preferred */
    char reg_service[CRP_STR]; /* modelsrv/worker: service name registered */
    int priority;              /* modelsrv: lower = preferred */
    int heartbeat_ms, hb_timeout_ms, probe_ms, probe_timeout_ms;
    int probe_failures, warmup_ms;
    int score_timeout_ms, refresh_ms, failback, down_ms;
} crp_conf;

/* Fill c for `stage` from defaults, environment, --config and flags
 * (argv[0] is the first flag).  Returns 0, or -1 with a message in
 * err (size n). */
int crp_conf_load(crp_conf *c, const char *stage, int argc, char **argv,
                  char *err, int n);
/* The queue address of a stage given --broker: `broker` itself, or when
 * it has no host:port (amqp://user:pass@/vhost) the URL with `queue`
 * (host:port, e.g. from $CHAOSRUN_ADDR_QUEUE) put in.  Writes out (size
 * bytes; may alias queue).  Returns 0, or -1 with a message in err (size
 * n) and out untouched. */
int crp_conf_broker_addr(const char *broker, const char *queue, char *out,
                         size_t size, char *err, int n);
/* Print the option table (name, default, doc) for `crp help`. */
void crp_conf_usage(void);
/* Parse "a,b" defect names into CRP_DEFECT_* bits; -1 on an unknown name. */
int crp_conf_defects(const char *s, unsigned *out);

#endif

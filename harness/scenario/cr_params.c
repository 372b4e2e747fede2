/* cr_params: the keys every fault, probe and expectation object may have,
 * documented once (kind-specific keys live with each kind). */
#include "cr_kinds.h"

const cr_param cr_fault_common_params[] = {
    {"kind", "string", NULL, "fault kind (see `chaosrun list`)"},
    {"name", "string", "<kind>-<index>",
     "unique name used in reports and by expectations"},
    {"description", "string", "\"\"", "free text shown in reports"},
    {"target", "string|object",
     "none (required by kinds that act on a service)",
     "\"svc\" (all replicas), \"svc.N\" (replica N), \"svc.random\" (one drawn "
     "from the seed), "
     "or {\"service\": \"svc\", \"replica\": N|\"all\"|\"random\"}"},
    {"at_s", "time", "0",
     "start, seconds after t0: a number or [min, max] drawn from the seed"},
    {"for_s", "number", "0",
     "how long the fault stays active (0: instantaneous)"},
    {"every_s", "number", "0", "repeat every so many seconds (0: once)"},
    {"until_s", "number", "duration_s",
     "last possible start of a repeated fault"},
    {"on_event", "object", "null",
     "state trigger instead of at_s: {\"ev\", \"svc\", \"where\", \"count\" "
     "(default 1), \"delay_s\" (default 0)}"},
    {"on_ready", "object", "null",
     "state trigger instead of at_s: {\"svc\", \"count\" (default 1: "
     "start-up; 2: ready again after the first restart), \"delay_s\" "
     "(default 0)}"},
    {NULL, NULL, NULL, NULL},
};

const cr_param cr_probe_common_params[] = {
    {"kind", "string", NULL, "probe kind: http, tcp, exec, event"},
    {"name", "string", "<kind>-<index>", "unique name"},
    {"phases", "array", "[\"before\",\"during\",\"after\"]",
     "when the probe must hold"},
    {"interval_s", "number", "1", "period of the during-phase checks"},
    {"timeout_s", "number", "2", "a probe taking longer fails"},
    {"from_host", "string", "none",
     "run the probe inside this host's network namespace (see hosts)"},
    {NULL, NULL, NULL, NULL},
};

const cr_param cr_expect_common_params[] = {
    {"kind", "string", NULL, "checker (see `chaosrun list`)"},
    {"name", "string", "<kind>-<index>", "unique name (JUnit testcase name)"},
    {"description", "string", "\"\"", "free text shown in reports"},
    {"min_samples", "integer", "1",
     "fewer samples than this makes the verdict unknown"},
    {NULL, NULL, NULL, NULL},
};

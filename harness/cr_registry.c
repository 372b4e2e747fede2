/* cr_registry: the one place that maps names to fault kinds, probe kinds,
 * checkers and extra scenario sections.  Adding a backend = one line here. */
#include "checks/cr_check.h"
#include "faults/cr_fault.h"
#include "probes/cr_probe.h"
#include "scenario/cr_scen.h"

#include <string.h>

extern const cr_check_ops cr_check_steady_state_ops;
extern const cr_check_ops cr_check_recovers_ops;
extern const cr_check_ops cr_check_service_ops;
extern const cr_check_ops cr_check_events_ops;
extern const cr_check_ops cr_check_no_loss_ops;
extern const cr_check_ops cr_check_backoff_ops;
extern const cr_check_ops cr_check_breaker_ops;
extern const cr_check_ops cr_check_checkpoint_ops;
extern const cr_check_ops cr_check_same_result_ops;
extern const cr_check_ops cr_check_failover_ops;
extern const cr_check_ops cr_check_slo_ops;
extern const cr_check_ops cr_check_scaling_ops;
extern const cr_fault_ops cr_fault_kill_ops;
extern const cr_fault_ops cr_fault_pause_ops;
extern const cr_fault_ops cr_fault_restart_ops;
extern const cr_fault_ops cr_fault_terminate_ops;
extern const cr_fault_ops cr_fault_syscall_ops;
extern const cr_fault_ops cr_fault_proxy_ops;
extern const cr_fault_ops cr_fault_exec_ops;
extern const cr_fault_ops cr_fault_clock_ops;
extern const cr_section_ops cr_proxy_links_section;
extern const cr_fault_ops cr_fault_netem_ops, cr_fault_partition_ops,
    cr_fault_bandwidth_ops;
extern const cr_section_ops cr_net_hosts_section;
extern const cr_fault_ops cr_fault_cpu_ops, cr_fault_memory_ops,
    cr_fault_pids_ops, cr_fault_disk_fill_ops, cr_fault_io_ops,
    cr_fault_stress_ops;
extern const cr_section_ops cr_disk_scratch_section;
extern const cr_probe_ops cr_probe_http_ops, cr_probe_tcp_ops,
    cr_probe_exec_ops, cr_probe_event_ops;

/* ---- fault kinds (one per faults/<kind>.c) ---- */
static const cr_fault_ops *const fault_kinds[] = {
    &cr_fault_kill_ops,      &cr_fault_pause_ops,     &cr_fault_restart_ops,
    &cr_fault_terminate_ops, &cr_fault_syscall_ops,   &cr_fault_proxy_ops,
    &cr_fault_netem_ops,     &cr_fault_partition_ops, &cr_fault_bandwidth_ops,
    &cr_fault_cpu_ops,       &cr_fault_memory_ops,    &cr_fault_pids_ops,
    &cr_fault_disk_fill_ops, &cr_fault_io_ops,        &cr_fault_stress_ops,
    &cr_fault_exec_ops,      &cr_fault_clock_ops,     NULL,
};

/* ---- probe kinds ---- */
static const cr_probe_ops *const probe_kinds[] = {
    &cr_probe_http_ops,
    &cr_probe_tcp_ops,
    &cr_probe_exec_ops,
    &cr_probe_event_ops,
    NULL,
};

/* ---- expectation checkers ---- */
static const cr_check_ops *const check_kinds[] = {
    &cr_check_steady_state_ops,
    &cr_check_recovers_ops,
    &cr_check_service_ops,
    &cr_check_events_ops,
    &cr_check_no_loss_ops,
    &cr_check_backoff_ops,
    &cr_check_breaker_ops,
    &cr_check_checkpoint_ops,
    &cr_check_same_result_ops,
    &cr_check_failover_ops,
    &cr_check_slo_ops,
    &cr_check_scaling_ops,
    NULL,
};

/* ---- extra top-level scenario sections ---- */
static const cr_section_ops *const sections[] = {
    &cr_proxy_links_section,
    &cr_net_hosts_section,
    &cr_disk_scratch_section,
    NULL,
};

const cr_fault_ops *const *cr_fault_all(void)
{
    return fault_kinds;
}
const cr_probe_ops *const *cr_probe_all(void)
{
    return probe_kinds;
}
const cr_check_ops *const *cr_check_all(void)
{
    return check_kinds;
}
const cr_section_ops *const *cr_section_all(void)
{
    return sections;
}

const cr_fault_ops *cr_fault_lookup(const char *kind)
{
    for (size_t i = 0; kind && fault_kinds[i]; i++)
        if (strcmp(fault_kinds[i]->kind, kind) == 0)
            return fault_kinds[i];
    return NULL;
}

const cr_probe_ops *cr_probe_lookup(const char *kind)
{
    for (size_t i = 0; kind && probe_kinds[i]; i++)
        if (strcmp(probe_kinds[i]->kind, kind) == 0)
            return probe_kinds[i];
    return NULL;
}

const cr_check_ops *cr_check_lookup(const char *kind)
{
    for (size_t i = 0; kind && check_kinds[i]; i++)
        if (strcmp(check_kinds[i]->kind, kind) == 0)
            return check_kinds[i];
    return NULL;
}

/* cr_shutdown: the ordered, waiting stop at the end of a run.
 *
 * A service gets its stop signal (the SHUTDOWN event of every replica at
 * once: stop_signal, then SIGKILL after stop_timeout_s) only when every
 * service of its stop_deps has stopped -- all its replicas exited.  By
 * default each service waits for the next one of `services`, so the last
 * one stops first and the first one last, and a client that drains or reads
 * back on SIGTERM still finds its server there (scenarios/README.md,
 * "Stopping"; the order is resolved by scenario/cr_scen_stop.c).
 *
 * Every stop that ends in an exit -- at the end of the run or asked by a
 * fault -- is recorded in the journal's "stops": the signal, when it was
 * sent, how long the replica took, and whether SIGKILL was needed. */
#include <signal.h>
#include <sys/wait.h>

#include "cr_run_internal.h"

enum { ST_WAITING, ST_SIGNALLED, ST_STOPPED };

static int svc_live(const cr_svc *svc)
{
    for (int i = 0; i < svc->spec->replicas; i++)
        if (svc->inst[i].pid > 0)
            return 1;
    return 0;
}

static int deps_stopped(const cr_run *r, const cr_svc *svc)
{
    for (size_t d = 0; d < svc->spec->nstop_deps; d++) {
        size_t k = svc->spec->stop_deps[d];
        if (k < r->nsvcs && r->svcs[k].stop_state != ST_STOPPED)
            return 0;
    }
    return 1;
}

static void signal_service(cr_run *r, cr_svc *svc)
{
    svc->stop_state = ST_SIGNALLED;
    svc->stop_began = cr_run_now(r);
    if (svc_live(svc))
        cr_run_log(r, "stopping %s (%s, SIGKILL after %.3g s)", svc->spec->name,
                   cr_signal_name(svc->spec->stop_signal),
                   svc->spec->stop_timeout_s);
    for (int i = 0; i < svc->spec->replicas; i++) {
        cr_inst *in = &svc->inst[i];
        /* A replica already stopping (a fault's stop) keeps its signal
         * and deadline; the table ignores SHUTDOWN for it. */
        if (in->st != CR_SVC_STOPPING && in->st != CR_SVC_RESTARTING) {
            in->stop_sig = svc->spec->stop_signal;
            in->stop_timeout_s = svc->spec->stop_timeout_s;
        }
        cr_err e;
        cr_err_clear(&e);
        if (cr_svc_fire(r, in, CR_SVE_SHUTDOWN, NULL, &e) != 0) {
            cr_run_log(r, "stopping %s: %s", in->name, e.msg);
            /* A remote replica whose stop signal did not reach it would
             * keep the stop waiting for ever (seen on a loaded machine:
             * "SIGTERM: Input/output error", the run hung): end its ssh
             * session (in->pid, a process group of ours), whose exit
             * ends the wait; what is left on the node is the node
             * ledger's to remove. */
            if (in->svc->remote && in->pid > 0) {
                cr_run_log(r,
                           "stopping %s: ending its ssh session instead; "
                           "the node's clean-up removes what is left there",
                           in->name);
                kill(-in->pid, SIGKILL);
            }
        }
    }
}

void cr_shutdown_advance(cr_run *r)
{
    if (r->phase != CR_PH_STOP)
        return;
    for (int changed = 1; changed;) {
        changed = 0;
        for (size_t s = 0; s < r->nsvcs; s++) {
            cr_svc *svc = &r->svcs[s];
            if (svc->stop_state == ST_SIGNALLED && !svc_live(svc)) {
                svc->stop_state = ST_STOPPED;
                changed = 1;
            } else if (svc->stop_state == ST_WAITING && deps_stopped(r, svc)) {
                signal_service(r, svc);
                changed = 1;
            }
        }
    }
}

void cr_shutdown_begin(cr_run *r)
{
    for (size_t s = 0; s < r->nsvcs; s++)
        r->svcs[s].stop_state = ST_WAITING;
    cr_shutdown_advance(r);
}

int cr_shutdown_done(const cr_run *r)
{
    for (size_t s = 0; s < r->nsvcs; s++)
        if (r->svcs[s].stop_state != ST_STOPPED)
            return 0;
    return 1;
}

void cr_shutdown_record(cr_run *r, cr_inst *in, int status)
{
    json_t *o = json_pack(
        "{s:s,s:s,s:s,s:s,s:f,s:f,s:b}", "instance", in->name, "service",
        in->svc->spec->name, "cause", in->stop_cause, "signal",
        cr_signal_name(in->stop_sig) ? cr_signal_name(in->stop_sig) : "?", "t",
        in->stop_t, "took_s", cr_run_now(r) - in->stop_t, "killed",
        in->stop_killed);
    if (!o)
        return;
    if (WIFEXITED(status))
        json_object_set_new(o, "exit_code", json_integer(WEXITSTATUS(status)));
    else if (WIFSIGNALED(status))
        json_object_set_new(o, "exit_signal",
                            json_string(cr_signal_name(WTERMSIG(status))));
    json_array_append_new(r->j_stops, o);
}

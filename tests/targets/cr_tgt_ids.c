/* cr_tgt_ids: a tiny pipeline that accepts numbered records and delivers
 * each about 200 ms later; the no_loss checker's end-to-end subject.
 *
 * Every --period-ms (default 20 ms) it accepts the next id (`accepted`
 * {id}); ids whose 200 ms are up are delivered (`delivered` {id}, half of
 * them written as strings to exercise id normalisation).  On SIGTERM it
 * delivers everything pending, then exits 0.
 *   --drop N   defect: id N is accepted but never delivered */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t g_term;
static int g_evfd = -1;

static void on_term(int sig)
{
    (void)sig;
    g_term = 1;
}

static double now_unix(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void emit(const char *ev, const char *fields)
{
    if (g_evfd < 0)
        return;
    char line[512];
    const char *svc = getenv("CHAOSRUN_SERVICE"),
               *inst = getenv("CHAOSRUN_INSTANCE");
    int n = snprintf(
        line, sizeof line,
        "{\"ts\":%.6f,\"svc\":\"%s\",\"inst\":\"%s\",\"ev\":\"%s\"%s%s}\n",
        now_unix(), svc ? svc : "?", inst ? inst : "?", ev, fields ? "," : "",
        fields ? fields : "");
    if (write(g_evfd, line, (size_t)n) != n)
        perror("event write");
}

#define QMAX 4096

int main(int argc, char **argv)
{
    long drop = -1;
    int period_ms = 20;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--drop") && i + 1 < argc)
            drop = atol(argv[++i]);
        else if (!strcmp(argv[i], "--period-ms") && i + 1 < argc)
            period_ms = atoi(argv[++i]);
        else {
            fprintf(stderr, "cr_tgt_ids: unknown argument %s\n", argv[i]);
            return 2;
        }
    }
    const char *evp = getenv("CHAOSRUN_EVENTS");
    if (evp)
        g_evfd = open(evp, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    signal(SIGTERM, on_term);
    emit("ready", NULL);
    static long q_id[QMAX];
    static double q_t[QMAX];
    size_t head = 0, tail = 0;
    long next = 0;
    char f[96];
    struct timespec ts = {0, period_ms * 1000000L};
    for (;;) {
        double now = now_unix();
        while (head != tail && (g_term || now - q_t[head % QMAX] >= 0.2)) {
            long id = q_id[head % QMAX];
            head++;
            if (id == drop)
                continue;
            if (id % 2)
                snprintf(f, sizeof f, "\"id\":\"%ld\",\"latency_ms\":%.1f", id,
                         (now - q_t[(head - 1) % QMAX]) * 1000);
            else
                snprintf(f, sizeof f, "\"id\":%ld,\"latency_ms\":%.1f", id,
                         (now - q_t[(head - 1) % QMAX]) * 1000);
            emit("delivered", f);
        }
        if (g_term)
            break;
        if (tail - head < QMAX) {
            q_id[tail % QMAX] = next;
            q_t[tail % QMAX] = now;
            tail++;
            snprintf(f, sizeof f, "\"id\":%ld", next++);
            emit("accepted", f);
        }
        nanosleep(&ts, NULL);
    }
    emit("stopped", NULL);
    return 0;
}

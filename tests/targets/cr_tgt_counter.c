/* cr_tgt_counter: a counter that checkpoints its step to a file and
 * resumes from it after a crash; the checkpoint checker's end-to-end
 * subject (and the state-triggered fault's).
 *
 * Counts one step every --step-ms (default 20 ms), reporting `progress`
 * {step}; every --every steps (default 10) writes the step durably
 * (write, fsync, rename) to $CHAOSRUN_RUN_DIR/<instance>.ckpt and then
 * reports `checkpoint_saved` {name: "counter", step}.  On start, when the
 * file exists, reports `checkpoint_restored` {name: "counter", step}.
 *   --restore-older  defect: restores the checkpoint before the last one */
#include "lib/cr_tgt.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* The file holds "<last> <previous>\n". */
static int save(const char *path, long step, long prev)
{
    char tmp[4200], buf[64];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    int n = snprintf(buf, sizeof buf, "%ld %ld\n", step, prev);
    int ok = write(fd, buf, (size_t)n) == n && fsync(fd) == 0;
    close(fd);
    return ok && rename(tmp, path) == 0 ? 0 : -1;
}

int main(int argc, char **argv)
{
    int older = 0, step_ms = 20, every = 10;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--restore-older"))
            older = 1;
        else if (!strcmp(argv[i], "--step-ms") && i + 1 < argc)
            step_ms = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--every") && i + 1 < argc)
            every = atoi(argv[++i]);
        else {
            fprintf(stderr, "cr_tgt_counter: unknown argument %s\n", argv[i]);
            return 2;
        }
    }
    const char *dir = getenv("CHAOSRUN_RUN_DIR"),
               *inst = getenv("CHAOSRUN_INSTANCE");
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.ckpt", dir ? dir : ".",
             inst ? inst : "counter");
    cr_tgt_init(1);
    long step = 0, prev = 0; /* prev: the step of the last save */
    char f[128];
    FILE *fp = fopen(path, "re");
    if (fp) {
        long last = 0, before = 0;
        if (fscanf(fp, "%ld %ld", &last, &before) == 2) {
            step = older ? before : last;
            prev = last; /* the file's "previous" after the next save */
            snprintf(f, sizeof f, "\"name\":\"counter\",\"step\":%ld", step);
            cr_tgt_emit("checkpoint_restored", f);
        }
        fclose(fp);
    }
    cr_tgt_emit("ready", NULL);
    struct timespec ts = {0, step_ms * 1000000L};
    while (!cr_tgt_term) {
        nanosleep(&ts, NULL);
        step++;
        snprintf(f, sizeof f, "\"step\":%ld", step);
        cr_tgt_emit("progress", f);
        if (step % every == 0) {
            if (save(path, step, prev) != 0) {
                perror("checkpoint");
                return 1;
            }
            prev = step;
            snprintf(f, sizeof f, "\"name\":\"counter\",\"step\":%ld", step);
            cr_tgt_emit("checkpoint_saved", f);
        }
    }
    cr_tgt_emit("stopped", NULL);
    return 0;
}

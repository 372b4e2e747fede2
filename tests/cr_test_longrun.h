/* cr_test_longrun: a synthetic run directory of a long run (ten hours),
 * for the tests and the benchmark of report.html on long runs
 * (tests/test_report_long.c, tests/bench/bench_report_html.c).
 *
 * Everything a long run accumulates grows with nev, the number of event
 * lines: nev/100 fault occurrences (an instantaneous kill and a 1 s pause,
 * alternately) with as many planned ones and run-log lines, a service
 * restarted nev/200 times, nev/100 probe results (ok and failed in turn),
 * a failed expectation with nev/100 evidence rows, and in events.jsonl a
 * breaker that flips every 10 events, an alert firing and resolved every
 * 50, accepted/delivered records otherwise. */
#ifndef CR_TEST_LONGRUN_H
#define CR_TEST_LONGRUN_H

#include <stdio.h>

#define CRT_LONG_T 36000.0 /* seconds after t0 */

/* Write dir/journal.json and dir/events.jsonl (dir exists).  0 or -1. */
static inline int crt_longrun_write(const char *dir, size_t nev)
{
    char path[4200];
    const double t0 = 1764200000.0, T = CRT_LONG_T;
    size_t nf = nev / 100 ? nev / 100 : 1, nr = nev / 200 ? nev / 200 : 1;
    FILE *j, *e;
    snprintf(path, sizeof path, "%s/journal.json", dir);
    if (!(j = fopen(path, "w")))
        return -1;
    fprintf(j,
            "{\"chaosrun\":\"0.1.0\",\"format\":1,\"name\":\"long-run\","
            "\"status\":\"failed\",\"exit_code\":1,\"seed\":1,"
            "\"seed_source\":\"scenario\",\"started_at\":%.3f,"
            "\"t0_unix\":%.3f,\"ended_at\":%.3f,\"duration_s\":%.0f,"
            "\"drain_s\":0,\"events\":{\"file\":\"events.jsonl\"},"
            "\"scenario\":{\"name\":\"long-run\"},\"timeline\":[",
            t0 - 1, t0, t0 + T, T);
    for (size_t i = 0; i < nf; i++)
        fprintf(j,
                "%s{\"fault\":\"%s\",\"kind\":\"%s\",\"target\":\"w.0\","
                "\"occurrence\":%zu,\"at_s\":%.3f,\"for_s\":%d}",
                i ? "," : "", i % 2 ? "pause-w" : "kill-w",
                i % 2 ? "pause" : "kill", i / 2, T * (double)i / (double)nf,
                (int)(i % 2));
    fputs("],\"faults\":[", j);
    for (size_t i = 0; i < nf; i++) {
        double at = T * (double)i / (double)nf;
        char rev[32] = "null";
        if (i % 2)
            snprintf(rev, sizeof rev, "%.3f", at + 1);
        fprintf(j,
                "%s{\"name\":\"%s\",\"kind\":\"%s\",\"target\":\"w.0\","
                "\"occurrence\":%zu,\"scheduled_t\":%.3f,\"applied_t\":%.3f,"
                "\"reverted_t\":%s,\"for_s\":%d,\"outcome\":\"applied\","
                "\"error\":null,\"details\":{\"pids\":[%zu]}}",
                i ? "," : "", i % 2 ? "pause-w" : "kill-w",
                i % 2 ? "pause" : "kill", i / 2, at, at, rev, (int)(i % 2),
                1000 + i);
    }
    fputs("],\"services\":[{\"instance\":\"w.0\",\"service\":\"w\","
          "\"replica\":0,\"log\":\"logs/w.0.log\",",
          j);
    fprintf(j, "\"restarts\":%zu,\"history\":[", nr);
    fprintf(j, "{\"t\":-1,\"what\":\"start\",\"pid\":1},"
               "{\"t\":-0.5,\"what\":\"ready\"}");
    for (size_t i = 0; i < nr; i++) {
        double at = T * ((double)i + 0.5) / (double)nr;
        fprintf(j,
                ",{\"t\":%.3f,\"what\":\"exit\",\"signal\":\"SIGKILL\"},"
                "{\"t\":%.3f,\"what\":\"start\",\"pid\":%zu},"
                "{\"t\":%.3f,\"what\":\"ready\"}",
                at, at + 0.2, 2 + i, at + 0.5);
    }
    fputs("]}],\"probes\":[", j);
    for (size_t i = 0; i < nf; i++)
        fprintf(j,
                "%s{\"probe\":\"up\",\"kind\":\"http\",\"phase\":\"during\","
                "\"t\":%.3f,\"ok\":%s,\"detail\":\"HTTP %d\"}",
                i ? "," : "", T * ((double)i + 0.3) / (double)nf,
                i % 2 ? "false" : "true", i % 2 ? 503 : 200);
    fputs("],\"expectations\":[{\"name\":\"recovers\",\"kind\":\"recovers\","
          "\"verdict\":\"failed\",\"summary\":\"probes failed after the "
          "faults\",\"evidence\":[",
          j);
    for (size_t i = 0; i < nf; i++)
        fprintf(j,
                "%s{\"t\":%.3f,\"text\":\"probe up failed: HTTP 503 (#%zu)\"}",
                i ? "," : "", T * ((double)i + 0.3) / (double)nf, i);
    fputs("],\"details\":{}}],\"log\":[", j);
    for (size_t i = 0; i < nf; i++)
        fprintf(j, "%s{\"t\":%.3f,\"text\":\"fault %zu applied to w.0\"}",
                i ? "," : "", T * (double)i / (double)nf, i);
    fputs("]}\n", j);
    if (fclose(j) != 0)
        return -1;
    snprintf(path, sizeof path, "%s/events.jsonl", dir);
    if (!(e = fopen(path, "w")))
        return -1;
    for (size_t i = 0; i < nev; i++) {
        double ts = t0 + T * (double)i / (double)nev;
        if (i % 10 == 0)
            fprintf(e,
                    "{\"ts\":%.6f,\"svc\":\"w\",\"inst\":\"w.0\",\"ev\":"
                    "\"breaker\",\"name\":\"b\",\"state\":\"%s\"}\n",
                    ts, i % 20 ? "open" : "closed");
        else if (i % 50 == 1)
            fprintf(e,
                    "{\"ts\":%.6f,\"svc\":\"w\",\"ev\":\"alert\",\"name\":"
                    "\"lag\",\"state\":\"%s\"}\n",
                    ts, i % 100 == 1 ? "firing" : "resolved");
        else
            fprintf(e,
                    "{\"ts\":%.6f,\"svc\":\"w\",\"inst\":\"w.0\",\"ev\":"
                    "\"%s\",\"id\":%zu}\n",
                    ts, i % 2 ? "accepted" : "delivered", i / 2);
    }
    return fclose(e) == 0 ? 0 : -1;
}

#endif

/* cr_tgt_udp: a tiny UDP system under test for the network fault tests.
 *
 *   cr_tgt_udp serve              listen on CHAOSRUN_PORT (all addresses);
 *                                 every datagram becomes an event
 *                                 {"ev":"udp_recv","from":"<sender>","seq":N}
 *   cr_tgt_udp send SVC... [--interval-ms N] [--size BYTES]
 *                                 every N ms (default 20) send a datagram
 *                                 "<CHAOSRUN_SERVICE> <seq>" (padded with
 *                                 'x' to BYTES, at most 1400) to each
 *                                 CHAOSRUN_ADDR_<SVC> and record
 *                                 {"ev":"udp_sent","to":SVC,"seq":N}
 *
 * Prints "listening on PORT" / "sending" once ready; exits 0 on SIGTERM. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;
static int events_fd = -1;

static void on_term(int sig)
{
    stop = 1;
}

static double now(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return tv.tv_sec + tv.tv_usec / 1e6;
}

static void event(const char *fields)
{
    if (events_fd < 0)
        return;
    char line[512];
    const char *svc = getenv("CHAOSRUN_SERVICE");
    int n = snprintf(line, sizeof line, "{\"ts\":%.6f,\"svc\":\"%s\",%s}\n",
                     now(), svc ? svc : "udp", fields);
    if (n > 0 && (size_t)n < sizeof line &&
        write(events_fd, line, (size_t)n) < 0)
        perror("events");
}

static int serve(void)
{
    const char *port = getenv("CHAOSRUN_PORT");
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons(port ? atoi(port) : 9000)};
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        perror("bind");
        return 1;
    }
    printf("listening on %d\n", ntohs(sa.sin_port));
    fflush(stdout);
    event("\"ev\":\"ready\"");
    char buf[256], fields[400], from[64];
    while (!stop) {
        struct sockaddr_in src;
        socklen_t sl = sizeof src;
        ssize_t r =
            recvfrom(fd, buf, sizeof buf - 1, 0, (struct sockaddr *)&src, &sl);
        if (r < 0)
            continue; /* EINTR on SIGTERM */
        buf[r] = '\0';
        char who[64] = "?";
        long seq = -1;
        sscanf(buf, "%63s %ld", who, &seq);
        for (char *p = who; *p; p++)
            if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
                *p = '_';
        inet_ntop(AF_INET, &src.sin_addr, from, sizeof from);
        snprintf(
            fields, sizeof fields,
            "\"ev\":\"udp_recv\",\"from\":\"%s\",\"addr\":\"%s\",\"seq\":%ld",
            who, from, seq);
        event(fields);
    }
    close(fd);
    return 0;
}

static int resolve(const char *svc, struct sockaddr_in *sa)
{
    char key[128];
    int k = snprintf(key, sizeof key, "CHAOSRUN_ADDR_");
    for (const char *p = svc; *p && k < (int)sizeof key - 1; p++)
        key[k++] =
            (*p == '-' || *p == '.') ? '_' : (char)toupper((unsigned char)*p);
    key[k] = '\0';
    const char *v = getenv(key);
    if (!v)
        return -1;
    char host[64];
    int port;
    if (sscanf(v, "%63[^:]:%d", host, &port) != 2)
        return -1;
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_port = htons(port);
    return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -1;
}

static int send_loop(int argc, char **argv)
{
    int interval = 20, size = 0;
    const char *to[16];
    struct sockaddr_in sa[16];
    int n = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--interval-ms") == 0 && i + 1 < argc)
            interval = atoi(argv[++i]);
        else if (strcmp(argv[i], "--size") == 0 && i + 1 < argc)
            size = atoi(argv[++i]);
        else if (n < 16)
            to[n++] = argv[i];
    }
    for (int i = 0; i < n; i++)
        if (resolve(to[i], &sa[i]) != 0) {
            fprintf(stderr, "no address for %s\n", to[i]);
            return 2;
        }
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return 1;
    printf("sending\n");
    fflush(stdout);
    const char *me = getenv("CHAOSRUN_SERVICE");
    char msg[1500], fields[256];
    if (size < 0 || size > 1400)
        size = 1400;
    for (long seq = 0; !stop; seq++) {
        for (int i = 0; i < n; i++) {
            int len = snprintf(msg, 128, "%s %ld", me ? me : "udp", seq);
            if (len < size)
                msg[len++] = ' ';
            while (len < size)
                msg[len++] = 'x';
            int rc = (int)sendto(fd, msg, (size_t)len, 0,
                                 (struct sockaddr *)&sa[i], sizeof sa[i]);
            snprintf(fields, sizeof fields,
                     "\"ev\":\"udp_sent\",\"to\":\"%s\",\"seq\":%ld,\"ok\":%s",
                     to[i], seq, rc < 0 ? "false" : "true");
            event(fields);
        }
        struct timespec ts = {interval / 1000, (interval % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    close(fd);
    return 0;
}

int main(int argc, char **argv)
{
    struct sigaction sa = {.sa_handler = on_term};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    const char *ev = getenv("CHAOSRUN_EVENTS");
    if (ev)
        events_fd = open(ev, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (argc >= 2 && strcmp(argv[1], "serve") == 0)
        return serve();
    if (argc >= 3 && strcmp(argv[1], "send") == 0)
        return send_loop(argc - 2, argv + 2);
    fprintf(stderr,
            "usage: cr_tgt_udp serve | send SVC... [--interval-ms N]\n");
    return 2;
}

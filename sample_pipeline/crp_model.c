/* crp_model: see crp_model.h. */
#include "crp_model.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static double mu(int i)
{
    return i < 8 ? 0.6 : 0.15;
}

void crp_model_gen(crp_rng *r, double *x, int *label)
{
    *label = (int)(crp_rng_next(r) >> 63);
    for (int i = 0; i < CRP_DIM; i++)
        x[i] = crp_rng_normal(r) + (2 * *label - 1) * mu(i);
}

void crp_model_extra(const double *x, double *extra)
{
    double s = 0, mx = x[0], mn = x[0];
    for (int i = 0; i < CRP_DIM; i++) {
        s += x[i];
        mx = x[i] > mx ? x[i] : mx;
        mn = x[i] < mn ? x[i] : mn;
    }
    extra[0] = s / CRP_DIM;
    extra[1] = mx;
    extra[2] = mn;
    extra[3] = x[0] * x[1];
}

int crp_model_normalise(double *x)
{
    double n = 0;
    for (int i = 0; i < CRP_DIM; i++)
        n += x[i] * x[i];
    if (!(n > 0))
        return -1;
    n = sqrt(n) / sqrt((double)CRP_DIM); /* keep unit variance per dim */
    for (int i = 0; i < CRP_DIM; i++)
        x[i] /= n;
    return 0;
}

void crp_model_default(crp_model *m)
{
    for (int i = 0; i < CRP_NW; i++)
        m->w[i] = i < CRP_DIM ? 2 * mu(i) : 0;
}

static double dot(const crp_model *m, const double *x, const double *extra)
{
    double z = m->w[CRP_NW - 1];
    for (int i = 0; i < CRP_DIM; i++)
        z += m->w[i] * x[i];
    if (extra)
        for (int i = 0; i < CRP_EXTRA; i++)
            z += m->w[CRP_DIM + i] * extra[i];
    return z;
}

double crp_model_score(const crp_model *m, const double *x, const double *extra)
{
    return 1.0 / (1.0 + exp(-dot(m, x, extra)));
}

void crp_model_sgd(crp_model *m, double *v, const double *x,
                   const double *extra, int label, double lr, double momentum)
{
    double g = crp_model_score(m, x, extra) - label;
    for (int i = 0; i < CRP_NW; i++) {
        double xi = i < CRP_DIM               ? x[i]
                    : i < CRP_DIM + CRP_EXTRA ? extra[i - CRP_DIM]
                                              : 1.0;
        v[i] = momentum * v[i] + g * xi;
        m->w[i] -= lr * v[i];
    }
}

uint64_t crp_model_hash(const crp_model *m)
{
    return crp_fnv1a(CRP_FNV_INIT, m->w, sizeof m->w);
}

int crp_write_atomic(const char *path, const void *buf, size_t len)
{
    char tmp[600], dir[600];
    int fd = -1, dfd = -1, rc = 0;
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    snprintf(dir, sizeof dir, "%s", path);
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = -errno;
        goto out;
    }
    const char *p = buf;
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, p + done, len - done);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            rc = -errno;
            goto out;
        }
        done += (size_t)w;
    }
    if (fsync(fd) < 0 || close(fd) < 0) {
        rc = -errno;
        fd = -1;
        goto out;
    }
    fd = -1;
    if (rename(tmp, path) < 0) {
        rc = -errno;
        goto out;
    }
    dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || fsync(dfd) < 0)
        rc = -errno;
out:
    if (fd >= 0)
        close(fd);
    if (dfd >= 0)
        close(dfd);
    if (rc < 0)
        unlink(tmp);
    return rc;
}

#define MODEL_MAGIC 0x43525031u /* "CRP1" */

typedef struct model_file {
    uint32_t magic, n;
    double w[CRP_NW];
    uint64_t h;
} model_file;
_Static_assert(sizeof(model_file) == CRP_MODEL_BYTES, "model file layout");

void crp_model_encode(const crp_model *m, void *buf)
{
    model_file f;
    memset(&f, 0, sizeof f);
    f.magic = MODEL_MAGIC;
    f.n = CRP_NW;
    memcpy(f.w, m->w, sizeof f.w);
    f.h = crp_model_hash(m);
    memcpy(buf, &f, sizeof f);
}

int crp_model_decode(crp_model *m, const void *buf, size_t len)
{
    model_file f;
    if (len != sizeof f)
        return -EINVAL;
    memcpy(&f, buf, sizeof f);
    if (f.magic != MODEL_MAGIC || f.n != CRP_NW)
        return -EINVAL;
    crp_model t;
    memcpy(t.w, f.w, sizeof t.w);
    if (crp_model_hash(&t) != f.h)
        return -EINVAL;
    *m = t;
    return 0;
}

int crp_model_save(const crp_model *m, const char *path)
{
    unsigned char b[CRP_MODEL_BYTES];
    crp_model_encode(m, b);
    return crp_write_atomic(path, b, sizeof b);
}

int crp_model_load(crp_model *m, const char *path)
{
    unsigned char b[CRP_MODEL_BYTES + 1];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ssize_t r = read(fd, b, sizeof b);
    close(fd);
    if (r < 0)
        return -EINVAL;
    return crp_model_decode(m, b, (size_t)r);
}

void crp_model_eval(const crp_model *m, const double *x, const double *extra,
                    const int *label, long long n, double *acc, double *loss)
{
    long long ok = 0;
    double l = 0;
    for (long long i = 0; i < n; i++) {
        double p = crp_model_score(m, x + i * CRP_DIM, extra + i * CRP_EXTRA);
        ok += (p >= 0.5) == (label[i] == 1);
        double q = label[i] ? p : 1 - p;
        l -= log(q > 1e-12 ? q : 1e-12);
    }
    *acc = n > 0 ? (double)ok / (double)n : 0;
    *loss = n > 0 ? l / (double)n : 0;
}

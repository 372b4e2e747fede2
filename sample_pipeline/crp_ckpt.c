/* crp_ckpt: see crp_ckpt.h. */
#include "crp_ckpt.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#define CKPT_MAGIC 0x43524b31u /* "CRK1" */

typedef struct ckpt_file {
    uint32_t magic, version;
    crp_train_state s;
    uint64_t sum;
} ckpt_file;

static uint64_t sum_of(const ckpt_file *f)
{
    return crp_fnv1a(CRP_FNV_INIT, f, offsetof(ckpt_file, sum));
}

int crp_ckpt_save(const char *path, const crp_train_state *s, int unsafe)
{
    ckpt_file f;
    memset(&f, 0, sizeof f);
    f.magic = CKPT_MAGIC;
    f.version = 1;
    f.s = *s;
    f.sum = sum_of(&f);
    if (!unsafe)
        return crp_write_atomic(path, &f, sizeof f);
    /* The defect: truncate the only copy, then write it piecewise (state,
     * then checksum), no fsync, no rename.  A crash or a failed write in
     * between leaves no valid checkpoint at all. */
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    int rc = 0;
    size_t half = offsetof(ckpt_file, sum);
    if (write(fd, &f, half) != (ssize_t)half ||
        write(fd, (char *)&f + half, sizeof f - half) !=
            (ssize_t)(sizeof f - half))
        rc = errno ? -errno : -EIO;
    close(fd);
    return rc;
}

int crp_ckpt_load(const char *path, crp_train_state *s)
{
    ckpt_file f;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    ssize_t r = read(fd, &f, sizeof f);
    close(fd);
    if (r != (ssize_t)sizeof f || f.magic != CKPT_MAGIC || f.version != 1 ||
        f.sum != sum_of(&f))
        return -EINVAL;
    *s = f.s;
    return 0;
}

/* cr_prog: what kind of program a service runs -- for fault kinds that
 * reach a program through LD_PRELOAD (libfiu for syscall faults,
 * libfaketime for clock faults), which does nothing to a statically
 * linked program, a Go program's own system calls, or anything that is
 * not an ELF program. */
#include "faults/cr_prog.h"

#include "base/cr_alloc.h"

#include <elf.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Where the service's program is: argv[0] through PATH, or relative to the
 * service's cwd (the engine chdirs there before execve). */
int cr_prog_resolve(const cr_svc_spec *sp, char *out, size_t n)
{
    const char *prog = sp->argv[0];
    if (strchr(prog, '/')) {
        if (prog[0] != '/' && sp->cwd)
            snprintf(out, n, "%s/%s", sp->cwd, prog);
        else
            snprintf(out, n, "%s", prog);
        return access(out, X_OK) == 0 ? 0 : -1;
    }
    const char *path = getenv("PATH");
    if (!path)
        path = "/usr/local/bin:/usr/bin:/bin";
    for (const char *p = path; *p;) {
        size_t len = strcspn(p, ":");
        snprintf(out, n, "%.*s/%s", (int)len, len ? p : ".", prog);
        if (access(out, X_OK) == 0)
            return 0;
        p += len;
        if (*p == ':')
            p++;
    }
    return -1;
}

/* 1 when the section header table names a Go section (.go.buildinfo,
 * .gopclntab, .note.go.buildid): the Go runtime makes its system calls
 * itself, never through the C library, even in a dynamically linked (cgo)
 * program. */
static int elf_is_go(int fd, const unsigned char *h)
{
    int is64 = h[EI_CLASS] == ELFCLASS64;
    uint64_t shoff;
    unsigned shnum, shentsize, shstrndx;
    if (is64) {
        Elf64_Ehdr e;
        memcpy(&e, h, sizeof e);
        shoff = e.e_shoff, shnum = e.e_shnum, shentsize = e.e_shentsize;
        shstrndx = e.e_shstrndx;
    } else {
        Elf32_Ehdr e;
        memcpy(&e, h, sizeof e);
        shoff = e.e_shoff, shnum = e.e_shnum, shentsize = e.e_shentsize;
        shstrndx = e.e_shstrndx;
    }
    if (!shoff || shstrndx >= shnum || shentsize < sizeof(Elf32_Shdr) ||
        shentsize > 256)
        return 0;
    unsigned char sh[256];
    if (pread(fd, sh, shentsize,
              (off_t)(shoff + (uint64_t)shstrndx * shentsize)) !=
        (ssize_t)shentsize)
        return 0;
    uint64_t stroff, strsize;
    if (is64) {
        Elf64_Shdr s;
        memcpy(&s, sh, sizeof s);
        stroff = s.sh_offset, strsize = s.sh_size;
    } else {
        Elf32_Shdr s;
        memcpy(&s, sh, sizeof s);
        stroff = s.sh_offset, strsize = s.sh_size;
    }
    if (strsize == 0 || strsize > (1u << 20))
        return 0;
    char *tab = cr_malloc((size_t)strsize + 1);
    int go = 0;
    if (tab &&
        pread(fd, tab, (size_t)strsize, (off_t)stroff) == (ssize_t)strsize) {
        tab[strsize] = '\0';
        for (size_t i = 0; i < strsize && !go; i += strlen(tab + i) + 1)
            go = strcmp(tab + i, ".go.buildinfo") == 0 ||
                 strcmp(tab + i, ".gopclntab") == 0 ||
                 strcmp(tab + i, ".note.go.buildid") == 0;
    }
    cr_free(tab);
    return go;
}

/* CR_PROG_DYNAMIC: ELF with PT_INTERP; CR_PROG_STATIC: without; CR_PROG_GO: a
 * Go program (either); CR_PROG_SCRIPT: "#!" (interpreter path copied to
 * interp); CR_PROG_OTHER: neither / unreadable. */
int cr_prog_kind(const char *path, char *interp, size_t n)
{
    unsigned char h[256];
    int kind = CR_PROG_OTHER;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return CR_PROG_OTHER;
    ssize_t got = pread(fd, h, sizeof h, 0);
    if (got >= 2 && h[0] == '#' && h[1] == '!') {
        size_t i = 2, k = 0;
        while (i < (size_t)got && (h[i] == ' ' || h[i] == '\t'))
            i++;
        while (i < (size_t)got && h[i] != ' ' && h[i] != '\t' && h[i] != '\n' &&
               k + 1 < n)
            interp[k++] = (char)h[i++];
        interp[k] = '\0';
        kind = k ? CR_PROG_SCRIPT : CR_PROG_OTHER;
        goto out;
    }
    if (got < (ssize_t)sizeof(Elf64_Ehdr) || memcmp(h, ELFMAG, SELFMAG) != 0)
        goto out;
    int is64 = h[EI_CLASS] == ELFCLASS64;
    uint64_t phoff;
    unsigned phnum, phentsize;
    if (is64) {
        Elf64_Ehdr e;
        memcpy(&e, h, sizeof e);
        phoff = e.e_phoff;
        phnum = e.e_phnum;
        phentsize = e.e_phentsize;
    } else {
        Elf32_Ehdr e;
        memcpy(&e, h, sizeof e);
        phoff = e.e_phoff;
        phnum = e.e_phnum;
        phentsize = e.e_phentsize;
    }
    if (phentsize == 0 || phentsize > 256)
        goto out;
    kind = CR_PROG_STATIC;
    for (unsigned i = 0; i < phnum; i++) {
        unsigned char ph[256];
        if (pread(fd, ph, phentsize,
                  (off_t)(phoff + (uint64_t)i * phentsize)) !=
            (ssize_t)phentsize) {
            kind = CR_PROG_OTHER;
            goto out;
        }
        uint32_t type;
        memcpy(&type, ph, sizeof type); /* p_type is first in both classes */
        if (type == PT_INTERP) {
            kind = CR_PROG_DYNAMIC;
            break;
        }
    }
    if (elf_is_go(fd, h))
        kind = CR_PROG_GO;
out:
    close(fd);
    return kind;
}

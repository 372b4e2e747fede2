/* cr_cli_init: `chaosrun init [--example] [--force] [DIR]`: a starter
 * scenario for the user's own program (scenario.json, and README.md that
 * explains every key, JSON having no comments), or with --example the
 * reference pipeline's quickstart and its README.  The files are
 * harness/cli/init/ and scenarios/quickstart.json, compiled in by
 * cmake/CrEmbed.cmake; tests/e2e/cli_init.sh validates and runs them. */
#include "cr_cli.h"

#include "base/cr_path.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

extern const char cr_init_starter_json[], cr_init_starter_readme[],
    cr_init_example_json[], cr_init_example_readme[];

static const char INIT_USAGE[] =
    "usage: chaosrun init [--example] [--force] [DIR]\n"
    "\n"
    "Write a starter scenario into DIR (default: the current directory):\n"
    "scenario.json, which runs one service, kills and freezes it and checks\n"
    "that it recovers (as written, with a stand-in server shipped with\n"
    "chaosrun: replace its cmd with your program), and README.md, which\n"
    "explains every key.  DIR is made when missing.\n"
    "\n"
    "  --example   the reference pipeline's quickstart instead (needs crp:\n"
    "              the chaosrun-examples package, or a build with\n"
    "              CR_BUILD_PIPELINE=ON)\n"
    "  --force     overwrite scenario.json and README.md when they exist\n"
    "  -h, --help  this text\n"
    "\n"
    "Exit status: 0 written; 2 usage, or the files exist (without --force);\n"
    "4 they could not be written.\n";

/* mkdir -p: 0 or -1 (errno set). */
static int make_dirs(const char *dir)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s", dir);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0755) != 0 && errno != EEXIST)
            return -1;
        *s = '/';
    }
    return mkdir(p, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

/* Write text to dir/name: refuses an existing file unless force.
 * Returns 0 or the exit status (message printed). */
static int write_file(const char *dir, const char *name, const char *text,
                      int force)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd =
        open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (force ? O_TRUNC : O_EXCL),
             0644);
    if (fd < 0) {
        fprintf(stderr, "chaosrun init: %s: %s%s\n", path, strerror(errno),
                errno == EEXIST ? " (--force overwrites it)" : "");
        return errno == EEXIST ? 2 : 4;
    }
    size_t len = strlen(text), off = 0;
    while (off < len) {
        ssize_t k = write(fd, text + off, len - off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            fprintf(stderr, "chaosrun init: writing %s: %s\n", path,
                    strerror(errno));
            close(fd);
            return 4;
        }
        off += (size_t)k;
    }
    if (close(fd) != 0) {
        fprintf(stderr, "chaosrun init: writing %s: %s\n", path,
                strerror(errno));
        return 4;
    }
    return 0;
}

int cr_cli_init(int argc, char **argv)
{
    int example = 0, force = 0, rc;
    const char *dir = NULL;
    struct stat st;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(INIT_USAGE, stdout);
            return 0;
        } else if (!strcmp(argv[i], "--example")) {
            example = 1;
        } else if (!strcmp(argv[i], "--force")) {
            force = 1;
        } else if (argv[i][0] == '-' || dir) {
            fprintf(stderr, "chaosrun init: unexpected argument %s\n\n%s",
                    argv[i], INIT_USAGE);
            return 2;
        } else {
            dir = argv[i];
        }
    }
    if (!dir)
        dir = ".";
    if (make_dirs(dir) != 0 || stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "chaosrun init: cannot make directory %s: %s\n", dir,
                strerror(errno ? errno : ENOTDIR));
        return 4;
    }
    /* Neither file is written when one of them is refused. */
    static const char *const names[] = {"scenario.json", "README.md"};
    for (size_t i = 0; !force && i < 2; i++) {
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (lstat(path, &st) == 0) {
            fprintf(stderr,
                    "chaosrun init: %s exists (--force overwrites it)\n", path);
            return 2;
        }
    }
    if ((rc = write_file(dir, "scenario.json",
                         example ? cr_init_example_json : cr_init_starter_json,
                         force)) != 0 ||
        (rc = write_file(dir, "README.md",
                         example ? cr_init_example_readme
                                 : cr_init_starter_readme,
                         force)) != 0)
        return rc;
    printf("wrote %s/scenario.json and %s/README.md\n", dir, dir);
    printf("next: chaosrun validate %s/scenario.json && chaosrun "
           "%s/scenario.json\n",
           dir, dir);
    /* Say so now when the program the scenario runs is not here. */
    char helpers[PATH_MAX], prog[PATH_MAX + 32];
    cr_path_helper_dir(helpers, sizeof helpers);
    snprintf(prog, sizeof prog, "%s/%s", helpers,
             example ? "crp" : "cr_tgt_server");
    if (access(prog, X_OK) != 0)
        fprintf(stderr,
                "chaosrun init: note: %s is not installed, so the scenario "
                "will not run as written (%s)\n",
                prog,
                example ? "install the chaosrun-examples package, or build "
                          "with CR_BUILD_PIPELINE=ON"
                        : "replace services[0].cmd with your program");
    return 0;
}

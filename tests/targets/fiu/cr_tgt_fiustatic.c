/* cr_tgt_fiustatic: a statically linked program (LD_PRELOAD cannot reach
 * it), for the syscall fault's "refuse before the run" test.  Prints
 * "static ready" and sleeps until SIGTERM. */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

int main(void)
{
    printf("static ready\n");
    fflush(stdout);
    for (;;)
        pause();
}

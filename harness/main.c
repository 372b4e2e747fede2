/* main: the chaosrun command line (placeholder until the engine lands). */
#include <stdio.h>

int main(void)
{
    puts("chaosrun " CR_VERSION);
    return 0;
}

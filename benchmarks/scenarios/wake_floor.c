/* wake_floor.c: the CPU a thread spends only to wake up RATE times a second
 * (an absolute-deadline clock_nanosleep loop doing nothing else), in
 * microseconds per wake-up.  On a virtual machine this is most of a
 * sampler's cost: the context switch in and out is paid per tick, whatever
 * the sampler then does.
 *
 *     cc -O2 -o wake_floor wake_floor.c && ./wake_floor [RATE] [SECONDS]
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double cpu_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    double rate = argc > 1 ? atof(argv[1]) : 1000.0, seconds = argc > 2 ? atof(argv[2]) : 3.0;
    if (rate <= 0 || seconds <= 0) {
        fprintf(stderr, "usage: wake_floor [RATE] [SECONDS]\n");
        return 2;
    }
    long step = (long)(1e9 / rate), n = (long)(rate * seconds);
    struct timespec d;
    clock_gettime(CLOCK_MONOTONIC, &d);
    double c0 = cpu_s();
    for (long i = 0; i < n; i++) {
        d.tv_nsec += step;
        while (d.tv_nsec >= 1000000000L) {
            d.tv_nsec -= 1000000000L;
            d.tv_sec++;
        }
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &d, NULL);
    }
    double used = cpu_s() - c0;
    printf("{\"wakeups\": %ld, \"cpu_s\": %.6f, \"us_per_wake\": %.3f, \"share\": %.6f}\n", n, used,
           used / (double)n * 1e6, used / seconds);
    return 0;
}

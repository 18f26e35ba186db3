/* signal_floor.c: what it costs a thread running on a CPU to be interrupted
 * RATE times a second, whatever the interruption then does: a spinning
 * thread's work rate with no interruption, with an empty signal handler run
 * on it by tgkill from a thread on another core (how the sampler asks the
 * running thread for its stack), and with the same handler run by a timer
 * of the thread's own CPU clock (a perf task-clock event: no other core
 * involved).  Rounds of the three are interleaved; the medians give the
 * slowdown and the microseconds each interruption took from the thread.
 *
 * On a virtual machine each interruption is exits to the hypervisor, which
 * sets the floor under any sampler that stops a running thread once a tick.
 *
 *     cc -O2 -pthread -o signal_floor signal_floor.c && ./signal_floor [RATE] [SECONDS] [ROUNDS]
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/perf_event.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

enum { NONE, TGKILL, OWN_TIMER, MODES };
static const char *const names[MODES] = {"none", "tgkill from another thread", "the thread's own CPU-clock timer"};

static volatile int mode, stop, ready;
static volatile pid_t target;
static volatile unsigned long spins;
static volatile long handled;
static long period_ns;
static int signo;

static void on_signal(int s, siginfo_t *si, void *uc)
{
    (void)s;
    (void)si;
    (void)uc;
    handled++;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* A perf event counting this thread's CPU time that signals the thread
 * itself every period: the interruption comes from the CPU it runs on. */
static int own_timer(void)
{
    struct perf_event_attr a;
    memset(&a, 0, sizeof a);
    a.size = sizeof a;
    a.type = PERF_TYPE_SOFTWARE;
    a.config = PERF_COUNT_SW_TASK_CLOCK;
    a.sample_period = (unsigned long long)period_ns;
    a.exclude_kernel = 1;
    a.exclude_hv = 1;
    a.disabled = 1;
    a.wakeup_events = 1;
    int fd = (int)syscall(SYS_perf_event_open, &a, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
    if (fd < 0)
        return -1;
    struct f_owner_ex owner = {F_OWNER_TID, (pid_t)syscall(SYS_gettid)};
    if (fcntl(fd, F_SETOWN_EX, &owner) != 0 || fcntl(fd, F_SETSIG, signo) != 0 || fcntl(fd, F_SETFL, O_ASYNC) != 0 ||
        ioctl(fd, PERF_EVENT_IOC_ENABLE, 0) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void *spin(void *arg)
{
    int *timer_ok = arg, fd = -1;
    target = (pid_t)syscall(SYS_gettid);
    if (mode == OWN_TIMER && (fd = own_timer()) < 0)
        *timer_ok = 0;
    ready = 1;
    unsigned long x = 1;
    while (!stop) {
        for (int i = 0; i < 1000; i++)
            x = x * 6364136223846793005UL + 1;
        spins++;
    }
    if (fd >= 0)
        close(fd);
    return (void *)(uintptr_t)x;
}

static void *asker(void *arg)
{
    (void)arg;
    struct timespec d;
    clock_gettime(CLOCK_MONOTONIC, &d);
    while (!stop) {
        d.tv_nsec += period_ns;
        while (d.tv_nsec >= 1000000000L) {
            d.tv_nsec -= 1000000000L;
            d.tv_sec++;
        }
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &d, NULL);
        if (mode == TGKILL && !stop)
            syscall(SYS_tgkill, getpid(), target, signo);
    }
    return NULL;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    double rate = argc > 1 ? atof(argv[1]) : 1000.0, seconds = argc > 2 ? atof(argv[2]) : 1.0;
    int rounds = argc > 3 ? atoi(argv[3]) : 7;
    if (rate <= 0 || seconds <= 0 || rounds < 1 || rounds > 99) {
        fprintf(stderr, "usage: signal_floor [RATE] [SECONDS] [ROUNDS<100]\n");
        return 2;
    }
    period_ns = (long)(1e9 / rate);
    signo = SIGRTMIN + 3;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigaction(signo, &sa, NULL);
    double work[MODES][100], sigs[MODES][100];
    int timer_ok = 1;
    for (int r = 0; r < rounds; r++)
        for (int m = 0; m < MODES; m++) {
            mode = m;
            stop = ready = 0;
            pthread_t s, a;
            pthread_create(&s, NULL, spin, &timer_ok);
            while (!ready)
                usleep(1000);
            pthread_create(&a, NULL, asker, NULL);
            usleep(20000);
            unsigned long s0 = spins;
            long h0 = handled;
            double t0 = now();
            usleep((useconds_t)(seconds * 1e6));
            double dt = now() - t0;
            work[m][r] = (double)(spins - s0) / dt;
            sigs[m][r] = (double)(handled - h0) / dt;
            stop = 1;
            pthread_join(s, NULL);
            pthread_join(a, NULL);
        }
    for (int m = 0; m < MODES; m++) {
        qsort(work[m], (size_t)rounds, sizeof(double), by_value);
        qsort(sigs[m], (size_t)rounds, sizeof(double), by_value);
    }
    double base = work[NONE][rounds / 2];
    printf("{\"rate\": %.0f, \"rounds\": %d", rate, rounds);
    for (int m = TGKILL; m < MODES; m++) {
        if (m == OWN_TIMER && !timer_ok)
            continue;
        double slow = base / work[m][rounds / 2], per_s = sigs[m][rounds / 2];
        printf(", \"%s\": {\"signals_per_s\": %.0f, \"slowdown\": %.4f, \"us_per_signal\": %.1f}", names[m], per_s,
               slow, per_s > 0 ? (slow - 1) / per_s * 1e6 : 0.0);
    }
    printf("}\n");
    return 0;
}

/* pm_remote_stop.c — see pm_remote_stop.h. */
#include "pm_remote_stop.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

static int known(const pm_rstop *st, pid_t tid)
{
    for (size_t i = 0; i < st->n; i++)
        if (st->t[i].tid == tid)
            return 1;
    return 0;
}

/* Seizes one thread (PTRACE_SEIZE: no stop, no signal; it runs on until
 * interrupted) unless it is seized already. */
static void seize(pm_rstop *st, pid_t tid)
{
    if (tid <= 0 || known(st, tid))
        return;
    if (st->n == st->cap) {
        size_t cap = st->cap ? st->cap * 2 : 16;
        void *n = realloc(st->t, cap * sizeof *st->t);
        if (!n)
            return;
        st->t = n;
        st->cap = cap;
    }
    if (ptrace(PTRACE_SEIZE, tid, NULL, NULL) == 0)
        st->t[st->n++] = (pm_rthread_stop){tid, 0, 0};
    else if (errno == EPERM && !st->denied)
        st->denied = 1;
}

/* Seizes threads started since the last tick. */
static void seize_new(pm_rstop *st)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", (int)st->pid);
    DIR *d = opendir(path);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)))
        seize(st, (pid_t)atoi(e->d_name));
    closedir(d);
}

static void forget(pm_rstop *st, size_t i)
{
    st->t[i] = st->t[--st->n];
}

/* Interrupts every seized thread and waits until each has stopped. */
static size_t stop_seized(pm_rstop *st)
{
    for (size_t i = 0; i < st->n; i++)
        ptrace(PTRACE_INTERRUPT, st->t[i].tid, NULL, NULL);
    size_t stopped = 0;
    for (size_t i = 0; i < st->n;) {
        int status;
        pid_t r = waitpid(st->t[i].tid, &status, __WALL);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 || WIFEXITED(status) || WIFSIGNALED(status)) {
            forget(st, i); /* the thread ended */
            continue;
        }
        st->t[i].stopped = 1;
        /* A signal on its way to the thread stopped it first: it is handed
         * on when the thread resumes (PTRACE_CONT with it). */
        st->t[i].signal = (status >> 16) == PTRACE_EVENT_STOP ? 0 : WSTOPSIG(status);
        stopped++;
        i++;
    }
    return stopped;
}

size_t pm_rstop_all(pm_rstop *st)
{
    seize_new(st);
    return stop_seized(st);
}

size_t pm_rstop_threads(pm_rstop *st, const pid_t *tids, size_t n)
{
    for (size_t i = 0; i < n; i++)
        seize(st, tids[i]);
    return stop_seized(st);
}

void pm_rstop_resume(pm_rstop *st)
{
    for (size_t i = 0; i < st->n; i++)
        if (st->t[i].stopped) {
            ptrace(PTRACE_CONT, st->t[i].tid, NULL, (void *)(long)st->t[i].signal);
            st->t[i].stopped = 0;
            st->t[i].signal = 0;
        }
}

void pm_rstop_release(pm_rstop *st)
{
    /* PTRACE_DETACH works on a thread in a ptrace-stop, and resumes it. */
    for (size_t i = 0; i < st->n; i++)
        ptrace(PTRACE_DETACH, st->t[i].tid, NULL, (void *)(long)(st->t[i].stopped ? st->t[i].signal : 0));
    free(st->t);
    int denied = st->denied;
    memset(st, 0, sizeof *st);
    st->denied = denied;
}

void pm_rstop_end(pm_rstop *st)
{
    pm_rstop_resume(st);
    for (size_t i = 0; i < st->n; i++)
        ptrace(PTRACE_DETACH, st->t[i].tid, NULL, NULL);
    free(st->t);
    memset(st, 0, sizeof *st);
}

/* pm_remote_watch.h — this process's Python stacks written to a file
 * descriptor without the GIL, by the remote reader pointed at our own pid:
 * on a signal (`run --dump-on SIG`), when the program is still running
 * after some seconds (`run --hang S`), on a fatal signal (the stacks, then
 * the signal kills the process as it would have), or when asked
 * (`pyrometer.dump_stacks()`).  A native thread does the writing, so a
 * program stuck in C code holding the GIL is dumped too.  No Python.h. */
#ifndef PM_REMOTE_WATCH_H
#define PM_REMOTE_WATCH_H

#include <stddef.h>

/* Opens our own process for reading (once). tid_offset: pm_tid_offset_find's. */
int pm_watch_open_self(long tid_offset, char *err, size_t errlen);

/* Starts the watch: hang_s > 0 dumps once after that many seconds;
 * dump_signo > 0 dumps on that signal (a C handler: the program's
 * signal.getsignal() still says SIG_DFL); fatal: SIGSEGV, SIGBUS, SIGFPE,
 * SIGILL and SIGABRT dump first.  0, or -1 with a line in err. */
int pm_watch_start(long tid_offset, double hang_s, int dump_signo, int fatal, char *err, size_t errlen);

/* Frames of this file at the root of a stack are the launcher's (pyrometer
 * run's own): dumps leave them out.  Up to 8 files. */
void pm_watch_cut(const char *file);

/* Writes every thread's stack to fd now, with `why` in the heading line
 * (the calling thread's read without time limits: it stands still in
 * this call however deep its stack). */
int pm_watch_dump(int fd, const char *why);

#endif

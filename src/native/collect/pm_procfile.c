/* pm_procfile.c — see pm_procfile.h. */
#include "pm_procfile.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int pm_procfile_read(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, cap - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = 0;
    return (int)n;
}

int pm_proc_syscall(uint64_t tid, uint64_t f[9], int *n)
{
    char path[64], buf[256];
    snprintf(path, sizeof path, "/proc/self/task/%llu/syscall", (unsigned long long)tid);
    *n = 0;
    if (pm_procfile_read(path, buf, sizeof buf) < 0)
        return -1;
    if (!strncmp(buf, "running", 7))
        return 1;
    char *p = buf;
    for (; *n < 9 && *p; (*n)++) {
        char *end;
        f[*n] = strtoull(p, &end, 0);
        if (end == p)
            break;
        p = end;
    }
    return 0;
}

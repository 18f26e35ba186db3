/* pm_procfile.c — see pm_procfile.h. */
#include "pm_procfile.h"

#include <fcntl.h>
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

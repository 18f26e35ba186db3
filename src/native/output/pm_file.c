/* pm_file.c — atomic file replacement.
 *
 * The bytes go to a new file beside the target, which is then renamed over
 * it: rename() within one directory is atomic, so a reader (or a crash)
 * sees the old file or the new one, never half of one.  The temporary is
 * opened with O_CREAT|O_EXCL and mode 0666 so the result gets the usual
 * umask-derived permissions (mkstemp would force 0600).  No fsync: the goal
 * is "never half a file", not durability across power loss. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "pm_output.h"

static void pm_file_error(char *err, size_t errlen, const char *path, int e)
{
    if (!err || errlen == 0)
        return;
    char msg[128];
    /* GNU strerror_r (we build with _GNU_SOURCE) returns the text. */
    const char *s = strerror_r(e, msg, sizeof msg);
    snprintf(err, errlen, "cannot write %s: %s", path, s);
}

static int pm_file_write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        size_t chunk = len < ((size_t)1 << 30) ? len : ((size_t)1 << 30);
        ssize_t n = write(fd, p, chunk);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Opens a fresh temporary beside path; fills tmp.  -1 with errno set. */
static int pm_file_open_temp(const char *path, char *tmp, size_t tmplen)
{
    const char *slash = strrchr(path, '/');
    size_t dirlen = slash ? (size_t)(slash - path) + 1 : 0;
    const char *base = path + dirlen;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    /* pid + clock + attempt make collisions unlikely; O_EXCL makes them
     * harmless (another name is tried). */
    for (unsigned attempt = 0; attempt < 100; attempt++) {
        int n = snprintf(tmp, tmplen, "%.*s.%s.%ld.%lx%x.tmp", (int)dirlen, path, base, (long)getpid(),
                         (unsigned long)ts.tv_nsec, attempt);
        if (n < 0 || (size_t)n >= tmplen) {
            errno = ENAMETOOLONG;
            return -1;
        }
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    errno = EEXIST;
    return -1;
}

int pm_file_write_atomic(const char *path, const void *data, size_t len, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    if (!path || !*path) {
        if (err && errlen)
            snprintf(err, errlen, "cannot write file: empty path");
        return -1;
    }
    if (!data && len > 0) {
        pm_file_error(err, errlen, path, EINVAL);
        return -1;
    }
    size_t tmplen = strlen(path) + 64;
    char *tmp = malloc(tmplen);
    if (!tmp) {
        pm_file_error(err, errlen, path, ENOMEM);
        return -1;
    }
    int fd = pm_file_open_temp(path, tmp, tmplen);
    if (fd < 0) {
        pm_file_error(err, errlen, path, errno);
        free(tmp);
        return -1;
    }
    int e = 0;
    if (pm_file_write_all(fd, data, len) != 0)
        e = errno;
    /* close() can report a deferred write error (NFS, quota). */
    if (close(fd) != 0 && e == 0)
        e = errno;
    if (e == 0 && rename(tmp, path) != 0)
        e = errno;
    if (e != 0) {
        unlink(tmp);
        pm_file_error(err, errlen, path, e);
        free(tmp);
        return -1;
    }
    free(tmp);
    return 0;
}

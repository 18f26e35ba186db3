/* pm_file.c — atomic file replacement.
 *
 * The bytes go to a new file beside the target, which is then renamed over
 * it: rename() within one directory is atomic, so a reader (or a crash)
 * sees the old file or the new one, never half of one.  The temporary is
 * opened with O_CREAT|O_EXCL and mode 0666 so the result gets the usual
 * umask-derived permissions (mkstemp would force 0600).  No fsync: the goal
 * is "never half a file", not durability across power loss.
 *
 * What PATH is decides how (-o must never destroy what it names):
 *  - a symlink is followed (every level), and its target is what is written;
 *    the link stays a link;
 *  - a regular file (or nothing yet) is replaced atomically, as above;
 *  - a FIFO or a character device (/dev/stdout, a terminal, /dev/null) and
 *    "-" (standard output) get the bytes streamed into them: replacing one
 *    with a regular file would break the pipe it is, or (as root) replace a
 *    device node such as /dev/full;
 *  - anything else (a directory, a socket, a block device) is an error that
 *    names it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
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

/* path with every symlink level followed, for a path that does not exist
 * (a dangling link names the file to create; realpath() fails on it). A new string; NULL with
 * errno set (ELOOP past 40 levels, as the kernel). */
static char *pm_file_follow(const char *path)
{
    char *cur = strdup(path);
    for (int depth = 0; cur; depth++) {
        struct stat st;
        if (lstat(cur, &st) != 0 || !S_ISLNK(st.st_mode))
            return cur; /* not a link (or not there): this is the file */
        if (depth >= 40) {
            free(cur);
            errno = ELOOP;
            return NULL;
        }
        char target[PATH_MAX];
        ssize_t n = readlink(cur, target, sizeof target - 1);
        if (n < 0) {
            int e = errno;
            free(cur);
            errno = e;
            return NULL;
        }
        target[n] = '\0';
        char *next;
        const char *slash = strrchr(cur, '/');
        if (target[0] == '/' || !slash) {
            next = strdup(target);
        } else { /* relative to the link's directory */
            size_t dirlen = (size_t)(slash - cur) + 1;
            next = malloc(dirlen + (size_t)n + 1);
            if (next) {
                memcpy(next, cur, dirlen);
                memcpy(next + dirlen, target, (size_t)n + 1);
            }
        }
        free(cur);
        cur = next;
    }
    errno = ENOMEM;
    return NULL;
}

/* Streams the bytes into an existing FIFO or character device (fd -1: open
 * path), or standard output. */
static int pm_file_stream(const char *path, int fd, const void *data, size_t len, char *err, size_t errlen)
{
    int own = fd < 0;
    if (own)
        fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        pm_file_error(err, errlen, path, errno);
        return -1;
    }
    int e = 0;
    if (pm_file_write_all(fd, data, len) != 0)
        e = errno;
    if (own && close(fd) != 0 && e == 0)
        e = errno;
    if (e != 0) {
        pm_file_error(err, errlen, path, e);
        return -1;
    }
    return 0;
}

static int pm_file_replace(const char *path, const void *data, size_t len, char *err, size_t errlen);

/* /dev/stdout, /dev/stderr, /dev/fd/N, /proc/self/fd/N: N (if open), else -1. */
static int pm_file_named_fd(const char *path)
{
    const char *num = NULL;
    int fd = -1;
    if (strcmp(path, "/dev/stdout") == 0)
        fd = 1;
    else if (strcmp(path, "/dev/stderr") == 0)
        fd = 2;
    else if (strncmp(path, "/dev/fd/", 8) == 0)
        num = path + 8;
    else if (strncmp(path, "/proc/self/fd/", 14) == 0)
        num = path + 14;
    if (num) {
        char *end;
        long v = strtol(num, &end, 10);
        if (*num && !*end && v >= 0 && v < INT_MAX)
            fd = (int)v;
    }
    if (fd >= 0 && fcntl(fd, F_GETFD) < 0)
        return -1;
    return fd;
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
    if (strcmp(path, "-") == 0)
        return pm_file_stream("standard output", 1, data, len, err, errlen);
    /* The process's own descriptors by name: written through the descriptor
     * (its offset, its O_APPEND), as a shell does, so that `> out.txt` keeps
     * what the program printed before; reopening the name would start at
     * offset 0, and replacing the file would drop it. */
    int fdno = pm_file_named_fd(path);
    if (fdno >= 0)
        return pm_file_stream(path, fdno, data, len, err, errlen);
    /* stat first: it follows the kernel's own links too (/dev/stdout ->
     * /proc/self/fd/1 -> "pipe:[N]", which is no path to read as text). */
    struct stat st;
    int exists = stat(path, &st) == 0;
    if (exists && (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)))
        return pm_file_stream(path, -1, data, len, err, errlen);
    /* A regular file (or a name to create): the rename must replace the
     * link's target, not the link. */
    char *real = exists ? realpath(path, NULL) : pm_file_follow(path);
    if (!real) {
        pm_file_error(err, errlen, path, errno);
        return -1;
    }
    int rc;
    if (!exists || S_ISREG(st.st_mode)) {
        rc = pm_file_replace(real, data, len, err, errlen);
    } else {
        if (err && errlen)
            snprintf(err, errlen, "cannot write %s: it is %s", path,
                     S_ISDIR(st.st_mode)    ? "a directory"
                     : S_ISSOCK(st.st_mode) ? "a socket"
                     : S_ISBLK(st.st_mode)  ? "a block device"
                                            : "not a regular file, FIFO or character device");
        rc = -1;
    }
    if (rc != 0 && err && errlen && strcmp(real, path) != 0) {
        /* the message names the target; say which link led there */
        char *copy = strdup(err);
        if (copy) {
            snprintf(err, errlen, "%s (via %s)", copy, path);
            free(copy);
        }
    }
    free(real);
    return rc;
}

/* The regular-file case: a temporary beside path renamed over it. */
static int pm_file_replace(const char *path, const void *data, size_t len, char *err, size_t errlen)
{
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

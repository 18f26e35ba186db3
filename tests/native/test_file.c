/* test_file.c — atomic file writes. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_util.h"

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = malloc(1 << 16);
    *len = fread(buf, 1, 1 << 16, f);
    fclose(f);
    return buf;
}

static void test_atomic_write(pm_t *t)
{
    char dir[] = "/tmp/pm-test-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[256];
    snprintf(path, sizeof path, "%s/out.pyro", dir);
    char err[256] = "";
    CHECK(pm_file_write_atomic(path, "hello", 5, err, sizeof err) == 0);
    CHECK(err[0] == '\0');
    size_t len;
    char *got = slurp(path, &len);
    CHECK(got && len == 5 && memcmp(got, "hello", 5) == 0);
    free(got);
    /* Replacing, and an empty file. */
    CHECK(pm_file_write_atomic(path, "bye", 3, err, sizeof err) == 0);
    got = slurp(path, &len);
    CHECK(got && len == 3 && memcmp(got, "bye", 3) == 0);
    free(got);
    CHECK(pm_file_write_atomic(path, NULL, 0, err, sizeof err) == 0);
    got = slurp(path, &len);
    CHECK(got && len == 0);
    free(got);
    /* Usual permissions, not mkstemp's 0600. */
    struct stat sb;
    mode_t um = umask(022);
    umask(um);
    CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == (0666 & ~um));
    CHECK(count_entries(dir) == 1); /* no temporary left behind */

    /* Renaming over a directory fails; the temporary is removed. */
    char sub[256], inner[300];
    snprintf(sub, sizeof sub, "%s/adir", dir);
    mkdir(sub, 0777);
    snprintf(inner, sizeof inner, "%s/keep", sub);
    fclose(fopen(inner, "w"));
    CHECK(pm_file_write_atomic(sub, "x", 1, err, sizeof err) == -1);
    CHECKF(strncmp(err, "cannot write ", 13) == 0 && tu_contains(err, sub), "%s", err);
    CHECK(count_entries(dir) == 2);
    unlink(inner);
    rmdir(sub);
    unlink(path);
    rmdir(dir);
}

static void test_unwritable(pm_t *t)
{
    char err[256];
    CHECK(pm_file_write_atomic("/nonexistent-pm-dir/x.pyro", "x", 1, err, sizeof err) == -1);
    CHECKF(strcmp(err, "cannot write /nonexistent-pm-dir/x.pyro: No such file or directory") == 0, "%s", err);
    CHECK(pm_file_write_atomic("/etc/hostname/x.pyro", "x", 1, err, sizeof err) == -1);
    CHECKF(tu_contains(err, "Not a directory"), "%s", err);
    CHECK(pm_file_write_atomic("", "x", 1, err, sizeof err) == -1 && err[0]);
    CHECK(pm_file_write_atomic("/nonexistent-pm-dir/x", "x", 1, NULL, 0) == -1);

    /* A read-only directory (root ignores permission bits: then the write
     * succeeds, and only the cleanup is checked). */
    char dir[] = "/tmp/pm-test-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    chmod(dir, 0555);
    char path[256];
    snprintf(path, sizeof path, "%s/out.pyro", dir);
    int rc = pm_file_write_atomic(path, "x", 1, err, sizeof err);
    if (geteuid() != 0) {
        CHECK(rc == -1);
        char want[300];
        snprintf(want, sizeof want, "cannot write %s: Permission denied", path);
        CHECKF(strcmp(err, want) == 0, "%s", err);
        CHECK(count_entries(dir) == 0);
    } else {
        CHECK(rc == 0);
        unlink(path);
    }
    chmod(dir, 0755);
    rmdir(dir);
}

static void test_write_pyro_file(pm_t *t)
{
    /* The full path: write a profile to disk, read it back. */
    pm_profile *p = tu_sample_profile();
    pm_buf b;
    pm_buf_init(&b);
    CHECK(pm_write_pyro(p, &b) == 0);
    char dir[] = "/tmp/pm-test-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[256];
    snprintf(path, sizeof path, "%s/p.pyro", dir);
    char err[256];
    CHECK(pm_file_write_atomic(path, b.data, b.len, err, sizeof err) == 0);
    size_t len;
    char *got = slurp(path, &len);
    CHECK(got && len == b.len);
    pm_profile *q = got ? pm_read_pyro(got, len, err, sizeof err) : NULL;
    CHECKF(q != NULL, "%s", err);
    if (q)
        tu_check_same(t, p, q);
    pm_profile_free(q);
    free(got);
    unlink(path);
    rmdir(dir);
    pm_buf_free(&b);
    pm_profile_free(p);
}

const pm_test pm_tests_file[] = {
    {"file/atomic_write", test_atomic_write},
    {"file/unwritable", test_unwritable},
    {"file/write_pyro_file", test_write_pyro_file},
    {NULL, NULL},
};

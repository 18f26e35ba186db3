/* pm_formats.h — the table of file formats: one place that knows every
 * writer and reader, so the bindings, the CLI and `convert` need no change
 * when a format is added. */
#ifndef PM_FORMATS_H
#define PM_FORMATS_H

#include "pm_output.h"

/* Options every writer may read; each ignores what it does not need. */
typedef struct {
    int metric;    /* metric index chosen by the caller (-1: the writer's default) */
    int per_line;  /* collapsed: split stacks by executing line */
    /* html: the viewer template (HTML with CSS and JS inlined) holding the
     * marker the profile's JSON replaces; NULL makes the html writer fail. */
    const char *template;
    size_t template_len;
} pm_format_opts;

typedef struct {
    const char *name;        /* "pyro", "collapsed", ... */
    const char *extensions;  /* space-separated, with the dot: ".pyro" */
    const char *description;
    /* 0 or -1 (out of memory / nothing writable); appends to out. */
    int (*write)(const pm_profile *p, const pm_format_opts *o, pm_buf *out);
    /* NULL when the format cannot be read back.  Returns a new profile or
     * NULL with a one-line reason in err. */
    pm_profile *(*read)(const void *data, size_t len, char *err, size_t errlen);
    /* Whether data looks like this format (for readers; NULL if none). */
    int (*sniff)(const void *data, size_t len);
} pm_format;

const pm_format *pm_format_find(const char *name);
/* The format a file name's extension names, or NULL. */
const pm_format *pm_format_for_path(const char *path);
/* Every format, NULL-terminated. */
const pm_format *const *pm_formats(void);
/* Reads any readable format, recognised by content.  NULL with a reason. */
pm_profile *pm_read_any(const void *data, size_t len, char *err, size_t errlen);

#endif

/* pm_walker.c — see pm_walker.h.
 *
 * Cost model: one process_vm_readv is ~1.5 us, each extra region ~0.3 us, a
 * 16 KiB copy ~2.4 us.  So a tick reads every thread state in one batched
 * call (speculating that the list is the one seen last tick), 3.11+ copies
 * each thread's live data stack chunk whole, and frames that live elsewhere
 * (3.9/3.10 frame objects, generator frames) are fetched in one batch per
 * run of frames the previous walk of that thread predicted.
 */
#include "pm_walker.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SPEC_MAX 512                   /* frames fetched per speculative batch */
#define SPEC_TABLE 1024                /* held()'s table of the batch's frames (> 2 * SPEC_MAX) */
#define FRAME_MAX 256                  /* bytes of a frame we ever read */
#define COPY_MAX (4u << 20)            /* data stack bytes copied per walk */
#define PAGES_MAX (1u << 20)           /* another process's pages kept per walk (read_frames) */
#define PAGE_RUNS 256                  /* runs of them */
#define PAGE_SLOTS 1024                /* their table by address (> 2 * PAGES_MAX / 4096) */
#define MAX_COPY_NS 50000              /* a first batch slower than this (preempted) is retried */
#define MAX_WALK_NS 200000             /* likewise a walk that needed later reads */
#define SEEN_SLOTS 8192                /* > 2 * PM_MAX_DEPTH */

/* The fields of a frame that say where it is: its caller, its code, its
 * instruction, and (3.9/3.10) whether it runs. */
typedef struct frame_key {
    uint64_t back, code, lasti;
    int64_t state;
    int used; /* the frame is in the walk's output (not a shim, not skipped) */
} frame_key;

static uint64_t mono_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static uint64_t rd64(const uint8_t *b, size_t off)
{
    uint64_t v;
    memcpy(&v, b + off, 8);
    return v;
}

int pm_walker_init(pm_walker *w, const pm_layout *L, pm_space *space)
{
    memset(w, 0, sizeof *w);
    w->L = L;
    w->space = space;
    w->tid_offset = -1;
    w->threads = calloc(PM_MAX_THREADS, sizeof *w->threads);
    w->prev = calloc(PM_MAX_THREADS, sizeof *w->prev);
    w->tsbuf = malloc((size_t)PM_MAX_THREADS * L->ts_read);
    w->regions = malloc((PM_MAX_THREADS + SPEC_MAX + 8) * sizeof *w->regions);
    w->spec = malloc((size_t)SPEC_MAX * FRAME_MAX);
    w->spec2 = malloc((size_t)SPEC_MAX * FRAME_MAX);
    w->spec_addr = malloc(SPEC_MAX * sizeof *w->spec_addr);
    w->spec_ok = malloc(SPEC_MAX);
    w->keys_cap = PM_MAX_DEPTH + 64;
    w->keys = malloc(w->keys_cap * sizeof *w->keys);
    w->again = malloc(w->keys_cap * sizeof *w->again);
    w->seen = calloc(SEEN_SLOTS, sizeof *w->seen);
    w->seen_gen = calloc(SEEN_SLOTS, sizeof *w->seen_gen);
    if (!w->threads || !w->prev || !w->tsbuf || !w->regions || !w->spec || !w->spec2 || !w->spec_addr || !w->spec_ok ||
        !w->seen || !w->seen_gen || !w->keys || !w->again || L->fr_read > FRAME_MAX) {
        pm_walker_free(w);
        return -1;
    }
    return 0;
}

void pm_walker_free(pm_walker *w)
{
    free(w->threads);
    free(w->prev);
    free(w->tsbuf);
    free(w->regions);
    free(w->copy);
    free(w->copy2);
    free(w->spec);
    free(w->spec2);
    free(w->spec_addr);
    free(w->spec_ok);
    free(w->seen);
    free(w->seen_gen);
    free(w->keys);
    free((void *)w->again);
    free(w->verify);
    free(w->pages.buf);
    free(w->pages.runs);
    free(w->page_slots);
    memset(w, 0, sizeof *w);
}

void pm_memo_free(pm_walk_memo *m)
{
    free(m->addrs);
    memset(m, 0, sizeof *m);
}

long pm_tid_offset_find(uint64_t self, int tid)
{
    /* glibc keeps `tid` near the start of struct pthread (0x2d0 on x86-64
     * glibc 2.3x); scan the first 4 KiB, aligned, for our own tid. */
    const uint8_t *p = (const uint8_t *)(uintptr_t)self;
    for (long off = 0; off < 4096; off += 4) {
        int v;
        memcpy(&v, p + off, sizeof v);
        if (v == tid)
            return off;
    }
    return -1;
}

/* ---- thread list ------------------------------------------------------- */

static void parse_tstate(const pm_layout *L, uint64_t addr, const uint8_t *b, pm_tinfo *t)
{
    memset(t, 0, sizeof *t);
    t->tstate = addr;
    t->ident = rd64(b, L->ts_thread_id);
    if (L->ts_native_thread_id != PM_NO_OFFSET)
        t->native_id = rd64(b, L->ts_native_thread_id);
    if (L->frames_kind == PM_FRAMES_INTERP) {
        t->chunk = rd64(b, L->ts_datastack_chunk);
        t->stack_top = rd64(b, L->ts_datastack_top);
        if (L->cframe_current_frame != PM_NO_OFFSET)
            t->cframe = rd64(b, L->ts_frame);
        else
            t->frame = rd64(b, L->ts_frame);
        /* 3.15+: at its base (sentinel) frame the thread runs no Python
         * code (not yet started, or between calls): as with no frame. */
        if (L->ts_base_frame != PM_NO_OFFSET && t->frame == rd64(b, L->ts_base_frame))
            t->frame = 0;
    } else {
        t->frame = rd64(b, L->ts_frame);
    }
}

long pm_walker_threads(pm_walker *w)
{
    const pm_layout *L = w->L;
    /* Swap: what we read last tick becomes the prediction. */
    pm_tinfo *tmp = w->prev;
    w->prev = w->threads;
    w->nprev = w->nthreads;
    w->threads = tmp;
    w->nthreads = 0;

    uint64_t head = 0, holder = 0;
    int locked = 0, collecting = 0;
    size_t nr = 0;
    pm_region *r = w->regions;
    r[nr++] = (pm_region){L->interp_addr + L->interp_tstate_head, &head, 8, 0};
    r[nr++] = (pm_region){L->gil_addr + L->gil_locked, &locked, L->gil_locked_size, 0};
    r[nr++] = (pm_region){L->gil_addr + L->gil_last_holder, &holder, 8, 0};
    r[nr++] = (pm_region){L->gc_collecting_addr, &collecting, sizeof collecting, 0};
    size_t first_ts = nr;
    for (size_t i = 0; i < w->nprev; i++)
        r[nr++] = (pm_region){w->prev[i].tstate, w->tsbuf + i * L->ts_read, L->ts_read, 0};
    pm_space_readv(w->space, r, nr);
    if (!r[0].ok)
        return -1;
    w->gil_locked = r[1].ok && r[2].ok && locked;
    w->gil_holder = r[2].ok ? holder : 0;
    w->gc_collecting = r[3].ok && collecting;

    uint8_t one[1024];
    uint64_t cur = head;
    while (cur && w->nthreads < PM_MAX_THREADS) {
        const uint8_t *buf = NULL;
        for (size_t i = 0; i < w->nprev; i++) {
            if (w->prev[i].tstate == cur) {
                if (r[first_ts + i].ok)
                    buf = w->tsbuf + i * L->ts_read;
                break;
            }
        }
        if (!buf) {
            if (L->ts_read > sizeof one || pm_space_read(w->space, cur, one, L->ts_read) != 0) {
                w->torn_list++;
                break;
            }
            buf = one;
        }
        /* A list that loops back on itself is being rewritten: stop. */
        int dup = 0;
        for (size_t i = 0; i < w->nthreads; i++)
            dup |= w->threads[i].tstate == cur;
        if (dup) {
            w->torn_list++;
            break;
        }
        /* A thread state freed while we walked the list is garbage: it no
         * longer points at our interpreter.  The rest of the list is not
         * to be trusted either. */
        if (rd64(buf, L->ts_interp) != L->interp_addr) {
            w->torn_list++;
            break;
        }
        pm_tinfo *t = &w->threads[w->nthreads++];
        parse_tstate(L, cur, buf, t);
        cur = rd64(buf, L->ts_next);
    }

    /* Second batch: values one pointer away (3.11/3.12 current frame behind
     * the cframe; 3.9/3.10 the tid inside glibc's thread descriptor). */
    nr = 0;
    uint64_t deref[PM_MAX_THREADS];
    for (size_t i = 0; i < w->nthreads; i++) {
        pm_tinfo *t = &w->threads[i];
        deref[i] = 0;
        if (L->cframe_current_frame != PM_NO_OFFSET && t->cframe)
            r[nr++] = (pm_region){t->cframe + L->cframe_current_frame, &deref[i], 8, 0};
        if (L->ts_native_thread_id == PM_NO_OFFSET) {
            for (size_t j = 0; j < w->nprev; j++)
                if (w->prev[j].tstate == t->tstate && w->prev[j].ident == t->ident)
                    t->native_id = w->prev[j].native_id;
            if (!t->native_id && w->tid_offset >= 0 && t->ident)
                r[nr++] = (pm_region){t->ident + (uint64_t)w->tid_offset, &deref[i], 4, 0};
        }
    }
    if (nr) {
        pm_space_readv(w->space, r, nr);
        size_t k = 0;
        for (size_t i = 0; i < w->nthreads; i++) {
            pm_tinfo *t = &w->threads[i];
            if (L->cframe_current_frame != PM_NO_OFFSET && t->cframe)
                t->frame = r[k++].ok ? deref[i] : 0;
            else if (L->ts_native_thread_id == PM_NO_OFFSET && !t->native_id && w->tid_offset >= 0 && t->ident) {
                uint32_t tid = (uint32_t)deref[i];
                t->native_id = r[k++].ok && tid > 0 && tid < (1u << 30) ? tid : 0;
            }
        }
    }
    return (long)w->nthreads;
}

/* Reads one thread's state again through the walker's space (a snapshot,
 * when the thread copied its own stack): its current frame and data stack
 * as they were then.  The ids it had stay. */
int pm_walker_reread(pm_walker *w, pm_tinfo *t)
{
    const pm_layout *L = w->L;
    uint8_t buf[1024];
    if (L->ts_read > sizeof buf || pm_space_read(w->space, t->tstate, buf, L->ts_read) != 0)
        return -1;
    pm_tinfo fresh;
    parse_tstate(L, t->tstate, buf, &fresh);
    if (fresh.ident != t->ident)
        return -1;
    if (L->cframe_current_frame != PM_NO_OFFSET && fresh.cframe &&
        pm_space_read(w->space, fresh.cframe + L->cframe_current_frame, &fresh.frame, 8) != 0)
        return -1;
    fresh.native_id = t->native_id;
    *t = fresh;
    return 0;
}

/* ---- frames -------------------------------------------------------------- */

static int seen_before(pm_walker *w, uint64_t addr)
{
    size_t i = (size_t)((addr >> 3) * 0x9E3779B97F4A7C15ULL >> 51) & (SEEN_SLOTS - 1);
    for (;; i = (i + 1) & (SEEN_SLOTS - 1)) {
        if (w->seen_gen[i] != w->gen) {
            w->seen_gen[i] = w->gen;
            w->seen[i] = addr;
            return 0;
        }
        if (w->seen[i] == addr)
            return 1;
    }
}

static int reserve_copy(pm_walker *w, size_t need);

struct page_slot {
    uint64_t page;
    uint32_t off, gen; /* where the page is in w->pages.buf; the walk that read it */
};

/* The page's slot: where it is, or where it goes. */
static struct page_slot *page_slot(const pm_walker *w, uint64_t page)
{
    size_t h = (size_t)((page >> 12) * 0x9E3779B97F4A7C15ULL >> 54) & (PAGE_SLOTS - 1);
    while (w->page_slots[h].gen == w->gen && w->page_slots[h].page != page)
        h = (h + 1) & (PAGE_SLOTS - 1);
    return &w->page_slots[h];
}

/* The scratch of read_frames, made on the first such read: the sampler
 * reading its own process copies directly and never needs it. */
static int make_pages(pm_walker *w)
{
    pm_space_pages *pg = &w->pages;
    pg->buf = malloc(PAGES_MAX);
    pg->runs = malloc(PAGE_RUNS * sizeof *pg->runs);
    w->page_slots = calloc(PAGE_SLOTS, sizeof *w->page_slots);
    if (!pg->buf || !pg->runs || !w->page_slots) {
        free(pg->buf);
        free(pg->runs);
        free(w->page_slots);
        memset(pg, 0, sizeof *pg);
        w->page_slots = NULL;
        return -1;
    }
    pg->cap = PAGES_MAX;
    pg->runs_cap = PAGE_RUNS;
    return 0;
}

/* A batch of frames (and the pointers that bracket it) from another
 * process: read as the pages they lie on (a region costs the kernel far
 * more than its bytes do: 400 frames took 136 us as 400 regions, 19 us as
 * their 44 pages), and those pages kept for the rest of the walk.  Frame
 * objects (3.9/3.10) are reused from the allocator's pools, so a frame the
 * walk meets at an address the last walk did not is still often on a page
 * it read (from_pages). */
static size_t read_frames(pm_walker *w, pm_region *r, size_t n)
{
    pm_space_pages *pg = &w->pages;
    if (!pg->buf && !w->space->direct && !w->space->snap && make_pages(w) != 0)
        return pm_space_readv(w->space, r, n);
    size_t from = pg->nruns;
    size_t whole = pm_space_readv_paged(w->space, r, n, pg);
    for (size_t i = from; i < pg->nruns; i++)
        for (size_t at = 0; at < pg->runs[i].len; at += 4096) {
            uint64_t page = pg->runs[i].addr + at;
            *page_slot(w, page) = (struct page_slot){page, (uint32_t)(pg->runs[i].off + at), w->gen};
        }
    return whole;
}

/* A frame on pages this walk read already, or NULL. */
static const uint8_t *from_pages(pm_walker *w, uint64_t addr, size_t len)
{
    if (!w->pages.nruns)
        return NULL;
    uint64_t page = addr & ~(uint64_t)4095;
    const struct page_slot *at = page_slot(w, page);
    if (at->gen != w->gen)
        return NULL;
    size_t off = at->off;
    if (addr - page + len > 4096) { /* on the next page too, which must follow it in the copy */
        const struct page_slot *next = page_slot(w, page + 4096);
        if (next->gen != w->gen || next->off != off + 4096)
            return NULL;
    }
    return w->pages.buf + off + (addr - page);
}

static int reserve_verify(pm_walker *w, size_t frames)
{
    if (frames <= w->verify_cap)
        return 0;
    uint8_t *v = realloc(w->verify, frames * FRAME_MAX);
    if (!v)
        return -1;
    w->verify = v;
    w->verify_cap = frames;
    return 0;
}

/* Copies [lo, hi) after the first read (an older chunk): no second copy. */
static int add_span(pm_walker *w, uint64_t lo, uint64_t hi)
{
    size_t n = (size_t)(hi - lo);
    if (w->nspans == sizeof w->spans / sizeof w->spans[0] || w->copy_len + n > COPY_MAX + 4096 ||
        reserve_copy(w, w->copy_len + n) != 0)
        return -1;
    if (pm_space_read(w->space, lo, w->copy + w->copy_len, n) != 0)
        return -1;
    w->spans[w->nspans].lo = lo;
    w->spans[w->nspans].hi = hi;
    w->spans[w->nspans].off = w->copy_len;
    w->nspans++;
    w->copy_len += n;
    return 0;
}

static const uint8_t *in_spans(pm_walker *w, uint64_t addr, size_t len)
{
    /* Newest span first: a walk down a deep stack is in the chunk it
     * copied last. */
    for (size_t i = w->nspans; i-- > 0;)
        if (addr >= w->spans[i].lo && addr <= w->spans[i].hi && len <= w->spans[i].hi - addr)
            return w->copy + w->spans[i].off + (size_t)(addr - w->spans[i].lo);
    return NULL;
}

static int in_memo_chunks(const pm_walk_memo *memo, uint64_t addr)
{
    for (size_t i = 0; i < memo->nchunks; i++)
        if (addr >= memo->chunks[i].lo && addr < memo->chunks[i].hi)
            return 1;
    return 0;
}

/* Where the thread keeps its current frame pointer. */
static uint64_t frame_slot(const pm_layout *L, const pm_tinfo *t)
{
    if (L->cframe_current_frame != PM_NO_OFFSET)
        return t->cframe ? t->cframe + L->cframe_current_frame : 0;
    return t->tstate + L->ts_frame;
}


static int reserve_copy(pm_walker *w, size_t need)
{
    if (need <= w->copy_cap)
        return 0;
    size_t cap = w->copy_cap ? w->copy_cap : 65536;
    while (cap < need)
        cap *= 2;
    uint8_t *c = realloc(w->copy, cap);
    if (!c)
        return -1;
    w->copy = c;
    uint8_t *c2 = realloc(w->copy2, cap);
    if (!c2)
        return -1;
    w->copy2 = c2;
    w->copy_cap = cap;
    return 0;
}

/* The walk's first read, one batch: the thread's current frame pointer,
 * its live data stack chunk (3.11+), every frame outside the chunk that the
 * last walk met (frame objects before 3.11, generator and coroutine frames,
 * C-stack entry frames), and the current frame pointer once more.  The walk
 * starts from that pointer; if it did not change while we copied, the frame
 * was running throughout, so its callers (which cannot move while it runs)
 * are what the copy holds.  *top gets the pointer, *moved whether it changed. */
static int first_copy(pm_walker *w, const pm_tinfo *t, const pm_walk_memo *memo, uint64_t *top, int *moved)
{
    const pm_layout *L = w->L;
    pm_region *r = w->regions;
    uint64_t again = 0, slot = frame_slot(L, t);
    *top = 0;
    uint64_t lo = 0, hi = 0;
    int chunk = L->frames_kind == PM_FRAMES_INTERP && t->chunk && t->stack_top > t->chunk;
    int whole = 0;
    if (chunk) {
        lo = t->chunk;
        hi = t->stack_top;
        whole = hi - lo <= COPY_MAX; /* from the chunk's start: we get its header */
        if (!whole)
            lo = hi - COPY_MAX;
        if (reserve_copy(w, (size_t)(hi - lo) + 4096) != 0)
            return -1;
    }
    if (L->frames_kind == PM_FRAMES_OBJECTS)
        w->spec_addr[w->nspec++] = t->frame;
    for (size_t i = 0; i < memo->n && w->nspec < SPEC_MAX; i++) {
        uint64_t a = memo->addrs[i];
        if ((a >= lo && a < hi + 4096) || (L->frames_kind == PM_FRAMES_OBJECTS && a == t->frame) ||
            in_memo_chunks(memo, a))
            continue;
        w->spec_addr[w->nspec++] = a;
    }
    size_t nr = 0;
    r[nr++] = (pm_region){slot, top, 8, 0};
    if (chunk) {
        r[nr++] = (pm_region){lo, w->copy, (size_t)(hi - lo), 0};
        /* Frames pushed since the thread list was read: the rest of the
         * page only, which is mapped if the byte before it is (a fault
         * would cost a signal and stretch the copy's moment). */
        r[nr++] = (pm_region){hi, w->copy + (hi - lo), (size_t)(((hi + 4095) & ~(uint64_t)4095) - hi), 0};
    }
    size_t first = nr;
    for (size_t i = 0; i < w->nspec; i++)
        r[nr++] = (pm_region){w->spec_addr[i], w->spec + i * FRAME_MAX, L->fr_read, 0};
    /* 3.9/3.10: the pages the last walks' frames were on, into the walk's
     * pages only (no second look: a frame found there is read again by
     * held()). */
    size_t npages = 0;
    if (L->frames_kind == PM_FRAMES_OBJECTS && w->pages.buf)
        for (; npages < memo->npages; npages++)
            r[nr++] = (pm_region){memo->pages[npages], NULL, 4096, 0};
    r[nr++] = (pm_region){slot, &again, 8, 0};
    uint64_t t0 = mono_ns();
    read_frames(w, r, nr);
    /* The second look, at once: the same memory again, for held().  A
     * snapshot (a copy the thread made of itself) cannot change, nor can a
     * stopped thread's memory: held() is not asked about those, and their
     * second look would double a deep stack's reads. */
    size_t n2 = nr - 2 - npages;
    pm_region *r2 = r + nr;
    for (size_t i = 0; i < n2; i++) {
        r2[i] = r[1 + i];
        r2[i].dst = (uint8_t *)(i < first - 1 ? w->copy2 + ((uint8_t *)r[1 + i].dst - w->copy)
                                              : w->spec2 + ((uint8_t *)r[1 + i].dst - w->spec));
    }
    if (!w->space->snap && !w->stopped)
        read_frames(w, r2, n2);
    uint64_t took = mono_ns() - t0;
    w->copies++;
    for (size_t i = 0; i < w->nspec; i++)
        w->spec_ok[i] = (uint8_t)(r[first + i].ok && r2[first - 1 + i].ok);
    w->nspec_batch = w->nspec;
    if (!r[0].ok || !r[nr - 1].ok)
        return -1;
    /* The same pointer at both ends proves little if the copy took long
     * (the sampler was preempted): the thread may have left the frame and
     * come back to one at the same address.  Only a short copy counts. */
    *moved = again != *top || (took > MAX_COPY_NS && !w->patient);
    w->top_after = again;
    if (chunk) {
        if (!r[1].ok || !r2[0].ok)
            return -1;
        w->spans[0].lo = lo;
        w->spans[0].hi = hi + (r[2].ok && r2[1].ok ? r[2].len : 0);
        w->spans[0].off = 0;
        w->nspans = 1;
        w->copy_len = (size_t)(w->spans[0].hi - lo);
        if (whole && L->chunk_data <= (size_t)(hi - lo))
            w->next_chunk = rd64(w->copy, L->chunk_previous);
    }
    return 0;
}

/* Copies the next older data stack chunk (3.11+): its header says how many
 * slots it used when the thread moved on to a newer chunk. */
static int copy_older_chunk(pm_walker *w)
{
    const pm_layout *L = w->L;
    uint64_t chunk = w->next_chunk;
    w->next_chunk = 0;
    uint8_t head[64];
    if (!chunk || L->chunk_data > sizeof head || pm_space_read(w->space, chunk, head, L->chunk_data) != 0)
        return -1;
    uint64_t top = rd64(head, L->chunk_top);
    uint64_t prev = rd64(head, L->chunk_previous);
    if (top == 0 || top > COPY_MAX / 8)
        return -1;
    if (add_span(w, chunk + L->chunk_data, chunk + L->chunk_data + top * 8) != 0)
        return -1;
    w->copies++;
    w->next_chunk = prev;
    return 0;
}

/* Fetches the frames the previous walk found after `addr`, in one call. */
static void speculate(pm_walker *w, const pm_walk_memo *memo, uint64_t addr)
{
    const pm_layout *L = w->L;
    /* The frames after addr in the last walk; addr alone when it is new:
     * the walk's first batch read every frame of the last walk already, and
     * a chain of new frames (a recursion's, allocated afresh) read again
     * and again with all of them would cost a read of the whole memo per
     * frame.  Where the chain joins the old one, the next call reads the
     * rest at once. */
    size_t from = memo->n;
    for (size_t i = 0; i < memo->n; i++)
        if (memo->addrs[i] == addr) {
            from = i + 1;
            break;
        }
    size_t n = 0;
    w->spec_addr[n++] = addr;
    for (size_t i = from; i < memo->n && n < SPEC_MAX; i++)
        if (!in_spans(w, memo->addrs[i], L->fr_read) && !in_memo_chunks(memo, memo->addrs[i]))
            w->spec_addr[n++] = memo->addrs[i];
    for (size_t i = 0; i < n; i++)
        w->regions[i] = (pm_region){w->spec_addr[i], w->spec + i * FRAME_MAX, L->fr_read, 0};
    read_frames(w, w->regions, n);
    w->copies++;
    for (size_t i = 0; i < n; i++)
        w->spec_ok[i] = (uint8_t)w->regions[i].ok;
    w->nspec = n;
    w->nspec_batch = 0; /* no second look at these: held() reads them again */
    w->spec_cursor = 0;
}

static const uint8_t *from_spec(pm_walker *w, uint64_t addr, int *found)
{
    for (size_t i = w->spec_cursor; i < w->nspec; i++) {
        if (w->spec_addr[i] == addr) {
            w->spec_cursor = i + 1;
            *found = 1;
            return w->spec_ok[i] ? w->spec + i * FRAME_MAX : NULL;
        }
    }
    *found = 0;
    return NULL;
}

/* 3.9/3.10, another process: the memory below a frame object, copied in
 * one read.  A call's frame object is allocated after its caller's, and a
 * fresh recursion's come out of the allocator one after the other (448
 * bytes apart, deeper ones higher), so the callers a walk goes down to next
 * are often in it; once frames are reused they are more scattered, and a
 * stopped walk of 300 took 50-70 reads rather than 300 of 1.5 us each.  A
 * window that reaches an unmapped page is not read; the frame's own page
 * then is. */
#define WINDOW (32u << 10)
static const uint8_t *window_below(pm_walker *w, uint64_t addr)
{
    const pm_layout *L = w->L;
    uint64_t page = addr & ~(uint64_t)4095, hi = addr + L->fr_read;
    if (L->frames_kind != PM_FRAMES_OBJECTS || w->space->direct || w->space->snap)
        return NULL;
    if ((page > WINDOW && add_span(w, page - (WINDOW - 4096), hi) == 0) || add_span(w, page, hi) == 0)
        return in_spans(w, addr, L->fr_read);
    return NULL;
}

static const uint8_t *fetch_frame(pm_walker *w, const pm_walk_memo *memo, uint64_t addr)
{
    const pm_layout *L = w->L;
    int found;
    const uint8_t *p = in_spans(w, addr, L->fr_read);
    if (p)
        return p;
    p = from_spec(w, addr, &found);
    if (found)
        return p;
    while (w->next_chunk) {
        if (copy_older_chunk(w) != 0)
            break;
        if ((p = in_spans(w, addr, L->fr_read)))
            return p;
    }
    if ((p = from_pages(w, addr, L->fr_read)))
        return p;
    if ((p = window_below(w, addr)))
        return p;
    speculate(w, memo, addr);
    return from_spec(w, addr, &found);
}

static int memo_push(pm_walk_memo *m, uint64_t addr)
{
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 64;
        uint64_t *a = realloc(m->addrs, cap * sizeof *a);
        if (!a)
            return -1;
        m->addrs = a;
        m->cap = cap;
    }
    m->addrs[m->n++] = addr;
    return 0;
}

static void memo_page(pm_walk_memo *m, uint64_t page, uint8_t age)
{
    if (m->npages == PM_MEMO_PAGES)
        return;
    for (size_t i = 0; i < m->npages; i++)
        if (m->pages[i] == page)
            return;
    m->pages[m->npages] = page;
    m->page_age[m->npages++] = age;
}

/* The pages of next's frames, then those of the walks before it that are
 * at most MEMO_PAGE_AGE walks old, while there is room: a deep recursion
 * read whole at one tick is read in a few runs of pages at the next, not a
 * page per frame that moved. */
#define MEMO_PAGE_AGE 8
static void memo_pages(pm_walk_memo *next, const pm_walk_memo *old, size_t fr_read)
{
    uint64_t last = 0;
    for (size_t i = 0; i < next->n; i++)
        for (uint64_t p = next->addrs[i] & ~(uint64_t)4095; p < next->addrs[i] + fr_read; p += 4096)
            if (p != last)
                memo_page(next, last = p, 0);
    for (size_t i = 0; i < old->npages; i++)
        if (old->page_age[i] < MEMO_PAGE_AGE)
            memo_page(next, old->pages[i], (uint8_t)(old->page_age[i] + 1));
}

/* Reads one frame's fields out of its copy. */
static void parse_frame(const pm_layout *L, const uint8_t *f, uint64_t addr, pm_raw_frame *rf)
{
    rf->addr = addr;
    rf->code = rd64(f, L->fr_code) & L->fr_code_mask; /* 3.14+: drop the _PyStackRef tag bits */
    rf->owner = -1;
    if (L->fr_owner != PM_NO_OFFSET)
        rf->owner = (int)(signed char)f[L->fr_owner];
    rf->entry = L->frames_kind == PM_FRAMES_OBJECTS || (L->fr_entry != PM_NO_OFFSET && f[L->fr_entry] != 0);
    switch (L->lasti_kind) {
    case PM_LASTI_BYTES: {
        int32_t v;
        memcpy(&v, f + L->fr_lasti, 4);
        rf->lasti = v < 0 ? -1 : v / 2;
        break;
    }
    case PM_LASTI_UNITS: {
        int32_t v;
        memcpy(&v, f + L->fr_lasti, 4);
        rf->lasti = v < 0 ? -1 : v;
        break;
    }
    default: {
        /* A pointer into the code units stored inside the code object. */
        uint64_t ip = rd64(f, L->fr_lasti);
        uint64_t base = rf->code + L->co_code_adaptive;
        if (ip >= base)
            rf->lasti = (int64_t)((ip - base) / 2);
        else if (ip + 2 == base)
            rf->lasti = -1; /* 3.11/3.12: a frame that has not started */
        else
            rf->lasti = INT64_MIN; /* impossible: the resolver calls it torn */
        break;
    }
    }
}

void pm_walker_parse_frame(const pm_layout *L, const uint8_t *f, uint64_t addr, pm_raw_frame *rf)
{
    parse_frame(L, f, addr, rf);
}

/* 3.9/3.10: a frame object on a live stack is executing (3.10: or
 * unwinding an exception).  A finished one — a generator that returned, a
 * frame kept for reuse — was read after the thread moved on. */
static int executing(const pm_layout *L, const uint8_t *f)
{
    if (L->fr_state == PM_NO_OFFSET)
        return 1;
    signed char v = (signed char)f[L->fr_state];
    if (L->version_hex < 0x030A0000)
        return v == 1;   /* 3.9 f_executing */
    return v == 0 || v == 2; /* 3.10 FRAME_EXECUTING, FRAME_UNWINDING */
}

static void key_of(const pm_layout *L, const uint8_t *f, frame_key *k)
{
    k->back = rd64(f, L->fr_back);
    k->code = rd64(f, L->fr_code) & L->fr_code_mask; /* as parse_frame: the tag is not the code */
    k->lasti = L->lasti_kind <= PM_LASTI_UNITS ? (uint64_t)(uint32_t)(rd64(f, L->fr_lasti) & 0xffffffffu)
                                               : rd64(f, L->fr_lasti);
    k->state = L->fr_state != PM_NO_OFFSET ? (signed char)f[L->fr_state] : 0;
}

/* A copy is not a moment: memory is copied in order while the thread runs,
 * and frames outside the first batch are read later still.  A walk holds if
 * a second read of every frame it used finds the callers exactly as they
 * were (a caller cannot change while its callee runs, so an unchanged caller
 * was blocked in that call throughout) and the running frame still of the
 * same code, called from the same place.  held() is that second look: how
 * many of the walked frames, counted from the root, are exactly as they
 * were; *top_now the thread's current frame then (0 if unreadable). */
static size_t held(pm_walker *w, const pm_walk_memo *walked, uint64_t slot, uint64_t *top_now)
{
    const pm_layout *L = w->L;
    size_t n = walked->n, late = 0;
    *top_now = 0;
    if (w->space->snap) { /* a snapshot reads the same whenever read */
        *top_now = w->top_after;
        return n;
    }
    if (n > w->keys_cap || n > PM_MAX_THREADS + SPEC_MAX || reserve_verify(w, n) != 0)
        return 0;
    /* Frames of the first batch were looked at twice already; the rest
     * (read later) are read again now. */
    const uint8_t **again = w->again;
    /* The batch's frames by address, so that each walked frame is found in
     * one probe (a deep stack costs a probe a frame, not a search of the
     * batch), and read again below only if the batch lacks it. */
    uint64_t key[SPEC_TABLE];
    uint16_t at[SPEC_TABLE];
    memset(key, 0, sizeof key);
    for (size_t k = 0; k < w->nspec_batch; k++) {
        uint64_t a = w->spec_addr[k];
        size_t h = (size_t)((a >> 3) * 0x9E3779B97F4A7C15ULL >> 54) & (SPEC_TABLE - 1);
        while (key[h] && key[h] != a)
            h = (h + 1) & (SPEC_TABLE - 1);
        if (a && !key[h]) {
            key[h] = a;
            at[h] = (uint16_t)k;
        }
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t a = walked->addrs[i];
        again[i] = NULL;
        if (L->frames_kind == PM_FRAMES_INTERP && w->nspans > 0 && a >= w->spans[0].lo && a <= w->spans[0].hi &&
            L->fr_read <= w->spans[0].hi - a)
            again[i] = w->copy2 + (a - w->spans[0].lo); /* the live chunk, copied twice */
        if (!again[i] && a) {
            size_t h = (size_t)((a >> 3) * 0x9E3779B97F4A7C15ULL >> 54) & (SPEC_TABLE - 1);
            while (key[h] && key[h] != a)
                h = (h + 1) & (SPEC_TABLE - 1);
            if (key[h] == a && w->spec_ok[at[h]])
                again[i] = w->spec2 + (size_t)at[h] * FRAME_MAX;
        }
        if (!again[i])
            w->regions[late++] = (pm_region){a, w->verify + i * FRAME_MAX, L->fr_read, 0};
    }
    /* The running frame must still be the walk's top after every frame was
     * read: a caller read after its callee returned (a coroutine's frame,
     * outside the stack chunk, read late) is unchanged since, so only this
     * tells that the callee is gone and its frame stale. */
    w->regions[late++] = (pm_region){slot, top_now, sizeof *top_now, 0};
    read_frames(w, w->regions, late);
    /* A frame that cannot be read again (its data stack chunk was freed:
     * the thread returned below it) reads as zeros, which match nothing. */
    for (size_t k = 0; k < late; k++)
        if (!w->regions[k].ok)
            memset(w->regions[k].dst, 0, w->regions[k].len);
    size_t m = 0;
    for (size_t i = n; i-- > 0; m++) {
        frame_key now;
        key_of(L, again[i] ? again[i] : w->verify + i * FRAME_MAX, &now);
        const frame_key *was = &w->keys[i];
        if (now.back != was->back || now.code != was->code || now.state != was->state)
            break;
        if (i > 0 && now.lasti != was->lasti)
            break;
    }
    return m;
}

int pm_walker_stack(pm_walker *w, const pm_tinfo *t, pm_walk_memo *memo, pm_raw_frame *out,
                    size_t cap, size_t *depth, int *truncated)
{
    const pm_layout *L = w->L;
    *depth = 0;
    *truncated = 0;
    w->nspans = 0;
    w->copy_len = 0;
    w->nspec = 0;
    w->spec_cursor = 0;
    w->next_chunk = 0;
    w->copies = 0;
    w->nspec_batch = 0;
    w->pages.used = w->pages.nruns = 0;
    if (++w->gen == 0) {
        memset(w->seen_gen, 0, SEEN_SLOTS * sizeof *w->seen_gen);
        if (w->page_slots)
            memset(w->page_slots, 0, PAGE_SLOTS * sizeof *w->page_slots);
        w->gen = 1;
    }
    if (!t->frame)
        return 0;
    uint64_t addr, start = mono_ns();
    int moved;
    if (first_copy(w, t, memo, &addr, &moved) != 0)
        return -1;
    w->walk_top = addr;

    /* Speculation reads the memo; build the new one separately. */
    pm_walk_memo next = {0};
    int rc = 0;
    while (addr) {
        if (*depth == cap) {
            *truncated = 1;
            break;
        }
        if (seen_before(w, addr)) {
            rc = -1; /* a cycle: the chain was rewritten while we copied it */
            break;
        }
        const uint8_t *f = fetch_frame(w, memo, addr);
        if (!f) {
            rc = -1;
            break;
        }
        pm_raw_frame *rf = &out[*depth];
        int used = 0;
        parse_frame(L, f, addr, rf);
        if (L->owner_shim >= 0 && rf->owner >= L->owner_shim && rf->owner <= L->owner_max) {
            /* A C-stack entry/shim frame (3.12+; the layout says which
             * owners those are: 3.14/3.15 renumbered them): not Python
             * code, skip it.  The frame it calls is the first one an
             * eval-loop call runs. */
            if (*depth > 0)
                out[*depth - 1].entry = 1;
        } else if (w->snapshot && next.n == 0 && rf->owner == -1 && !executing(L, f)) {
            /* A moment copied by the thread itself (pm_capture), 3.9/3.10:
             * its top frame is not executing only while it is being entered
             * or left, and the stack is its callers. */
        } else if (rf->owner < -1 || rf->owner > L->owner_max || !executing(L, f)) {
            /* The thread moved: the frame it was in at the first look may
             * have returned already.  Its caller link still leads to the
             * stack (the caller of a returned frame, or of the frame that
             * reused its memory); such a walk is only used for what a
             * second one confirms.  A frame object (3.9/3.10) is marked as
             * executing while it runs, so one that is not, anywhere in the
             * chain, returned while we read its callees: the thread moved,
             * the frames below it are still followed, and the part of them
             * that a second look finds executing and unchanged is the
             * stack. */
            if (L->frames_kind == PM_FRAMES_OBJECTS && rf->owner == -1)
                moved = 1;
            else if (!(moved && *depth == 0 && rf->owner >= -1 && rf->owner <= L->owner_max)) { /* max: layout's */
                rc = -1;
                break;
            }
        } else {
            (*depth)++;
            used = 1;
        }
        if (next.n < w->keys_cap) {
            key_of(L, f, &w->keys[next.n]);
            w->keys[next.n].used = used;
        }
        memo_push(&next, addr);
        addr = rd64(f, L->fr_back);
        /* A generator's frame has no caller only while it is suspended, and
         * a suspended frame is on no stack: it was read after the thread
         * moved on, so this walk mixes two moments. */
        int generator = L->fr_gen != PM_NO_OFFSET ? rd64(f, L->fr_gen) != 0 : rf->owner == L->owner_generator;
        if (!addr && generator) {
            rc = -1;
            break;
        }
    }
    for (size_t i = 0; L->frames_kind == PM_FRAMES_INTERP && i < w->nspans &&
                       next.nchunks < sizeof next.chunks / sizeof next.chunks[0]; i++) {
        next.chunks[next.nchunks].lo = w->spans[i].lo;
        next.chunks[next.nchunks++].hi = w->spans[i].hi;
    }
    if (L->frames_kind == PM_FRAMES_OBJECTS && w->pages.buf)
        memo_pages(&next, memo, L->fr_read);
    pm_memo_free(memo);
    *memo = next;
    w->held = 0;
    if (rc != 0 || (*depth == 0 && !moved))
        return rc;
    /* A stopped thread's read is a moment: no second look, which on a deep
     * stack outside the copied chunk is a read a frame, while it waits. */
    if (w->stopped)
        return 0;
    /* Frames read by a later call than the first copy may belong to a later
     * moment (a callee returned, its C stack or generator frame reused).
     * The walk holds only if the thread is still in the frame, at the
     * instruction, it was in at the start; and the first copy caught a
     * moment only if the thread did not move while it was taken. */
    int slow = mono_ns() - start > MAX_WALK_NS && !w->patient;
    uint64_t top_now;
    size_t h = held(w, memo, frame_slot(L, t), &top_now);
    if (!moved && !slow && h == memo->n && top_now == w->walk_top)
        return 0;
    /* Torn: no moment, but the frames near the root that the second look
     * found unchanged held still (w->held of the output's frames, counted
     * from the root).  A frame that returned keeps its bytes until they are
     * reused, so a second look cannot tell it from a live one.  In the data
     * stack (3.11+) the live frames of the copied chunk are those up to the
     * thread's current frame between the two copies, or all of them when
     * that frame lies just past the copy (the thread went deeper, and a
     * frame it reused would differ in the second copy).  Elsewhere (an
     * older chunk, or one far away), none is known to be live.  A frame
     * object is live while it executes, so the part ends at the first one
     * that did not. */
    uint64_t cur = w->top_after;
    int chunked = L->frames_kind == PM_FRAMES_INTERP && w->nspans > 0;
    int cur_in = chunked && cur >= w->spans[0].lo && cur <= w->spans[0].hi + 65536;
    for (size_t i = memo->n; i-- > memo->n - h && i < w->keys_cap;) {
        uint64_t a = memo->addrs[i];
        if (chunked && a >= w->spans[0].lo && a <= w->spans[0].hi && (!cur_in || a > cur))
            break;
        if (L->frames_kind == PM_FRAMES_OBJECTS && !w->keys[i].used)
            break;
        w->held += (size_t)w->keys[i].used;
    }
    return -2;
}

int pm_walker_top(pm_walker *w, const pm_tinfo *t, pm_raw_frame *top, uint64_t *back)
{
    uint8_t f[FRAME_MAX];
    if (!t->frame || pm_space_read(w->space, t->frame, f, w->L->fr_read) != 0)
        return -1;
    parse_frame(w->L, f, t->frame, top);
    *back = rd64(f, w->L->fr_back);
    return 0;
}

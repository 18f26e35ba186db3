/* pm_hash.h — hash functions shared by the open-addressing tables of the
 * model and the writers.  Hash values never leave the process (nothing is
 * persisted), so they only need to spread keys well and be cheap. */
#ifndef PM_HASH_H
#define PM_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* A 64-bit finaliser (the usual xor-shift/multiply avalanche): every input
 * bit affects every output bit, so the low bits used as a table index are
 * well mixed even for small dense ids. */
static inline uint64_t pm_hash_mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

static inline uint32_t pm_hash_u64(uint64_t x)
{
    return (uint32_t)pm_hash_mix64(x);
}

/* Three 32-bit ids (e.g. parent, frame, line) into one hash. */
static inline uint32_t pm_hash_ids3(uint32_t a, uint32_t b, uint32_t c)
{
    uint64_t x = ((uint64_t)a << 32) | b;
    x = pm_hash_mix64(x ^ ((uint64_t)c * 0x9e3779b97f4a7c15ULL));
    return (uint32_t)x;
}

/* Byte strings: eight bytes at a time (memcpy keeps the loads aligned-safe),
 * the tail zero-padded, the length folded in so that "a" and "a\0" differ. */
static inline uint32_t pm_hash_bytes(const void *data, size_t n)
{
    const unsigned char *s = (const unsigned char *)data;
    uint64_t h = 0x6a09e667f3bcc909ULL ^ ((uint64_t)n * 0x9e3779b97f4a7c15ULL);
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h ^= w * 0x87c37b91114253d5ULL;
        h = ((h << 31) | (h >> 33)) * 0x4cf5ad432745937fULL;
        s += 8;
        n -= 8;
    }
    if (n > 0) {
        uint64_t w = 0;
        memcpy(&w, s, n);
        h ^= w * 0x87c37b91114253d5ULL;
        h = ((h << 31) | (h >> 33)) * 0x4cf5ad432745937fULL;
    }
    return (uint32_t)pm_hash_mix64(h);
}

#endif

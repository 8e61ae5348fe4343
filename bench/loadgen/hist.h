/* hist.h: a log-linear latency histogram in the manner of HdrHistogram.
 * Values (microseconds) below 128 have a bucket each; above, every power of
 * two is split into 64 buckets, so a bucket is at most 1/64 (1.6 %) wide.
 * Fixed size, so histograms of worker processes add up bucket by bucket. */
#ifndef LG_HIST_H
#define LG_HIST_H

#include <stdint.h>
#include <string.h>

#define LG_HIST_SUB 64
#define LG_HIST_BUCKETS (2 * LG_HIST_SUB + 40 * LG_HIST_SUB)

typedef struct lg_hist {
    uint64_t count;
    uint64_t max;
    uint64_t b[LG_HIST_BUCKETS];
} lg_hist_t;

static inline unsigned lg_hist_index(uint64_t v)
{
    if (v < 2 * LG_HIST_SUB)
        return (unsigned)v;
    unsigned msb = 63u - (unsigned)__builtin_clzll(v);
    unsigned shift = msb - 6; /* v >> shift is in [64, 128) */
    unsigned idx = 2 * LG_HIST_SUB + (shift - 1) * LG_HIST_SUB + (unsigned)((v >> shift) - LG_HIST_SUB);
    return idx < LG_HIST_BUCKETS ? idx : LG_HIST_BUCKETS - 1;
}

/* The middle of the bucket: the value reported for a percentile. */
static inline uint64_t lg_hist_value(unsigned idx)
{
    if (idx < 2 * LG_HIST_SUB)
        return idx;
    unsigned shift = (idx - 2 * LG_HIST_SUB) / LG_HIST_SUB + 1;
    uint64_t m = (idx - 2 * LG_HIST_SUB) % LG_HIST_SUB + LG_HIST_SUB;
    return (m << shift) + ((1ull << shift) >> 1);
}

static inline void lg_hist_add(lg_hist_t *h, uint64_t v)
{
    h->b[lg_hist_index(v)]++;
    h->count++;
    if (v > h->max)
        h->max = v;
}

static inline void lg_hist_merge(lg_hist_t *into, const lg_hist_t *from)
{
    for (unsigned i = 0; i < LG_HIST_BUCKETS; i++)
        into->b[i] += from->b[i];
    into->count += from->count;
    if (from->max > into->max)
        into->max = from->max;
}

/* q in [0, 1]; 0 when empty. Never above the exact maximum. */
static inline uint64_t lg_hist_quantile(const lg_hist_t *h, double q)
{
    if (h->count == 0)
        return 0;
    uint64_t rank = (uint64_t)(q * (double)h->count + 0.5);
    if (rank < 1)
        rank = 1;
    uint64_t seen = 0;
    for (unsigned i = 0; i < LG_HIST_BUCKETS; i++) {
        seen += h->b[i];
        if (seen >= rank) {
            uint64_t v = lg_hist_value(i);
            return v < h->max ? v : h->max;
        }
    }
    return h->max;
}

#endif

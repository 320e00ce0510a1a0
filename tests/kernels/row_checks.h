/* SPDX-License-Identifier: Apache-2.0 */
/* One kernel row against the scalar row, bit for bit, on the inputs of
 * kernel_cases.h: shared by test_kernels.c (every x86 row, Check) and
 * neon/neon_vs_scalar.c (the NEON row under qemu, plain C), so a kernel
 * added to the table is compared in both by adding it here once. The
 * includer defines CHECK(cond, printf-style message...) and includes
 * kernel_cases.h first; callers seed rng_state. */
#ifndef RQ_TESTS_ROW_CHECKS_H
#define RQ_TESTS_ROW_CHECKS_H

#include <stdlib.h>

#define CTX_FMT "isa %s elem %s kind %s n %zu offset %zu"
#define CTX_ARGS k->isa, elem_names[elem], kind_names[kind], n, off

/* Contiguous kernels, every element type, length, offset and value kind. */
static void check_row_elementwise(const struct rq__kernels *k, const struct rq__kernels *s) {
  for (int e = 0; e < RQ__ELEM_COUNT; e++) {
    rq__elem elem = (rq__elem)e;
    size_t es = rq__elem_size(elem);
    for (int kind = 0; kind < KIND_COUNT; kind++)
      for (size_t li = 0; li < LENGTH_COUNT; li++)
        for (size_t oi = 0; oi < OFFSET_COUNT; oi++) {
          size_t n = lengths[li], off = offsets[oi];
          void *x = in_buf + off;
          fill(x, elem, n, kind);

          /* min/max, from the neutral start and folded into an existing range */
          for (int start = 0; start < 2; start++) {
            float mn_s = start ? 0.25f : INFINITY, mx_s = start ? 0.5f : -INFINITY;
            float mn_k = mn_s, mx_k = mx_s;
            uint64_t bad_s = (uint64_t)start, bad_k = (uint64_t)start;
            s->minmax[elem](x, n, &mn_s, &mx_s, &bad_s);
            k->minmax[elem](x, n, &mn_k, &mx_k, &bad_k);
            CHECK(same_bits(mn_s, mn_k) && same_bits(mx_s, mx_k) && bad_s == bad_k,
                  "minmax " CTX_FMT " start %d: scalar %a %a %llu, row %a %a %llu", CTX_ARGS, start,
                  (double)mn_s, (double)mx_s, (unsigned long long)bad_s, (double)mn_k, (double)mx_k,
                  (unsigned long long)bad_k);
          }

          /* histogram over the data's range and over a narrower one */
          float lo = INFINITY, hi = -INFINITY;
          uint64_t bad = 0;
          s->minmax[elem](x, n, &lo, &hi, &bad);
          if (!(lo < hi) || !isfinite(hi - lo)) lo = -1.0f, hi = 1.0f;
          static const size_t bin_counts[] = { 1, 7, 2048 };
          for (int narrow = 0; narrow < 2; narrow++)
            for (size_t bi = 0; bi < 3; bi++) {
              float l = lo, h = hi;
              if (narrow) l = lo + (hi - lo) * 0.25f, h = hi - (hi - lo) * 0.25f;
              if (!(l < h)) continue;
              static uint64_t cs[2048], ck[2048];
              size_t bins = bin_counts[bi];
              memset(cs, 0, sizeof cs);
              memset(ck, 0, sizeof ck);
              s->histogram[elem](x, n, l, h, cs, bins);
              k->histogram[elem](x, n, l, h, ck, bins);
              CHECK(memcmp(cs, ck, bins * sizeof cs[0]) == 0, "histogram " CTX_FMT " bins %zu narrow %d",
                    CTX_ARGS, bins, narrow);
              /* fused: the same counts, and the same min/max as the minmax kernel */
              float fmn = INFINITY, fmx = -INFINITY, rmn = INFINITY, rmx = -INFINITY;
              uint64_t fbad = 0, rbad = 0;
              memset(ck, 0, sizeof ck);
              k->minmax_histogram[elem](x, n, l, h, ck, bins, &fmn, &fmx, &fbad);
              s->minmax[elem](x, n, &rmn, &rmx, &rbad);
              CHECK(memcmp(cs, ck, bins * sizeof cs[0]) == 0 && same_bits(fmn, rmn) && same_bits(fmx, rmx) &&
                        fbad == rbad,
                    "minmax_histogram " CTX_FMT " bins %zu narrow %d", CTX_ARGS, bins, narrow);
              memset(ck, 0, sizeof ck);
              fmn = INFINITY, fmx = -INFINITY, fbad = 0;
              s->minmax_histogram[elem](x, n, l, h, ck, bins, &fmn, &fmx, &fbad);
              CHECK(memcmp(cs, ck, bins * sizeof cs[0]) == 0 && same_bits(fmn, rmn) && same_bits(fmx, rmx) &&
                        fbad == rbad,
                    "scalar minmax_histogram " CTX_FMT, CTX_ARGS);
            }

          /* fake-quant with and without the mask (one byte past n must stay untouched) */
          for (size_t fi = 0; fi < FQ_CASE_COUNT; fi++) {
            const struct fq_params *f = &fq_cases[fi];
            memset(mask_a, 7, n + 1);
            memset(mask_b, 7, n + 1);
            s->fake_quant[elem](x, out_a + off, mask_a, n, f->scale, f->zero_point, f->qmin, f->qmax);
            k->fake_quant[elem](x, out_b + off, mask_b, n, f->scale, f->zero_point, f->qmin, f->qmax);
            CHECK(memcmp(out_a + off, out_b + off, n * es) == 0 && memcmp(mask_a, mask_b, n + 1) == 0,
                  "fake_quant " CTX_FMT " case %zu", CTX_ARGS, fi);
            memset(out_b, 0, sizeof out_b);
            k->fake_quant[elem](x, out_b + off, NULL, n, f->scale, f->zero_point, f->qmin, f->qmax);
            CHECK(memcmp(out_a + off, out_b + off, n * es) == 0, "fake_quant without mask " CTX_FMT " case %zu",
                  CTX_ARGS, fi);
          }
          /* in place (y == x) */
          memcpy(out_b + off, x, n * es);
          s->fake_quant[elem](x, out_a + off, NULL, n, 0.05f, 1, -128, 127);
          k->fake_quant[elem](out_b + off, out_b + off, NULL, n, 0.05f, 1, -128, 127);
          CHECK(memcmp(out_a + off, out_b + off, n * es) == 0, "in-place fake_quant " CTX_FMT, CTX_ARGS);

          /* The fp32-only kernels take float pointers: element-aligned offsets only. */
          if (elem != RQ__ELEM_F32 || off % 4 != 0) continue;
          /* quantize/dequantize per storage type */
          static const int32_t qr[3][2] = { { -128, 127 }, { 0, 255 }, { -32768, 32767 } };
          for (int q = 0; q < RQ__Q_COUNT; q++)
            for (size_t fi = 0; fi < FQ_CASE_COUNT; fi++) {
              const struct fq_params *f = &fq_cases[fi];
              int32_t zp = f->zero_point < qr[q][0] ? qr[q][0]
                                                    : (f->zero_point > qr[q][1] ? qr[q][1] : f->zero_point);
              size_t qs = rq__qtype_size((rq__qtype)q);
              s->quantize[q](x, out_a, n, f->scale, zp, qr[q][0], qr[q][1]);
              k->quantize[q](x, out_b, n, f->scale, zp, qr[q][0], qr[q][1]);
              CHECK(memcmp(out_a, out_b, n * qs) == 0, "quantize %d " CTX_FMT " case %zu", q, CTX_ARGS, fi);
              static float da[MAX_ELEMS], db[MAX_ELEMS];
              s->dequantize[q](out_a, da, n, f->scale, zp);
              k->dequantize[q](out_a, db, n, f->scale, zp);
              CHECK(memcmp(da, db, n * 4) == 0, "dequantize %d " CTX_FMT " case %zu", q, CTX_ARGS, fi);
            }
          /* STE backward */
          for (size_t i = 0; i < n; i++) mask_a[i] = (uint8_t)(rng_next() & 1);
          s->ste_backward(x, mask_a, (float *)(void *)out_a, n);
          k->ste_backward(x, mask_a, (float *)(void *)out_b, n);
          CHECK(memcmp(out_a, out_b, n * 4) == 0, "ste_backward " CTX_FMT, CTX_ARGS);
          /* LSQ backward (rows may share the reference; the table entry must still work) */
          static float dy[MAX_ELEMS], dx_s[MAX_ELEMS], dx_k[MAX_ELEMS];
          for (size_t i = 0; i < n; i++) dy[i] = rng_normal();
          double ds_s = 0.5, dz_s = -0.5, ds_k = 0.5, dz_k = -0.5;
          s->lsq_backward(x, dy, dx_s, n, 0.1f, 3, -128, 127, 0.5f, &ds_s, &dz_s);
          k->lsq_backward(x, dy, dx_k, n, 0.1f, 3, -128, 127, 0.5f, &ds_k, &dz_k);
          CHECK(memcmp(dx_s, dx_k, n * 4) == 0 && same_double(ds_s, ds_k) && same_double(dz_s, dz_k),
                "lsq_backward " CTX_FMT, CTX_ARGS);
        }
  }
}

static const size_t channel_shapes[][3] = {
  { 1, 1, 1 }, { 2, 3, 1 }, { 3, 17, 1 }, { 2, 5, 3 }, { 1, 4, 9 }, { 2, 3, 33 }, { 4, 2, 100 },
  { 1, 40, 1 }, { 5, 9, 8 },
};

/* Per-channel kernels over [outer, channels, inner]. */
static void check_row_channels(const struct rq__kernels *k, const struct rq__kernels *s) {
  for (int e = 0; e < RQ__ELEM_COUNT; e++) {
    rq__elem elem = (rq__elem)e;
    size_t es = rq__elem_size(elem);
    for (int kind = 0; kind < KIND_COUNT; kind++)
      for (size_t si = 0; si < sizeof channel_shapes / sizeof channel_shapes[0]; si++)
        for (size_t off = 0; off < 4; off += 3) {
          size_t outer = channel_shapes[si][0], ch = channel_shapes[si][1], inner = channel_shapes[si][2];
          size_t n = outer * ch * inner;
          void *x = in_buf + off;
          fill(x, elem, n, kind);
          float mins_s[64], maxs_s[64], mins_k[64], maxs_k[64], scale[64];
          int32_t zp[64];
          for (size_t c = 0; c < ch; c++) {
            mins_s[c] = mins_k[c] = INFINITY;
            maxs_s[c] = maxs_k[c] = -INFINITY;
            scale[c] = 0.01f + rng_uniform();
            zp[c] = (int32_t)(rng_next() % 20) - 10;
          }
          uint64_t bad_s = 0, bad_k = 0;
          s->minmax_channels[elem](x, outer, ch, inner, mins_s, maxs_s, &bad_s);
          k->minmax_channels[elem](x, outer, ch, inner, mins_k, maxs_k, &bad_k);
          CHECK(memcmp(mins_s, mins_k, ch * 4) == 0 && memcmp(maxs_s, maxs_k, ch * 4) == 0 && bad_s == bad_k,
                "minmax_channels " CTX_FMT " shape %zux%zux%zu", CTX_ARGS, outer, ch, inner);
          s->fake_quant_channels[elem](x, out_a, mask_a, outer, ch, inner, scale, zp, -128, 127);
          k->fake_quant_channels[elem](x, out_b, mask_b, outer, ch, inner, scale, zp, -128, 127);
          CHECK(memcmp(out_a, out_b, n * es) == 0 && memcmp(mask_a, mask_b, n) == 0,
                "fake_quant_channels " CTX_FMT " shape %zux%zux%zu", CTX_ARGS, outer, ch, inner);
        }
  }
}

/* Large inputs: min/max blocks (and the two-stream read of 1 MiB and more),
 * histogram private counters, the streaming-store path of fp32 fake-quant
 * (outputs of 16 MiB and more). */
static void check_row_large(const struct rq__kernels *k, const struct rq__kernels *s) {
  size_t n = ((size_t)16 << 20) / 4 + 37;
  float *x = malloc((n + 16) * 4), *ya = malloc((n + 16) * 4), *yb = malloc((n + 16) * 4);
  uint8_t *ma = malloc(n), *mb = malloc(n);
  if (!x || !ya || !yb || !ma || !mb) {
    free(x), free(ya), free(yb), free(ma), free(mb);
    CHECK(false, "large: out of memory");
    return;
  }
  rng_state = 4242;
  for (size_t i = 0; i < n + 16; i++) x[i] = gen_value(i % 7 == 0 ? KIND_NONFINITE : KIND_TIES, i);
  for (size_t off = 0; off < 3; off++) { /* output 0, 4 and 8 bytes past an aligned base */
    s->fake_quant[RQ__ELEM_F32](x, ya + off, ma, n, 0.1f, 2, -128, 127);
    k->fake_quant[RQ__ELEM_F32](x, yb + off, mb, n, 0.1f, 2, -128, 127);
    CHECK(memcmp(ya + off, yb + off, n * 4) == 0 && memcmp(ma, mb, n) == 0, "large fake_quant isa %s offset %zu",
          k->isa, off);
  }
  /* histograms long enough for the private 32-bit counters, with values
   * outside the range and non-finite ones mixed in */
  static uint64_t ha[4097], hb[4097];
  static const size_t hbins[] = { 7, 2048, 4096, 4097 };
  for (size_t bi = 0; bi < 4; bi++) {
    size_t bins = hbins[bi];
    memset(ha, 0, sizeof ha), memset(hb, 0, sizeof hb);
    s->histogram[RQ__ELEM_F32](x, n, -20.0f, 25.0f, ha, bins);
    k->histogram[RQ__ELEM_F32](x, n, -20.0f, 25.0f, hb, bins);
    CHECK(memcmp(ha, hb, bins * sizeof ha[0]) == 0, "large histogram isa %s bins %zu", k->isa, bins);
    float mn = INFINITY, mx = -INFINITY, rmn = INFINITY, rmx = -INFINITY;
    uint64_t bad = 0, rbad = 0;
    memset(hb, 0, sizeof hb);
    k->minmax_histogram[RQ__ELEM_F32](x, n, -20.0f, 25.0f, hb, bins, &mn, &mx, &bad);
    s->minmax[RQ__ELEM_F32](x, n, &rmn, &rmx, &rbad);
    CHECK(memcmp(ha, hb, bins * sizeof ha[0]) == 0 && same_bits(mn, rmn) && same_bits(mx, rmx) && bad == rbad,
          "large minmax_histogram isa %s bins %zu", k->isa, bins);
  }
  { /* a range whose width overflows to Inf: (x - lo) / Inf is 0 or NaN, and
     * NaN must land in bin 0 as in the scalar row, never outside the counts */
    static float wide[1000];
    static const size_t wbins[] = { 7, 2048, 4096 }; /* private counters and not */
    for (size_t i = 0; i < 1000; i++) wide[i] = (float)((double)i - 500.0) * 6e35f;
    for (size_t bi = 0; bi < 3; bi++) {
      memset(ha, 0, sizeof ha), memset(hb, 0, sizeof hb);
      s->histogram[RQ__ELEM_F32](wide, 1000, -3e38f, 3e38f, ha, wbins[bi]);
      k->histogram[RQ__ELEM_F32](wide, 1000, -3e38f, 3e38f, hb, wbins[bi]);
      CHECK(memcmp(ha, hb, sizeof ha) == 0 && ha[0] > 0, "overflowing range isa %s", k->isa);
    }
  }
  memcpy(yb + 1, x, n * 4); /* in place */
  k->fake_quant[RQ__ELEM_F32](yb + 1, yb + 1, NULL, n, 0.1f, 2, -128, 127);
  CHECK(memcmp(ya + 2, yb + 1, n * 4) == 0, "large in-place fake_quant isa %s", k->isa);
  /* min/max over many blocks, some with NaN/Inf (every 7th element) and some clean */
  for (size_t i = 0; i < n; i++)
    if ((i / 8192) % 2 == 0 && i % 7 == 0) x[i] = 1.0f;
  float mn = INFINITY, mx = -INFINITY, rmn = INFINITY, rmx = -INFINITY;
  uint64_t bad = 0, rbad = 0;
  k->minmax[RQ__ELEM_F32](x + 1, n - 1, &mn, &mx, &bad);
  s->minmax[RQ__ELEM_F32](x + 1, n - 1, &rmn, &rmx, &rbad);
  CHECK(same_bits(mn, rmn) && same_bits(mx, rmx) && bad == rbad && bad > 0, "large minmax isa %s", k->isa);
  /* inputs of 1 MiB and more are read as two halves side by side: lengths
   * that leave a vector tail and a scalar tail after the paired part, and
   * the same bytes as fp16/bf16 (random halves, NaN/Inf among them) */
  static const size_t cut[] = { 0, 13, 29, 62 };
  for (size_t ci = 0; ci < sizeof cut / sizeof cut[0]; ci++)
    for (int e = 0; e < RQ__ELEM_COUNT; e++) {
      size_t len = (n - 1 - cut[ci]) * (4 / rq__elem_size((rq__elem)e));
      mn = INFINITY, mx = -INFINITY, rmn = INFINITY, rmx = -INFINITY, bad = 0, rbad = 0;
      k->minmax[e](x + 1, len, &mn, &mx, &bad);
      s->minmax[e](x + 1, len, &rmn, &rmx, &rbad);
      CHECK(same_bits(mn, rmn) && same_bits(mx, rmx) && bad == rbad, "large minmax isa %s elem %s length %zu",
            k->isa, elem_names[e], len);
    }
  free(x), free(ya), free(yb), free(ma), free(mb);
}

#endif

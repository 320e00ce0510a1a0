/* SPDX-License-Identifier: Apache-2.0 */
/* The NEON row against the scalar row, bit for bit, run under qemu-aarch64 by
 * run_neon_qemu.sh. Plain C (no Check: there is no arm64 build of it here).
 * The cases are those of tests/kernels/test_kernels.c's SIMD-vs-scalar tests
 * (same lengths, byte offsets, value kinds, fake-quant parameters, channel
 * shapes and large inputs), plus the DLTensor walkers on strided views run
 * once with each row forced. Every field of struct rq__kernels is compared.
 * Both rows, as compiled for aarch64, are also checked against the PyTorch
 * golden files (argv[1]), which catches an error NEON and scalar share.
 * Prints one line per failure (the first 40) and ends with
 * "neon: N passed, N failed"; the exit status is non-zero on any failure. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"

#if !defined(__aarch64__)
#  error "neon_vs_scalar.c tests the AArch64 NEON row: build it with aarch64-linux-gnu-gcc"
#endif

static unsigned long checks_passed, checks_failed;

/* Counts a comparison; reports the first failures with their context. */
#define CHECK(cond, ...)                                  \
  do {                                                    \
    if (cond) {                                           \
      checks_passed++;                                    \
    } else if (++checks_failed <= 40) {                   \
      fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
      fprintf(stderr, __VA_ARGS__);                       \
      fputc('\n', stderr);                                \
    }                                                     \
  } while (0)

/* ---- inputs: tests/kernels/kernel_cases.h, shared with test_kernels.c ---- */

#include "../kernel_cases.h"

static bool same_bits(float a, float b) { return bits_of(a) == bits_of(b); }
static bool same_double(double a, double b) { return memcmp(&a, &b, sizeof a) == 0; }
static const char *const elem_names[] = { "f32", "f16", "bf16" };

#define CTX_FMT "elem %s kind %s n %zu offset %zu"
#define CTX_ARGS elem_names[elem], kind_names[kind], n, off

/* ---- dispatch: under qemu-aarch64 getauxval must report ASIMD ---- */

static void dispatch_picks_neon(const struct rq__kernels *k) {
  CHECK(k != NULL, "rq__kernels_get(\"neon\") is NULL: HWCAP_ASIMD not seen or row not built");
  CHECK(strcmp(rq__kernels_best(), "neon") == 0, "best row is %s, expected neon", rq__kernels_best());
  CHECK(rq__kernels_force("neon") == RQ_OK && strcmp(rq__kernels()->isa, "neon") == 0,
        "rq__kernels_force(\"neon\")");
  CHECK(rq__kernels_force("avx2") == RQ_ERR_ISA, "avx2 must be unavailable on aarch64");
  CHECK(rq__kernels_force("scalar") == RQ_OK && strcmp(rq__kernels()->isa, "scalar") == 0,
        "rq__kernels_force(\"scalar\")");
  CHECK(rq__kernels_force(NULL) == RQ_OK && strcmp(rq__kernels()->isa, "neon") == 0,
        "automatic choice after forcing");
}

/* ---- contiguous kernels, every element type ---- */

static void elementwise(const struct rq__kernels *k, const struct rq__kernels *s) {
  rng_state = 0x1234567u;
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
                  "minmax " CTX_FMT " start %d: scalar %a %a %llu, neon %a %a %llu", CTX_ARGS, start,
                  (double)mn_s, (double)mx_s, (unsigned long long)bad_s, (double)mn_k,
                  (double)mx_k, (unsigned long long)bad_k);
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
              CHECK(memcmp(cs, ck, bins * sizeof cs[0]) == 0,
                    "histogram " CTX_FMT " bins %zu narrow %d", CTX_ARGS, bins, narrow);
              /* fused: the same counts and the same min/max as the separate kernels */
              float fmn = INFINITY, fmx = -INFINITY, rmn = INFINITY, rmx = -INFINITY;
              uint64_t fbad = 0, rbad = 0;
              memset(ck, 0, sizeof ck);
              k->minmax_histogram[elem](x, n, l, h, ck, bins, &fmn, &fmx, &fbad);
              s->minmax[elem](x, n, &rmn, &rmx, &rbad);
              CHECK(memcmp(cs, ck, bins * sizeof cs[0]) == 0 && same_bits(fmn, rmn) &&
                        same_bits(fmx, rmx) && fbad == rbad,
                    "minmax_histogram " CTX_FMT " bins %zu narrow %d", CTX_ARGS, bins, narrow);
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
            CHECK(memcmp(out_a + off, out_b + off, n * es) == 0,
                  "fake_quant without mask " CTX_FMT " case %zu", CTX_ARGS, fi);
          }
          /* in place (y == x) */
          memcpy(out_b + off, x, n * es);
          s->fake_quant[elem](x, out_a + off, NULL, n, 0.05f, 1, -128, 127);
          k->fake_quant[elem](out_b + off, out_b + off, NULL, n, 0.05f, 1, -128, 127);
          CHECK(memcmp(out_a + off, out_b + off, n * es) == 0, "in-place fake_quant " CTX_FMT, CTX_ARGS);

          /* The fp32-only kernels take float pointers: element-aligned offsets only. */
          if (elem != RQ__ELEM_F32 || off % 4 != 0) continue;
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
          /* LSQ backward (every row shares the reference; the table entry must still work) */
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

/* ---- per-channel kernels over [outer, channels, inner] ---- */

static const size_t channel_shapes[][3] = {
  { 1, 1, 1 }, { 2, 3, 1 }, { 3, 17, 1 }, { 2, 5, 3 }, { 1, 4, 9 }, { 2, 3, 33 }, { 4, 2, 100 },
  { 1, 40, 1 }, { 5, 9, 8 },
};

static void channels(const struct rq__kernels *k, const struct rq__kernels *s) {
  rng_state = 0xabcdefu;
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
          CHECK(memcmp(mins_s, mins_k, ch * 4) == 0 && memcmp(maxs_s, maxs_k, ch * 4) == 0 &&
                    bad_s == bad_k,
                "minmax_channels " CTX_FMT " shape %zux%zux%zu", CTX_ARGS, outer, ch, inner);
          s->fake_quant_channels[elem](x, out_a, mask_a, outer, ch, inner, scale, zp, -128, 127);
          k->fake_quant_channels[elem](x, out_b, mask_b, outer, ch, inner, scale, zp, -128, 127);
          CHECK(memcmp(out_a, out_b, n * es) == 0 && memcmp(mask_a, mask_b, n) == 0,
                "fake_quant_channels " CTX_FMT " shape %zux%zux%zu", CTX_ARGS, outer, ch, inner);
        }
  }
}

/* ---- large inputs: min/max blocks, histogram private counters, the
 * streaming-store path of fp32 fake-quant (16 MiB and more) ---- */

static void large(const struct rq__kernels *k, const struct rq__kernels *s) {
  size_t n = ((size_t)16 << 20) / 4 + 37;
  float *x = malloc((n + 16) * 4), *ya = malloc((n + 16) * 4), *yb = malloc((n + 16) * 4);
  uint8_t *ma = malloc(n), *mb = malloc(n);
  if (!x || !ya || !yb || !ma || !mb) {
    CHECK(false, "large: out of memory");
    free(x), free(ya), free(yb), free(ma), free(mb);
    return;
  }
  rng_state = 4242;
  for (size_t i = 0; i < n + 16; i++) x[i] = gen_value(i % 7 == 0 ? KIND_NONFINITE : KIND_TIES, i);
  for (size_t off = 0; off < 3; off++) { /* output 0, 4 and 8 bytes past an aligned base */
    s->fake_quant[RQ__ELEM_F32](x, ya + off, ma, n, 0.1f, 2, -128, 127);
    k->fake_quant[RQ__ELEM_F32](x, yb + off, mb, n, 0.1f, 2, -128, 127);
    CHECK(memcmp(ya + off, yb + off, n * 4) == 0 && memcmp(ma, mb, n) == 0,
          "large fake_quant offset %zu", off);
  }
  static uint64_t ha[4097], hb[4097];
  static const size_t hbins[] = { 7, 2048, 4096, 4097 };
  for (size_t bi = 0; bi < 4; bi++) {
    size_t bins = hbins[bi];
    memset(ha, 0, sizeof ha), memset(hb, 0, sizeof hb);
    s->histogram[RQ__ELEM_F32](x, n, -20.0f, 25.0f, ha, bins);
    k->histogram[RQ__ELEM_F32](x, n, -20.0f, 25.0f, hb, bins);
    CHECK(memcmp(ha, hb, bins * sizeof ha[0]) == 0, "large histogram bins %zu", bins);
    float mn = INFINITY, mx = -INFINITY, rmn = INFINITY, rmx = -INFINITY;
    uint64_t bad = 0, rbad = 0;
    memset(hb, 0, sizeof hb);
    k->minmax_histogram[RQ__ELEM_F32](x, n, -20.0f, 25.0f, hb, bins, &mn, &mx, &bad);
    s->minmax[RQ__ELEM_F32](x, n, &rmn, &rmx, &rbad);
    CHECK(memcmp(ha, hb, bins * sizeof ha[0]) == 0 && same_bits(mn, rmn) && same_bits(mx, rmx) &&
              bad == rbad,
          "large minmax_histogram bins %zu", bins);
  }
  memcpy(yb + 1, x, n * 4); /* in place */
  k->fake_quant[RQ__ELEM_F32](yb + 1, yb + 1, NULL, n, 0.1f, 2, -128, 127);
  CHECK(memcmp(ya + 2, yb + 1, n * 4) == 0, "large in-place fake_quant");
  /* min/max over many blocks, some with NaN/Inf (every 7th element) and some clean */
  for (size_t i = 0; i < n; i++)
    if ((i / 8192) % 2 == 0 && i % 7 == 0) x[i] = 1.0f;
  float mn = INFINITY, mx = -INFINITY, rmn = INFINITY, rmx = -INFINITY;
  uint64_t bad = 0, rbad = 0;
  k->minmax[RQ__ELEM_F32](x + 1, n - 1, &mn, &mx, &bad);
  s->minmax[RQ__ELEM_F32](x + 1, n - 1, &rmn, &rmx, &rbad);
  CHECK(same_bits(mn, rmn) && same_bits(mx, rmx) && bad == rbad && bad > 0, "large minmax");
  free(x), free(ya), free(yb), free(ma), free(mb);
}

/* ---- DLTensor walkers on strided views, NEON row forced vs scalar row forced ---- */

/* Logical shape [3, 5, 700] (inner runs longer than the walker's 512-element
 * gather buffer): contiguous, stored transposed, and every second element. */
#define SV_D0 3
#define SV_D1 5
#define SV_D2 700
#define SV_NUMEL (SV_D0 * SV_D1 * SV_D2)
static const int64_t sv_strides[3][3] = {
  { SV_D1 * SV_D2, SV_D2, 1 }, { 1, SV_D0, SV_D0 * SV_D1 }, { SV_D1 * SV_D2 * 2, SV_D2 * 2, 2 },
};
static const DLDataType sv_dtypes[RQ__ELEM_COUNT] = {
  { kDLFloat, 32, 1 }, { kDLFloat, 16, 1 }, { kDLBfloat, 16, 1 },
};

struct tensor_results {
  float mn, mx, mins[SV_D2], maxs[SV_D2];
  uint64_t bad, cbad, counts[100], fcounts[100];
  float fmn, fmx;
  uint64_t fbad;
  unsigned char y[4][SV_NUMEL * 2 * 4]; /* per tensor, then per channel along each axis */
  uint8_t mask[4][SV_NUMEL];
  rq_status status[8];
};

static void tensor_ops(DLTensor *t, DLTensor *y, int axis, struct tensor_results *r) {
  memset(r, 0, sizeof *r);
  r->mn = r->fmn = INFINITY, r->mx = r->fmx = -INFINITY;
  for (int c = 0; c < SV_D2; c++) r->mins[c] = INFINITY, r->maxs[c] = -INFINITY;
  r->status[0] = rq__tensor_minmax(t, &r->mn, &r->mx, &r->bad);
  r->status[1] = rq__tensor_minmax_channels(t, axis, r->mins, r->maxs, &r->cbad);
  r->status[2] = rq__tensor_histogram(t, -4.0f, 4.0f, r->counts, 100);
  r->status[3] = rq__tensor_minmax_histogram(t, -4.0f, 4.0f, r->fcounts, 100, &r->fmn, &r->fmx, &r->fbad);
  static float scale[SV_D2];
  static int32_t zp[SV_D2];
  for (int c = 0; c < SV_D2; c++) scale[c] = 0.01f + 0.001f * (float)(c % 37), zp[c] = c % 11 - 5;
  for (int a = -1; a < 3; a++) {
    y->data = r->y[a + 1];
    r->status[4 + a + 1] =
        rq__tensor_fake_quant(t, y, r->mask[a + 1], a < 0 ? RQ__PER_TENSOR : a, scale, zp, -128, 127);
  }
}

static void strided_tensors(void) {
  static unsigned char storage[SV_NUMEL * 2 * 4];
  static struct tensor_results rs, rk;
  int64_t shape[3] = { SV_D0, SV_D1, SV_D2 };
  rng_state = 99;
  for (int e = 0; e < RQ__ELEM_COUNT; e++) {
    rq__elem elem = (rq__elem)e;
    for (int kind = KIND_NORMAL; kind <= KIND_NONFINITE; kind += KIND_NONFINITE - KIND_NORMAL) {
      fill(storage, elem, SV_NUMEL * 2, kind);
      for (int v = 0; v < 3; v++)
        for (int axis = 0; axis < 3; axis++) {
          DLTensor t = { 0 };
          t.data = storage;
          t.device.device_type = kDLCPU;
          t.ndim = 3;
          t.shape = shape;
          t.strides = (int64_t *)sv_strides[v];
          t.dtype = sv_dtypes[e];
          DLTensor y = t;
          y.strides = (int64_t *)sv_strides[(v + 1) % 3];
          rq__kernels_force("scalar");
          tensor_ops(&t, &y, axis, &rs);
          rq__kernels_force("neon");
          tensor_ops(&t, &y, axis, &rk);
          rq__kernels_force(NULL);
          bool ok = memcmp(rs.status, rk.status, sizeof rs.status) == 0;
          for (int i = 0; i < 8; i++) ok = ok && rs.status[i] == RQ_OK;
          ok = ok && same_bits(rs.mn, rk.mn) && same_bits(rs.mx, rk.mx) && rs.bad == rk.bad;
          ok = ok && memcmp(rs.mins, rk.mins, sizeof rs.mins) == 0 &&
               memcmp(rs.maxs, rk.maxs, sizeof rs.maxs) == 0 && rs.cbad == rk.cbad;
          ok = ok && memcmp(rs.counts, rk.counts, sizeof rs.counts) == 0 &&
               memcmp(rs.fcounts, rk.fcounts, sizeof rs.fcounts) == 0;
          ok = ok && same_bits(rs.fmn, rk.fmn) && same_bits(rs.fmx, rk.fmx) && rs.fbad == rk.fbad;
          for (int a = 0; a < 4; a++) /* the whole buffer: NEON must not write elsewhere either */
            ok = ok && memcmp(rs.y[a], rk.y[a], sizeof rs.y[a]) == 0 &&
                 memcmp(rs.mask[a], rk.mask[a], SV_NUMEL) == 0;
          CHECK(ok, "strided tensors elem %s kind %s view %d axis %d", elem_names[e], kind_names[kind],
                v, axis);
        }
    }
  }
}

/* ---- both rows, compiled for aarch64, against the PyTorch 1.13 golden files
 * of tests/kernels/golden (gen_golden.py), as test_kernels.c checks them on
 * x86-64: an oracle independent of the scalar row ---- */

typedef struct npy {
  char descr[8];
  int ndim;
  int64_t shape[8];
  size_t count;
  void *data;
} npy;

static const char *golden_dir;

/* Loads tests/kernels/golden/<name>.<field>.npy (v1, C order); false (and a
 * failed check) when it cannot. */
static bool npy_load(const char *name, const char *field, npy *out) {
  char path[1024];
  memset(out, 0, sizeof *out);
  snprintf(path, sizeof path, "%s/%s.%s.npy", golden_dir, name, field);
  FILE *f = fopen(path, "rb");
  unsigned char pre[10];
  char header[1024];
  size_t hlen = 0;
  bool ok = f != NULL && fread(pre, 1, 10, f) == 10 && memcmp(pre, "\x93NUMPY\x01", 7) == 0;
  if (ok) hlen = (size_t)pre[8] | (size_t)pre[9] << 8;
  ok = ok && hlen < sizeof header && fread(header, 1, hlen, f) == hlen;
  const char *d = NULL, *sh = NULL;
  if (ok) {
    header[hlen] = '\0';
    d = strstr(header, "'descr': '");
    sh = strstr(header, "'shape': (");
    ok = d != NULL && sh != NULL && strstr(header, "'fortran_order': False") != NULL &&
         sscanf(d + 10, "%7[^']", out->descr) == 1;
  }
  if (ok) {
    out->count = 1;
    for (const char *c = sh + 10; *c != ')' && out->ndim < 8;) {
      char *end;
      long long v = strtoll(c, &end, 10);
      if (end == c) break;
      out->shape[out->ndim++] = v;
      out->count *= (size_t)v;
      for (c = end; *c == ',' || *c == ' ';) c++;
    }
    size_t es = (size_t)atoi(out->descr + 2);
    out->data = malloc(out->count * es + 1);
    ok = out->data != NULL && es > 0 && fread(out->data, es, out->count, f) == out->count;
  }
  if (f) fclose(f);
  CHECK(ok, "cannot read golden file %s", path);
  if (!ok) free(out->data), out->data = NULL;
  return ok;
}

static DLTensor tensor_of(const npy *n, DLDataType dtype) {
  DLTensor t = { 0 };
  t.data = n->data;
  t.device.device_type = kDLCPU;
  t.ndim = n->ndim;
  t.shape = (int64_t *)n->shape;
  t.dtype = dtype;
  return t;
}

/* PyTorch's min/max may be -0.0 where razorq's is +0.0; all else is exact. */
static bool same_value(float ours, float torch) {
  return ours == torch && (ours == 0.0f || bits_of(ours) == bits_of(torch));
}

static void golden_for_isa(const char *isa) {
  const DLDataType f32_type = { kDLFloat, 32, 1 }, f16_type = { kDLFloat, 16, 1 };
  CHECK(rq__kernels_force(isa) == RQ_OK && strcmp(rq__kernels()->isa, isa) == 0, "force %s", isa);
  char name[64];
  for (int i = 0; i < 5; i++) {
    if (i < 4) snprintf(name, sizeof name, "minmax%d", i);
    else snprintf(name, sizeof name, "minmax_f16");
    npy x, ref;
    if (npy_load(name, "x", &x) && npy_load(name, "minmax", &ref)) {
      DLTensor t = tensor_of(&x, i < 4 ? f32_type : f16_type);
      float mn = INFINITY, mx = -INFINITY, *r = ref.data;
      uint64_t bad = 0;
      CHECK(rq__tensor_minmax(&t, &mn, &mx, &bad) == RQ_OK && same_value(mn, r[0]) &&
                same_value(mx, r[1]) && bad == 0,
            "%s golden %s: %a %a vs torch %a %a", isa, name, (double)mn, (double)mx, (double)r[0],
            (double)r[1]);
    }
    free(x.data), free(ref.data);
  }
  static const char *const channel_cases[] = { "channels_nchw", "channels_oihw", "channels_nc" };
  for (int i = 0; i < 3; i++) {
    npy x, axis, rmin, rmax;
    if (npy_load(channel_cases[i], "x", &x) && npy_load(channel_cases[i], "axis", &axis) &&
        npy_load(channel_cases[i], "min", &rmin) && npy_load(channel_cases[i], "max", &rmax)) {
      DLTensor t = tensor_of(&x, f32_type);
      float mins[64], maxs[64];
      for (int c = 0; c < 64; c++) mins[c] = INFINITY, maxs[c] = -INFINITY;
      uint64_t bad = 0;
      bool ok = rmin.count <= 64 &&
                rq__tensor_minmax_channels(&t, ((int32_t *)axis.data)[0], mins, maxs, &bad) == RQ_OK;
      for (size_t c = 0; ok && c < rmin.count; c++)
        ok = same_value(mins[c], ((float *)rmin.data)[c]) && same_value(maxs[c], ((float *)rmax.data)[c]);
      CHECK(ok, "%s golden %s", isa, channel_cases[i]);
    }
    free(x.data), free(axis.data), free(rmin.data), free(rmax.data);
  }
  for (int i = 0; i < 4; i++) {
    snprintf(name, sizeof name, "histc%d", i);
    npy x, range, counts;
    if (npy_load(name, "x", &x) && npy_load(name, "range", &range) && npy_load(name, "counts", &counts)) {
      DLTensor t = tensor_of(&x, f32_type);
      static uint64_t ours[2048], fused[2048];
      float *r = range.data, mn = INFINITY, mx = -INFINITY;
      uint64_t bad = 0;
      memset(ours, 0, sizeof ours), memset(fused, 0, sizeof fused);
      bool ok = counts.count <= 2048 &&
                rq__tensor_histogram(&t, r[0], r[1], ours, counts.count) == RQ_OK &&
                rq__tensor_minmax_histogram(&t, r[0], r[1], fused, counts.count, &mn, &mx, &bad) == RQ_OK;
      for (size_t b = 0; ok && b < counts.count; b++)
        ok = (double)ours[b] == ((double *)counts.data)[b] && ours[b] == fused[b];
      CHECK(ok, "%s golden %s", isa, name);
    }
    free(x.data), free(range.data), free(counts.data);
  }
  for (int i = 0; i < 9; i++) {
    bool half = i >= 6;
    if (half) snprintf(name, sizeof name, "fqh%d", i - 6);
    else snprintf(name, sizeof name, "fq%d", i);
    npy x, params, qparams, y, m = { 0 };
    if (npy_load(name, "x", &x) && npy_load(name, "params", &params) &&
        npy_load(name, "qparams", &qparams) && npy_load(name, "y", &y) &&
        (half || npy_load(name, "mask", &m))) {
      DLTensor tx = tensor_of(&x, half ? f16_type : f32_type), ty = tx;
      size_t es = half ? 2 : 4;
      void *out = malloc(x.count * es);
      uint8_t *mask = malloc(x.count);
      int32_t *qp = qparams.data;
      ty.data = out;
      bool ok = out && mask &&
                rq__tensor_fake_quant(&tx, &ty, mask, RQ__PER_TENSOR, params.data, &qp[0], qp[1],
                                      qp[2]) == RQ_OK &&
                memcmp(out, y.data, x.count * es) == 0 && (half || memcmp(mask, m.data, x.count) == 0);
      CHECK(ok, "%s golden %s differs from torch", isa, name);
      free(out), free(mask);
    }
    free(x.data), free(params.data), free(qparams.data), free(y.data), free(m.data);
  }
  static const char *const fqc_cases[] = { "fqc_nchw", "fqc_oihw", "fqc_nc" };
  for (int i = 0; i < 3; i++) {
    npy x, scale, qparams, zp, y, m;
    if (npy_load(fqc_cases[i], "x", &x) && npy_load(fqc_cases[i], "scale", &scale) &&
        npy_load(fqc_cases[i], "qparams", &qparams) && npy_load(fqc_cases[i], "zero_point", &zp) &&
        npy_load(fqc_cases[i], "y", &y) && npy_load(fqc_cases[i], "mask", &m)) {
      DLTensor tx = tensor_of(&x, f32_type), ty = tx;
      float *out = malloc(x.count * 4);
      uint8_t *mask = malloc(x.count);
      int32_t *qp = qparams.data;
      ty.data = out;
      bool ok = out && mask &&
                rq__tensor_fake_quant(&tx, &ty, mask, qp[0], scale.data, zp.data, qp[1], qp[2]) == RQ_OK &&
                memcmp(out, y.data, x.count * 4) == 0 && memcmp(mask, m.data, x.count) == 0;
      CHECK(ok, "%s golden %s differs from torch", isa, fqc_cases[i]);
      free(out), free(mask);
    }
    free(x.data), free(scale.data), free(qparams.data), free(zp.data), free(y.data), free(m.data);
  }
  const struct rq__kernels *k = rq__kernels();
  for (int i = 0; i < 3; i++) {
    snprintf(name, sizeof name, "quant%d", i);
    npy x, params, zp, q, deq;
    if (npy_load(name, "x", &x) && npy_load(name, "params", &params) && npy_load(name, "zp", &zp) &&
        npy_load(name, "q", &q) && npy_load(name, "deq", &deq)) {
      rq__qtype qt = i == 1 ? RQ__Q_U8 : RQ__Q_I8;
      int32_t lo = qt == RQ__Q_U8 ? 0 : -128, hi = qt == RQ__Q_U8 ? 255 : 127;
      float scale = ((float *)params.data)[0];
      int32_t z = ((int32_t *)zp.data)[0];
      unsigned char *qv = malloc(x.count);
      float *back = malloc(x.count * 4);
      bool ok = qv && back;
      if (ok) {
        k->quantize[qt](x.data, qv, x.count, scale, z, lo, hi);
        k->dequantize[qt](qv, back, x.count, scale, z);
      }
      for (size_t j = 0; ok && j < x.count; j++) {
        int32_t v = qt == RQ__Q_U8 ? (int32_t)qv[j] : (int32_t)(int8_t)qv[j];
        ok = v == ((int32_t *)q.data)[j] && same_bits(back[j], ((float *)deq.data)[j]);
      }
      CHECK(ok, "%s golden %s differs from torch", isa, name);
      free(qv), free(back);
    }
    free(x.data), free(params.data), free(zp.data), free(q.data), free(deq.data);
  }
  for (int i = 0; i < 2; i++) {
    snprintf(name, sizeof name, "lsq%d", i);
    npy x, dy, params, qparams, dx, sums;
    if (npy_load(name, "x", &x) && npy_load(name, "dy", &dy) && npy_load(name, "params", &params) &&
        npy_load(name, "qparams", &qparams) && npy_load(name, "dx", &dx) &&
        npy_load(name, "dscale_dzp", &sums)) {
      float *p = params.data, *out = malloc(x.count * 4);
      int32_t *qp = qparams.data;
      double ds = 0.0, dz = 0.0, *ref = sums.data;
      bool ok = out != NULL;
      if (ok) k->lsq_backward(x.data, dy.data, out, x.count, p[0], qp[0], qp[1], qp[2], p[1], &ds, &dz);
      /* dx is exact; torch sums float partials in its own order: float accuracy */
      ok = ok && memcmp(out, dx.data, x.count * 4) == 0 &&
           fabs(ds - ref[0]) <= 1e-4 * (fabs(ref[0]) + 1e-3) &&
           fabs(dz - ref[1]) <= 1e-4 * (fabs(ref[1]) + 1e-3);
      CHECK(ok, "%s golden %s differs from torch", isa, name);
      free(out);
    }
    free(x.data), free(dy.data), free(params.data), free(qparams.data), free(dx.data), free(sums.data);
  }
  CHECK(rq__kernels_force(NULL) == RQ_OK, "back to the automatic choice");
}

/* argv[1]: the golden directory (tests/kernels/golden). */
int main(int argc, char **argv) {
  extern const struct rq__kernels rq__kernels_neon, rq__kernels_scalar;
  const struct rq__kernels *k = rq__kernels_get("neon");
  dispatch_picks_neon(k);
  if (k == NULL) k = &rq__kernels_neon; /* still compare the row itself */
  const struct rq__kernels *s = &rq__kernels_scalar;
  CHECK(strcmp(k->isa, "neon") == 0 && strcmp(s->isa, "scalar") == 0, "row names %s %s", k->isa, s->isa);

  elementwise(k, s);
  channels(k, s);
  large(k, s);
  strided_tensors();
  if (argc > 1) {
    golden_dir = argv[1];
    golden_for_isa("scalar");
    golden_for_isa("neon");
  } else {
    CHECK(false, "usage: neon_vs_scalar GOLDEN_DIR (tests/kernels/golden)");
  }

  printf("neon: %lu passed, %lu failed\n", checks_passed, checks_failed);
  return checks_failed == 0 ? 0 : 1;
}

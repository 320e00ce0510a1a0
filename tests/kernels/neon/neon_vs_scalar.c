/* SPDX-License-Identifier: Apache-2.0 */
/* The NEON row against the scalar row, bit for bit, run under qemu-aarch64 by
 * run_neon_qemu.sh. Plain C (no Check: there is no arm64 build of it here).
 * The row-against-scalar checks and their inputs are test_kernels.c's
 * (tests/kernels/row_checks.h and kernel_cases.h, shared), plus the DLTensor
 * walkers on strided views run once with each row forced. Every field of struct rq__kernels is compared.
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

#include "../row_checks.h"

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

  rng_state = 0x1234567u;
  check_row_elementwise(k, s);
  rng_state = 0xabcdefu;
  check_row_channels(k, s);
  check_row_large(k, s);
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

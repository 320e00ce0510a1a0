/* SPDX-License-Identifier: Apache-2.0 */
/* Kernel tests: every SIMD row this CPU supports against the scalar row, bit
 * for bit, on random and adversarial inputs; the scalar row and the tensor
 * walkers against PyTorch 1.13 (golden files written by gen_golden.py); the
 * strided walkers against a plain index loop; dispatch and argument errors. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/kernels.h"

#if defined(__x86_64__)
#  include <immintrin.h>
#endif

static const char *const simd_isas[] = { "sse41", "avx2", "neon" };
#define SIMD_ISA_COUNT 3

#include "kernel_cases.h"

/* ---- every SIMD row against scalar (the checks: row_checks.h) ---- */

#define CHECK(cond, ...) ck_assert_msg(cond, __VA_ARGS__)
#include "row_checks.h"

static const struct rq__kernels *row_or_skip(int i) {
  const struct rq__kernels *k = rq__kernels_get(simd_isas[i]);
  if (k == NULL) printf("kernels: skipping %s (not available on this CPU/build)\n", simd_isas[i]);
  return k;
}

START_TEST(simd_elementwise_matches_scalar) {
  const struct rq__kernels *k = row_or_skip(_i), *s = rq__kernels_get("scalar");
  if (k == NULL) return;
  ck_assert_ptr_nonnull(s);
  rng_state = 0x1234567u + (uint64_t)_i;
  check_row_elementwise(k, s);
}
END_TEST

START_TEST(simd_channels_match_scalar) {
  const struct rq__kernels *k = row_or_skip(_i), *s = rq__kernels_get("scalar");
  if (k == NULL) return;
  rng_state = 0xabcdefu + (uint64_t)_i;
  check_row_channels(k, s);
}
END_TEST

/* Outputs of 16 MiB and more take the streaming-store path. */
START_TEST(simd_large_fake_quant_matches_scalar) {
  const struct rq__kernels *k = row_or_skip(_i), *s = rq__kernels_get("scalar");
  if (k == NULL) return;
  check_row_large(k, s);
}
END_TEST

/* ---- conversions: scalar code against the hardware's F16C ---- */

#if defined(__x86_64__)
__attribute__((target("f16c"))) static uint16_t hw_f32_to_f16(float f) {
  return (uint16_t)_cvtss_sh(f, _MM_FROUND_TO_NEAREST_INT);
}
__attribute__((target("f16c"))) static float hw_f16_to_f32(uint16_t h) { return _cvtsh_ss(h); }
#endif

START_TEST(f16_conversions_match_f16c) {
#if defined(__x86_64__)
  if (!__builtin_cpu_supports("avx2")) { /* our AVX2 gate implies F16C */
    printf("kernels: skipping the F16C oracle (no F16C)\n");
    return;
  }
  for (uint32_t h = 0; h < 65536; h++) {
    float a = rq__f16_to_f32((uint16_t)h), b = hw_f16_to_f32((uint16_t)h);
    bool nan = isnan(a) && isnan(b);
    ck_assert_msg(nan || bits_of(a) == bits_of(b), "f16 %04x: %a vs F16C %a", h, (double)a, (double)b);
  }
  rng_state = 77;
  for (int i = 0; i < 2000000; i++) {
    float f = from_bits((uint32_t)rng_next());
    if (i & 1) f = from_bits((uint32_t)(0x33000000u + rng_next() % 0x14800000u)); /* half's range */
    if (isnan(f)) continue;
    ck_assert_msg(rq__f32_to_f16(f) == hw_f32_to_f16(f), "f32 %a -> %04x vs F16C %04x", (double)f,
                  rq__f32_to_f16(f), hw_f32_to_f16(f));
  }
  /* every tie between adjacent halves rounds to even */
  for (uint32_t h = 0; h < 0x7bff; h++) {
    float mid = (rq__f16_to_f32((uint16_t)h) + rq__f16_to_f32((uint16_t)(h + 1))) * 0.5f;
    ck_assert_uint_eq(rq__f32_to_f16(mid), hw_f32_to_f16(mid));
  }
#else
  printf("kernels: skipping the F16C oracle (not x86-64)\n");
#endif
}
END_TEST

/* ---- golden files from PyTorch ---- */

typedef struct npy {
  char descr[8];
  int ndim;
  int64_t shape[8];
  size_t count;
  void *data;
} npy;

static void npy_load(const char *name, const char *field, npy *out) {
  const char *root = getenv("RAZORQ_SOURCE_ROOT");
  char path[1024];
  snprintf(path, sizeof path, "%s/tests/kernels/golden/%s.%s.npy", root ? root : ".", name, field);
  FILE *f = fopen(path, "rb");
  ck_assert_msg(f != NULL, "cannot open %s", path);
  unsigned char pre[10];
  ck_assert_uint_eq(fread(pre, 1, 10, f), 10);
  ck_assert_msg(memcmp(pre, "\x93NUMPY\x01", 7) == 0, "%s: not a .npy v1 file", path);
  size_t hlen = (size_t)pre[8] | (size_t)pre[9] << 8;
  char header[1024];
  ck_assert(hlen < sizeof header);
  ck_assert_uint_eq(fread(header, 1, hlen, f), hlen);
  header[hlen] = '\0';
  const char *d = strstr(header, "'descr': '");
  ck_assert_ptr_nonnull(d);
  sscanf(d + 10, "%7[^']", out->descr);
  ck_assert_msg(strstr(header, "'fortran_order': False") != NULL, "%s: fortran order", path);
  const char *s = strstr(header, "'shape': (");
  ck_assert_ptr_nonnull(s);
  s += 10;
  out->ndim = 0;
  out->count = 1;
  while (*s != ')') {
    char *end;
    long long v = strtoll(s, &end, 10);
    if (end == s) break;
    out->shape[out->ndim++] = v;
    out->count *= (size_t)v;
    s = end;
    while (*s == ',' || *s == ' ') s++;
  }
  size_t es = (size_t)atoi(out->descr + 2);
  out->data = malloc(out->count * es + 1);
  ck_assert_uint_eq(fread(out->data, es, out->count, f), out->count);
  fclose(f);
}

static void npy_free(npy *n) { free(n->data); }

static DLTensor tensor_of(npy *n, DLDataType dtype) {
  DLTensor t = { 0 };
  t.data = n->data;
  t.device.device_type = kDLCPU;
  t.ndim = n->ndim;
  t.shape = n->shape;
  t.dtype = dtype;
  return t;
}
static const DLDataType f32_type = { kDLFloat, 32, 1 }, f16_type = { kDLFloat, 16, 1 };

/* PyTorch's min/max may be -0.0 where razorq's is +0.0; all else is exact. */
static void assert_same_value(float ours, float torch, const char *what) {
  ck_assert_msg(ours == torch && (ours == 0.0f || bits_of(ours) == bits_of(torch)),
                "%s: razorq %a, torch %a", what, (double)ours, (double)torch);
}

static void golden_for_isa(const char *isa) {
  ck_assert_int_eq(rq__kernels_force(isa), RQ_OK);
  ck_assert_str_eq(rq__kernels()->isa, isa);
  char name[64];
  for (int i = 0; i < 5; i++) {
    if (i < 4) snprintf(name, sizeof name, "minmax%d", i);
    else snprintf(name, sizeof name, "minmax_f16");
    npy x, ref;
    npy_load(name, "x", &x);
    npy_load(name, "minmax", &ref);
    DLTensor t = tensor_of(&x, i < 4 ? f32_type : f16_type);
    float mn = INFINITY, mx = -INFINITY;
    uint64_t bad = 0;
    ck_assert_int_eq(rq__tensor_minmax(&t, &mn, &mx, &bad), RQ_OK);
    assert_same_value(mn, ((float *)ref.data)[0], name);
    assert_same_value(mx, ((float *)ref.data)[1], name);
    ck_assert_uint_eq(bad, 0);
    npy_free(&x), npy_free(&ref);
  }
  const char *channel_cases[] = { "channels_nchw", "channels_oihw", "channels_nc" };
  for (int i = 0; i < 3; i++) {
    npy x, axis, rmin, rmax;
    npy_load(channel_cases[i], "x", &x);
    npy_load(channel_cases[i], "axis", &axis);
    npy_load(channel_cases[i], "min", &rmin);
    npy_load(channel_cases[i], "max", &rmax);
    DLTensor t = tensor_of(&x, f32_type);
    float mins[64], maxs[64];
    for (int c = 0; c < 64; c++) mins[c] = INFINITY, maxs[c] = -INFINITY;
    uint64_t bad = 0;
    ck_assert_int_eq(rq__tensor_minmax_channels(&t, ((int32_t *)axis.data)[0], mins, maxs, &bad), RQ_OK);
    for (size_t c = 0; c < rmin.count; c++) {
      assert_same_value(mins[c], ((float *)rmin.data)[c], channel_cases[i]);
      assert_same_value(maxs[c], ((float *)rmax.data)[c], channel_cases[i]);
    }
    npy_free(&x), npy_free(&axis), npy_free(&rmin), npy_free(&rmax);
  }
  for (int i = 0; i < 4; i++) {
    snprintf(name, sizeof name, "histc%d", i);
    npy x, range, counts;
    npy_load(name, "x", &x);
    npy_load(name, "range", &range);
    npy_load(name, "counts", &counts);
    DLTensor t = tensor_of(&x, f32_type);
    uint64_t ours[2048] = { 0 };
    float *r = range.data;
    ck_assert_int_eq(rq__tensor_histogram(&t, r[0], r[1], ours, counts.count), RQ_OK);
    for (size_t b = 0; b < counts.count; b++)
      ck_assert_msg((double)ours[b] == ((double *)counts.data)[b], "%s bin %zu: %llu vs torch %g",
                    name, b, (unsigned long long)ours[b], ((double *)counts.data)[b]);
    /* the fused pass gives the same histogram (and min/max, checked against scalar above) */
    memset(ours, 0, sizeof ours);
    float mn = INFINITY, mx = -INFINITY;
    uint64_t bad = 0;
    ck_assert_int_eq(rq__tensor_minmax_histogram(&t, r[0], r[1], ours, counts.count, &mn, &mx, &bad),
                     RQ_OK);
    for (size_t b = 0; b < counts.count; b++)
      ck_assert_msg((double)ours[b] == ((double *)counts.data)[b], "%s fused bin %zu", name, b);
    npy_free(&x), npy_free(&range), npy_free(&counts);
  }
  for (int i = 0; i < 9; i++) {
    bool half = i >= 6;
    if (half) snprintf(name, sizeof name, "fqh%d", i - 6);
    else snprintf(name, sizeof name, "fq%d", i);
    npy x, params, qparams, y;
    npy_load(name, "x", &x);
    npy_load(name, "params", &params);
    npy_load(name, "qparams", &qparams);
    npy_load(name, "y", &y);
    DLTensor tx = tensor_of(&x, half ? f16_type : f32_type);
    size_t es = half ? 2 : 4;
    void *out = malloc(x.count * es);
    uint8_t *mask = malloc(x.count);
    DLTensor ty = tx;
    ty.data = out;
    int32_t *qp = qparams.data;
    ck_assert_int_eq(rq__tensor_fake_quant(&tx, &ty, mask, RQ__PER_TENSOR, params.data, &qp[0],
                                           qp[1], qp[2]), RQ_OK);
    for (size_t j = 0; j < x.count; j++)
      ck_assert_msg(memcmp((char *)out + j * es, (char *)y.data + j * es, es) == 0,
                    "%s element %zu differs from torch", name, j);
    if (!half) {
      npy m;
      npy_load(name, "mask", &m);
      ck_assert_msg(memcmp(mask, m.data, x.count) == 0, "%s mask differs from torch", name);
      npy_free(&m);
    }
    free(out), free(mask);
    npy_free(&x), npy_free(&params), npy_free(&qparams), npy_free(&y);
  }
  const char *fqc_cases[] = { "fqc_nchw", "fqc_oihw", "fqc_nc" };
  for (int i = 0; i < 3; i++) {
    npy x, scale, qparams, zp, y, m;
    npy_load(fqc_cases[i], "x", &x);
    npy_load(fqc_cases[i], "scale", &scale);
    npy_load(fqc_cases[i], "qparams", &qparams);
    npy_load(fqc_cases[i], "zero_point", &zp);
    npy_load(fqc_cases[i], "y", &y);
    npy_load(fqc_cases[i], "mask", &m);
    DLTensor tx = tensor_of(&x, f32_type), ty = tx;
    float *out = malloc(x.count * 4);
    uint8_t *mask = malloc(x.count);
    ty.data = out;
    int32_t *qp = qparams.data;
    ck_assert_int_eq(rq__tensor_fake_quant(&tx, &ty, mask, qp[0], scale.data, zp.data, qp[1], qp[2]),
                     RQ_OK);
    ck_assert_msg(memcmp(out, y.data, x.count * 4) == 0, "%s differs from torch", fqc_cases[i]);
    ck_assert_msg(memcmp(mask, m.data, x.count) == 0, "%s mask differs from torch", fqc_cases[i]);
    free(out), free(mask);
    npy_free(&x), npy_free(&scale), npy_free(&qparams), npy_free(&zp), npy_free(&y), npy_free(&m);
  }
  const struct rq__kernels *k = rq__kernels();
  for (int i = 0; i < 3; i++) {
    snprintf(name, sizeof name, "quant%d", i);
    npy x, params, zp, q, deq;
    npy_load(name, "x", &x);
    npy_load(name, "params", &params);
    npy_load(name, "zp", &zp);
    npy_load(name, "q", &q);
    npy_load(name, "deq", &deq);
    rq__qtype qt = i == 1 ? RQ__Q_U8 : RQ__Q_I8;
    int32_t lo = qt == RQ__Q_U8 ? 0 : -128, hi = qt == RQ__Q_U8 ? 255 : 127;
    float scale = ((float *)params.data)[0];
    int32_t z = ((int32_t *)zp.data)[0];
    unsigned char *qv = malloc(x.count);
    float *back = malloc(x.count * 4);
    k->quantize[qt](x.data, qv, x.count, scale, z, lo, hi);
    k->dequantize[qt](qv, back, x.count, scale, z);
    for (size_t j = 0; j < x.count; j++) {
      int32_t ours = qt == RQ__Q_U8 ? (int32_t)qv[j] : (int32_t)(int8_t)qv[j];
      ck_assert_msg(ours == ((int32_t *)q.data)[j], "%s element %zu: %d vs torch %d", name, j, ours,
                    ((int32_t *)q.data)[j]);
      ck_assert_msg(bits_of(back[j]) == bits_of(((float *)deq.data)[j]),
                    "%s dequantized element %zu: %a vs torch %a", name, j, (double)back[j],
                    (double)((float *)deq.data)[j]);
    }
    free(qv), free(back);
    npy_free(&x), npy_free(&params), npy_free(&zp), npy_free(&q), npy_free(&deq);
  }
  for (int i = 0; i < 2; i++) {
    snprintf(name, sizeof name, "lsq%d", i);
    npy x, dy, params, qparams, dx, sums;
    npy_load(name, "x", &x);
    npy_load(name, "dy", &dy);
    npy_load(name, "params", &params);
    npy_load(name, "qparams", &qparams);
    npy_load(name, "dx", &dx);
    npy_load(name, "dscale_dzp", &sums);
    float *p = params.data;
    int32_t *qp = qparams.data;
    float *out = malloc(x.count * 4);
    double ds = 0.0, dz = 0.0;
    k->lsq_backward(x.data, dy.data, out, x.count, p[0], qp[0], qp[1], qp[2], p[1], &ds, &dz);
    ck_assert_msg(memcmp(out, dx.data, x.count * 4) == 0, "%s dx differs from torch", name);
    double *ref = sums.data;
    /* torch sums float partials in its own order: agree to float accuracy */
    ck_assert_msg(fabs(ds - ref[0]) <= 1e-4 * (fabs(ref[0]) + 1e-3), "%s dscale %.9g vs torch %.9g",
                  name, ds, ref[0]);
    ck_assert_msg(fabs(dz - ref[1]) <= 1e-4 * (fabs(ref[1]) + 1e-3), "%s dzero_point %.9g vs torch %.9g",
                  name, dz, ref[1]);
    free(out);
    npy_free(&x), npy_free(&dy), npy_free(&params), npy_free(&qparams), npy_free(&dx), npy_free(&sums);
  }
  ck_assert_int_eq(rq__kernels_force(NULL), RQ_OK);
}

static const char *const all_isas[] = { "scalar", "sse41", "avx2", "neon" };

START_TEST(golden_pytorch) {
  if (rq__kernels_get(all_isas[_i]) == NULL) {
    printf("kernels: skipping golden tests for %s (not available)\n", all_isas[_i]);
    return;
  }
  golden_for_isa(all_isas[_i]);
}
END_TEST

/* ---- strided tensors against a plain index loop ---- */

/* x: logical shape [4, 5, 6] stored transposed ([6][5][4] memory) or as every
 * second element of a [4][5][12] buffer. */
static void make_views(float *storage, DLTensor *views, int64_t *shape, int64_t (*strides)[3]) {
  shape[0] = 4, shape[1] = 5, shape[2] = 6;
  for (int i = 0; i < 4 * 5 * 12; i++) storage[i] = rng_normal();
  storage[17] = NAN; /* inside both views? counted wherever it lands */
  int64_t s[3][3] = { { 1, 4, 20 }, { 60, 12, 2 }, { 30, 6, 1 } };
  for (int v = 0; v < 3; v++) {
    memcpy(strides[v], s[v], sizeof s[v]);
    memset(&views[v], 0, sizeof views[v]);
    views[v].data = storage;
    views[v].device.device_type = kDLCPU;
    views[v].ndim = 3;
    views[v].shape = shape;
    views[v].strides = strides[v];
    views[v].dtype = f32_type;
  }
}

static float at3(const DLTensor *t, int i, int j, int k) {
  return ((float *)t->data)[i * t->strides[0] + j * t->strides[1] + k * t->strides[2]];
}

START_TEST(strided_tensors_match_index_loop) {
  const struct rq__kernels *s = rq__kernels_get("scalar");
  static float storage[4 * 5 * 12];
  DLTensor views[3];
  int64_t shape[3], strides[3][3];
  rng_state = 99;
  make_views(storage, views, shape, strides);
  for (int v = 0; v < 3; v++) {
    DLTensor *t = &views[v];
    float flat[120];
    for (int i = 0, n = 0; i < 4; i++)
      for (int j = 0; j < 5; j++)
        for (int k = 0; k < 6; k++) flat[n++] = at3(t, i, j, k);
    /* per tensor */
    float mn = INFINITY, mx = -INFINITY, rmn = INFINITY, rmx = -INFINITY;
    uint64_t bad = 0, rbad = 0;
    ck_assert_int_eq(rq__tensor_minmax(t, &mn, &mx, &bad), RQ_OK);
    s->minmax[RQ__ELEM_F32](flat, 120, &rmn, &rmx, &rbad);
    ck_assert(bits_of(mn) == bits_of(rmn) && bits_of(mx) == bits_of(rmx) && bad == rbad);
    /* per channel along each axis */
    for (int axis = 0; axis < 3; axis++) {
      float mins[6], maxs[6], rmins[6], rmaxs[6];
      for (int c = 0; c < 6; c++) mins[c] = rmins[c] = INFINITY, maxs[c] = rmaxs[c] = -INFINITY;
      uint64_t b1 = 0, b2 = 0;
      ck_assert_int_eq(rq__tensor_minmax_channels(t, axis - 3, mins, maxs, &b1), RQ_OK);
      for (int i = 0, n = 0; i < 4; i++)
        for (int j = 0; j < 5; j++)
          for (int k = 0; k < 6; k++, n++) {
            int c = axis == 0 ? i : (axis == 1 ? j : k);
            float x = flat[n];
            if (!isfinite(x)) { b2++; continue; }
            if (x < rmins[c]) rmins[c] = x;
            if (x > rmaxs[c]) rmaxs[c] = x;
          }
      ck_assert_uint_eq(b1, b2);
      for (int c = 0; c < shape[axis]; c++) ck_assert(mins[c] == rmins[c] && maxs[c] == rmaxs[c]);
    }
    /* histogram */
    uint64_t h1[16] = { 0 }, h2[16] = { 0 };
    ck_assert_int_eq(rq__tensor_histogram(t, -1.0f, 1.0f, h1, 16), RQ_OK);
    s->histogram[RQ__ELEM_F32](flat, 120, -1.0f, 1.0f, h2, 16);
    ck_assert(memcmp(h1, h2, sizeof h1) == 0);
    /* fake-quant: strided x into a differently strided y, per tensor and per channel */
    static float ystore[4 * 5 * 12];
    DLTensor y = views[(v + 1) % 3];
    y.data = ystore;
    uint8_t mask[120], rmask[120];
    float ref[120];
    float scale[6] = { 0.01f, 0.02f, 0.05f, 0.1f, 0.03f, 0.2f };
    int32_t zp[6] = { 0, 1, -2, 3, 4, 5 };
    for (int axis = -1; axis < 3; axis++) {
      int a = axis < 0 ? RQ__PER_TENSOR : axis;
      ck_assert_int_eq(rq__tensor_fake_quant(t, &y, mask, a, scale, zp, -128, 127), RQ_OK);
      for (int i = 0, n = 0; i < 4; i++)
        for (int j = 0; j < 5; j++)
          for (int k = 0; k < 6; k++, n++) {
            int c = axis < 0 ? 0 : (axis == 0 ? i : (axis == 1 ? j : k));
            s->fake_quant[RQ__ELEM_F32](&flat[n], &ref[n], &rmask[n], 1, scale[c], zp[c], -128, 127);
            ck_assert_msg(bits_of(at3(&y, i, j, k)) == bits_of(ref[n]) && mask[n] == rmask[n],
                          "view %d axis %d element %d", v, axis, n);
          }
    }
  }
}
END_TEST

START_TEST(bad_arguments_fail_cleanly) {
  float data[4] = { 1, 2, 3, 4 };
  int64_t shape[1] = { 4 };
  DLTensor t = { 0 };
  t.data = data, t.device.device_type = kDLCPU, t.ndim = 1, t.shape = shape, t.dtype = f32_type;
  float mn = INFINITY, mx = -INFINITY;
  uint64_t bad = 0;
  ck_assert_int_eq(rq__tensor_minmax(NULL, &mn, &mx, &bad), RQ_ERR_INVALID_ARG);
  ck_assert_int_eq(rq__tensor_minmax(&t, NULL, &mx, &bad), RQ_ERR_INVALID_ARG);
  DLTensor ti = t;
  ti.dtype.code = kDLInt;
  ck_assert_int_eq(rq__tensor_minmax(&ti, &mn, &mx, &bad), RQ_ERR_UNSUPPORTED);
  ck_assert_ptr_nonnull(strstr(rq_last_error(), "dtype"));
  DLTensor tg = t;
  tg.device.device_type = kDLCUDA;
  ck_assert_int_eq(rq__tensor_minmax(&tg, &mn, &mx, &bad), RQ_ERR_UNSUPPORTED);
  int64_t neg[1] = { -1 };
  DLTensor tn = t;
  tn.shape = neg;
  ck_assert_int_eq(rq__tensor_minmax(&tn, &mn, &mx, &bad), RQ_ERR_INVALID_ARG);
  ck_assert(mn == INFINITY && mx == -INFINITY && bad == 0); /* untouched */
  float mins[4] = { 9, 9, 9, 9 }, maxs[4] = { 9, 9, 9, 9 };
  ck_assert_int_eq(rq__tensor_minmax_channels(&t, 1, mins, maxs, &bad), RQ_ERR_INVALID_ARG);
  ck_assert_int_eq(rq__tensor_minmax_channels(&t, -2, mins, maxs, &bad), RQ_ERR_INVALID_ARG);
  ck_assert(mins[0] == 9 && maxs[3] == 9);
  uint64_t counts[4] = { 0 };
  ck_assert_int_eq(rq__tensor_histogram(&t, 1.0f, 1.0f, counts, 4), RQ_ERR_INVALID_ARG);
  ck_assert_int_eq(rq__tensor_histogram(&t, 0.0f, INFINITY, counts, 4), RQ_ERR_INVALID_ARG);
  ck_assert_int_eq(rq__tensor_histogram(&t, 0.0f, 1.0f, counts, 0), RQ_ERR_INVALID_ARG);
  ck_assert_int_eq(rq__tensor_histogram(&t, -3e38f, 3e38f, counts, 4), RQ_ERR_INVALID_ARG);
  ck_assert(counts[0] == 0 && counts[3] == 0);
  float ydata[4] = { 7, 7, 7, 7 };
  DLTensor y = t;
  y.data = ydata;
  float scale = 0.0f;
  int32_t zp = 0;
  ck_assert_int_eq(rq__tensor_fake_quant(&t, &y, NULL, RQ__PER_TENSOR, &scale, &zp, -128, 127),
                   RQ_ERR_INVALID_ARG);
  scale = 0.1f;
  ck_assert_int_eq(rq__tensor_fake_quant(&t, &y, NULL, RQ__PER_TENSOR, &scale, &zp, 5, 4),
                   RQ_ERR_INVALID_ARG);
  int64_t other[1] = { 3 };
  y.shape = other;
  ck_assert_int_eq(rq__tensor_fake_quant(&t, &y, NULL, RQ__PER_TENSOR, &scale, &zp, -128, 127),
                   RQ_ERR_INVALID_ARG);
  ck_assert(ydata[0] == 7 && ydata[3] == 7);
  /* empty and 0-d tensors */
  int64_t zero[1] = { 0 };
  DLTensor te = t;
  te.shape = zero, te.data = NULL;
  ck_assert_int_eq(rq__tensor_minmax(&te, &mn, &mx, &bad), RQ_OK);
  ck_assert(mn == INFINITY && mx == -INFINITY);
  DLTensor ts = t;
  ts.ndim = 0, ts.shape = NULL;
  ck_assert_int_eq(rq__tensor_minmax(&ts, &mn, &mx, &bad), RQ_OK);
  ck_assert(mn == 1.0f && mx == 1.0f);
}
END_TEST

START_TEST(dispatch_can_be_forced_and_reports_errors) {
  const char *best = rq__kernels_best();
  /* The first choice: RAZORQ_ISA when it names an available row, else the best. */
  const char *env = getenv("RAZORQ_ISA");
  const char *expected = env && rq__kernels_get(env) ? env : best;
  ck_assert_str_eq(rq_kernel_isa(), expected);
  ck_assert_int_eq(rq_kernel_set_isa("scalar"), RQ_OK);
  ck_assert_str_eq(rq_kernel_isa(), "scalar");
  ck_assert_int_eq(rq_kernel_set_isa("avx512"), RQ_ERR_INVALID_ARG);
  ck_assert_ptr_nonnull(strstr(rq_last_error(), "avx512"));
  ck_assert_str_eq(rq_kernel_isa(), "scalar"); /* unchanged */
#if defined(__x86_64__)
  ck_assert_int_eq(rq_kernel_set_isa("neon"), RQ_ERR_ISA);
  ck_assert_str_eq(rq_kernel_isa(), "scalar");
#endif
  for (int i = 0; i < SIMD_ISA_COUNT; i++) {
    rq_status st = rq_kernel_set_isa(simd_isas[i]);
    if (rq__kernels_get(simd_isas[i])) {
      ck_assert_int_eq(st, RQ_OK);
      ck_assert_str_eq(rq_kernel_isa(), simd_isas[i]);
    } else {
      ck_assert_int_eq(st, RQ_ERR_ISA);
    }
  }
  ck_assert_int_eq(rq_kernel_set_isa(NULL), RQ_OK);
  ck_assert_str_eq(rq_kernel_isa(), best);
  printf("kernels: best ISA on this machine: %s\n", best);
}
END_TEST

int main(void) {
  Suite *s = suite_create("kernels");
  /* Its own case, so meson can run it alone under several RAZORQ_ISA values
   * (CK_RUN_CASE=dispatch). */
  TCase *dispatch = tcase_create("dispatch");
  tcase_add_test(dispatch, dispatch_can_be_forced_and_reports_errors);
  suite_add_tcase(s, dispatch);
  TCase *tc = tcase_create("kernels");
  tcase_set_timeout(tc, 600);
  tcase_add_loop_test(tc, simd_elementwise_matches_scalar, 0, SIMD_ISA_COUNT);
  tcase_add_loop_test(tc, simd_channels_match_scalar, 0, SIMD_ISA_COUNT);
  tcase_add_loop_test(tc, simd_large_fake_quant_matches_scalar, 0, SIMD_ISA_COUNT);
  tcase_add_test(tc, f16_conversions_match_f16c);
  tcase_add_loop_test(tc, golden_pytorch, 0, 4);
  tcase_add_test(tc, strided_tensors_match_index_loop);
  tcase_add_test(tc, bad_arguments_fail_cleanly);
  suite_add_tcase(s, tc);
  SRunner *r = srunner_create(s);
  srunner_run_all(r, CK_NORMAL);
  int failed = srunner_ntests_failed(r);
  srunner_free(r);
  return failed == 0 ? 0 : 1;
}

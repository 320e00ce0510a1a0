/* SPDX-License-Identifier: Apache-2.0 */
/* The signal-processing ops of opset 17: DFT, STFT and MelWeightMatrix
 * (and DFT-20, whose axis is an input).
 *
 * DFT and STFT share one transform: a signal line is gathered into double
 * real/imaginary arrays (zero-padded or truncated to the DFT length,
 * multiplied by the STFT window), transformed in place and its bins written
 * back in the input's float type, so every sum is accumulated in double.
 * Power-of-two lengths take an iterative radix-2 FFT; other lengths up to
 * DIRECT_MAX the direct O(n^2) sum, longer ones Bluestein's algorithm (the
 * DFT as a convolution with a chirp, done by power-of-two FFTs), so an
 * n_fft of 400 costs as much as one of 1024. Twiddles and chirps come from
 * cos/sin of each angle, never from a recurrence, so they carry no
 * accumulated error. */
#include "exec/exec.h"

#include <math.h>
#include <string.h>

/* ---- the transform ---- */

/* Non-power-of-two lengths up to this take the direct sum, longer ones
 * Bluestein (three FFTs of at least twice the length cost more below). */
#define DIRECT_MAX 64

typedef struct dft_plan {
  size_t n;
  bool inverse;
  double *re, *im; /* [n]: the line, transformed in place */
  /* m: Bluestein's FFT length (a power of two >= 2n - 1), 0 when n is a
   * power of two or takes the direct sum. The table and the work arrays
   * have m entries (otherwise n). */
  size_t m;
  double *cos_t, *sin_t; /* cos/sin(2 pi k / table length) */
  double *work_re, *work_im;   /* the direct sum's result; Bluestein's convolution */
  double *chirp_re, *chirp_im; /* Bluestein, [n]: e^(-+i pi k^2 / n) */
  double *kern_re, *kern_im;   /* Bluestein, [m]: FFT of the conjugate chirp */
} dft_plan;

static bool is_pow2(size_t n) { return (n & (n - 1)) == 0; }

static void fill_table(double *cos_t, double *sin_t, size_t len) {
  for (size_t k = 0; k < len; k++) {
    double angle = 2 * M_PI * (double)k / (double)len;
    cos_t[k] = cos(angle);
    sin_t[k] = sin(angle);
  }
}

/* Radix-2 decimation in time over len points (a power of two, table of
 * len entries): bit-reversal permutation, then butterflies of growing
 * span; the twiddle of position j in a span of s is entry j * len / s.
 * sign -1: forward, +1: inverse (unscaled). */
static void fft_pow2(const dft_plan *p, size_t len, double sign, double *re, double *im) {
  for (size_t i = 1, j = 0; i < len; i++) {
    size_t bit = len >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j |= bit;
    if (i < j) {
      double t = re[i]; re[i] = re[j]; re[j] = t;
      t = im[i]; im[i] = im[j]; im[j] = t;
    }
  }
  for (size_t span = 2; span <= len; span <<= 1) {
    size_t half = span / 2, step = len / span;
    for (size_t start = 0; start < len; start += span)
      for (size_t j = 0; j < half; j++) {
        double wr = p->cos_t[j * step], wi = sign * p->sin_t[j * step];
        size_t a = start + j, b = a + half;
        double tr = re[b] * wr - im[b] * wi, ti = re[b] * wi + im[b] * wr;
        re[b] = re[a] - tr;
        im[b] = im[a] - ti;
        re[a] += tr;
        im[a] += ti;
      }
  }
}

static rq_status plan_init(rq__op_ctx *c, dft_plan *p, size_t n, bool inverse) {
  *p = (dft_plan){.n = n, .inverse = inverse};
  if (n > SIZE_MAX / 64) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "DFT length %zu is too large", n);
  size_t m = 0, table = n; /* Bluestein only: m, and a table of m */
  if (!is_pow2(n) && n > DIRECT_MAX) {
    for (m = 1; m < 2 * n - 1; m <<= 1) continue;
    table = m;
  }
  /* line [n], table and work [table], Bluestein's chirp [n] and kernel [m] */
  size_t doubles = 2 * n + 4 * table + (m ? 2 * n + 2 * m : 0);
  double *block = rq__malloc_array(doubles, sizeof *block);
  if (block == NULL) return rq__nomem(c->node->op_type, doubles * sizeof *block);
  p->m = m;
  p->re = block;
  p->im = block + n;
  p->cos_t = block + 2 * n;
  p->sin_t = p->cos_t + table;
  p->work_re = p->sin_t + table;
  p->work_im = p->work_re + table;
  fill_table(p->cos_t, p->sin_t, table);
  if (p->m == 0) return RQ_OK;
  /* Bluestein: jk = (j^2 + k^2 - (k - j)^2) / 2 turns the DFT into
   * X[k] = chirp[k] * sum_j (x[j] chirp[j]) conj(chirp[k - j]) with
   * chirp[k] = e^(-+i pi k^2 / n): a convolution, done cyclically over m
   * points with the conjugate chirp wrapped to negative indices. k^2 is
   * kept mod 2n (the chirp's period) without forming it. */
  p->chirp_re = p->work_im + m;
  p->chirp_im = p->chirp_re + n;
  p->kern_re = p->chirp_im + n;
  p->kern_im = p->kern_re + m;
  double sign = inverse ? 1.0 : -1.0;
  for (size_t k = 0, sq = 0; k < n; k++) {
    double angle = M_PI * (double)sq / (double)n;
    p->chirp_re[k] = cos(angle);
    p->chirp_im[k] = sign * sin(angle);
    sq += 2 * k + 1; /* (k + 1)^2 = k^2 + 2k + 1 */
    while (sq >= 2 * n) sq -= 2 * n;
  }
  memset(p->kern_re, 0, 2 * m * sizeof *p->kern_re);
  for (size_t k = 0; k < n; k++) {
    p->kern_re[k] = p->chirp_re[k];
    p->kern_im[k] = -p->chirp_im[k];
    if (k > 0) {
      p->kern_re[m - k] = p->chirp_re[k];
      p->kern_im[m - k] = -p->chirp_im[k];
    }
  }
  fft_pow2(p, m, -1.0, p->kern_re, p->kern_im);
  return RQ_OK;
}

static void plan_free(dft_plan *p) { rq__free(p->re); }

/* X[k] = sum_j x[j] e^(-+2 pi i jk/n); jk mod n walks the table without
 * forming the (possibly overflowing) product. */
static void dft_direct(dft_plan *p) {
  size_t n = p->n;
  double sign = p->inverse ? 1.0 : -1.0;
  for (size_t k = 0; k < n; k++) {
    double sr = 0, si = 0;
    for (size_t j = 0, t = 0; j < n; j++) {
      double wr = p->cos_t[t], wi = sign * p->sin_t[t];
      sr += p->re[j] * wr - p->im[j] * wi;
      si += p->re[j] * wi + p->im[j] * wr;
      t += k;
      if (t >= n) t -= n;
    }
    p->work_re[k] = sr;
    p->work_im[k] = si;
  }
  memcpy(p->re, p->work_re, n * sizeof *p->re);
  memcpy(p->im, p->work_im, n * sizeof *p->im);
}

static void dft_bluestein(dft_plan *p) {
  size_t n = p->n, m = p->m;
  double *ar = p->work_re, *ai = p->work_im;
  for (size_t k = 0; k < n; k++) {
    ar[k] = p->re[k] * p->chirp_re[k] - p->im[k] * p->chirp_im[k];
    ai[k] = p->re[k] * p->chirp_im[k] + p->im[k] * p->chirp_re[k];
  }
  memset(ar + n, 0, (m - n) * sizeof *ar);
  memset(ai + n, 0, (m - n) * sizeof *ai);
  fft_pow2(p, m, -1.0, ar, ai);
  for (size_t k = 0; k < m; k++) {
    double r = ar[k] * p->kern_re[k] - ai[k] * p->kern_im[k];
    ai[k] = ar[k] * p->kern_im[k] + ai[k] * p->kern_re[k];
    ar[k] = r;
  }
  fft_pow2(p, m, 1.0, ar, ai);
  for (size_t k = 0; k < n; k++) {
    double r = ar[k] / (double)m, i = ai[k] / (double)m;
    p->re[k] = r * p->chirp_re[k] - i * p->chirp_im[k];
    p->im[k] = r * p->chirp_im[k] + i * p->chirp_re[k];
  }
}

/* Transforms p->re/p->im in place; the inverse is scaled by 1/n. */
static void transform(dft_plan *p) {
  if (is_pow2(p->n)) fft_pow2(p, p->n, p->inverse ? 1.0 : -1.0, p->re, p->im);
  else if (p->m == 0) dft_direct(p);
  else dft_bluestein(p);
  if (p->inverse)
    for (size_t k = 0; k < p->n; k++) {
      p->re[k] /= (double)p->n;
      p->im[k] /= (double)p->n;
    }
}

/* ---- input checks shared by the ops ---- */

static bool is_float_type(int32_t dtype) {
  return dtype == RQ__DT_FLOAT || dtype == RQ__DT_DOUBLE || dtype == RQ__DT_FLOAT16 || dtype == RQ__DT_BFLOAT16;
}

static rq_status need_float_type(const rq__op_ctx *c, int i, const char *name, const rq__tensor **t) {
  RQ_TRY(rq__op_need(c, i, t));
  if (!is_float_type((*t)->dtype))
    return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "%s has element type %s; FLOAT, DOUBLE, FLOAT16 or BFLOAT16 expected",
                      name, rq__dtype_name((*t)->dtype));
  return RQ_OK;
}

/* A scalar (one-element) integer input; *given false when it is omitted
 * (absent and optional). */
static rq_status scalar_int(const rq__op_ctx *c, int i, const char *name, bool required, int64_t *v, bool *given) {
  const rq__tensor *t = rq__op_in(c, i);
  *given = t != NULL;
  if (t == NULL) return required ? RQ_OP_FAIL(c, RQ_ERR_FORMAT, "input %s is required", name) : RQ_OK;
  if ((t->dtype != RQ__DT_INT64 && t->dtype != RQ__DT_INT32) || t->numel != 1)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "%s must be one INT32 or INT64 value", name);
  *v = t->dtype == RQ__DT_INT64 ? *(const int64_t *)t->data : *(const int32_t *)t->data;
  return RQ_OK;
}

static rq_status bool_attr(const rq__op_ctx *c, const char *name, int64_t dflt, bool *v) {
  int64_t a = rq__node_attr_int(c->node, name, dflt);
  if (a != 0 && a != 1) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "%s must be 0 or 1, got %lld", name, (long long)a);
  *v = a != 0;
  return RQ_OK;
}

/* ---- DFT ---- */

/* x [batch, signal dims..., 1|2]; the transform runs along `axis` (a signal
 * dim; since opset 20 the batch dim too) for every position of the others. */
static rq_status op_dft(rq__op_ctx *c) {
  const rq__tensor *x;
  RQ_TRY(need_float_type(c, 0, "input", &x));
  int r = x->ndim;
  if (r < 3)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "input has rank %d; expected [batch, signal dims..., 1 or 2]", r);
  int64_t parts = x->dims[r - 1];
  if (parts != 1 && parts != 2)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "input's last dimension is %lld; it must be 1 (real) or 2 (complex)",
                      (long long)parts);
  /* Opset 20 made axis an input (default -2, the last signal axis) and let
   * it be the batch axis 0 too; opset 17 has the attribute, default 1. */
  bool since20 = c->opset >= 20, given;
  int64_t axis = 1, first = 1;
  if (since20) {
    if (rq__node_attr(c->node, "axis") != NULL)
      return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "axis is an attribute; since opset 20 it is the third input");
    axis = -2;
    first = 0;
    RQ_TRY(scalar_int(c, 2, "axis", false, &axis, &given));
  } else {
    axis = rq__node_attr_int(c->node, "axis", 1);
  }
  int64_t axis_given = axis;
  if (axis < 0) axis += r;
  if (axis < first || axis > r - 2)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "axis %lld is out of range: the signal axes of a rank-%d input are %lld..%d",
                      (long long)axis_given, r, (long long)first, r - 2);
  bool inverse = false, onesided = false;
  RQ_TRY(bool_attr(c, "inverse", 0, &inverse));
  RQ_TRY(bool_attr(c, "onesided", 0, &onesided));
  /* Opset 20's onesided inverse is the IRFFT: a complex one-sided
   * spectrum in, the real signal of dft_length (default 2 (bins - 1)) out,
   * the missing bins being the conjugates of the given ones. */
  bool irfft = since20 && onesided && inverse;
  if (onesided && parts == 2 && !irfft)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "onesided output needs a real input (last dimension 1), not a complex one");
  if (irfft && parts != 2)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "onesided inverse (IRFFT) needs a complex input (last dimension 2)");
  int64_t n_in = x->dims[axis], n = irfft ? 2 * (n_in - 1) : n_in;
  RQ_TRY(scalar_int(c, 1, "dft_length", false, &n, &given));
  if (n <= 0) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "the DFT length must be positive, got %lld", (long long)n);

  int64_t bins = onesided && !irfft ? n / 2 + 1 : n, dims[RQ__MAX_RANK];
  memcpy(dims, x->dims, sizeof dims);
  dims[axis] = bins;
  dims[r - 1] = irfft ? 1 : 2;
  rq__tensor *y;
  RQ_TRY(rq__op_output_uninit(c, 0, x->dtype, r, dims, &y));
  size_t outer = 1, inner = 1;
  for (int d = 0; d < axis; d++) outer *= (size_t)x->dims[d];
  for (int d = (int)axis + 1; d < r - 1; d++) inner *= (size_t)x->dims[d];
  if (y->numel == 0) return RQ_OK;
  dft_plan p;
  RQ_TRY(plan_init(c, &p, (size_t)n, inverse));
  /* IRFFT: input bins 0..n/2 are given, bin n - j is bin j's conjugate. */
  size_t given_bins = irfft ? (size_t)n / 2 + 1 : (size_t)n;
  size_t used = (size_t)n_in < given_bins ? (size_t)n_in : given_bins, np = (size_t)parts;
  size_t out_parts = (size_t)dims[r - 1];
  for (size_t o = 0; o < outer; o++)
    for (size_t i = 0; i < inner; i++) {
      for (size_t j = 0; j < (size_t)n; j++) {
        bool mirror = j >= given_bins;
        size_t src = mirror ? (size_t)n - j : j, at = ((o * (size_t)n_in + src) * inner + i) * np;
        p.re[j] = src < used ? rq__elem_get(x->data, x->dtype, at) : 0.0;
        p.im[j] = src < used && np == 2 ? rq__elem_get(x->data, x->dtype, at + 1) : 0.0;
        if (mirror) p.im[j] = -p.im[j];
      }
      transform(&p);
      for (size_t k = 0; k < (size_t)bins; k++) {
        size_t at = ((o * (size_t)bins + k) * inner + i) * out_parts;
        rq__elem_set(y->data, y->dtype, at, p.re[k]);
        if (out_parts == 2) rq__elem_set(y->data, y->dtype, at + 1, p.im[k]);
      }
    }
  plan_free(&p);
  return RQ_OK;
}

/* ---- STFT ---- */

/* signal [batch, length, 1|2] -> [batch, frames, bins, 2]: frame f is the
 * DFT of samples [f * frame_step, f * frame_step + frame_length) times the
 * window (when given); frames that would run past the end are not taken. */
static rq_status op_stft(rq__op_ctx *c) {
  const rq__tensor *x, *window = rq__op_in(c, 2);
  RQ_TRY(need_float_type(c, 0, "signal", &x));
  if (x->ndim != 3 || (x->dims[2] != 1 && x->dims[2] != 2))
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "signal must have shape [batch, length, 1 or 2], got rank %d%s", x->ndim,
                      x->ndim == 3 ? " with a last dimension other than 1 or 2" : "");
  bool onesided = true, given_len, given_step;
  RQ_TRY(bool_attr(c, "onesided", 1, &onesided));
  size_t parts = (size_t)x->dims[2];
  if (onesided && parts == 2)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "onesided output needs a real signal; set onesided=0 for a complex one");
  int64_t step = 0, frame_length = 0;
  RQ_TRY(scalar_int(c, 1, "frame_step", true, &step, &given_step));
  if (step <= 0) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "frame_step must be positive, got %lld", (long long)step);
  RQ_TRY(scalar_int(c, 3, "frame_length", false, &frame_length, &given_len));
  if (window != NULL) {
    RQ_TRY(need_float_type(c, 2, "window", &window));
    if (window->ndim != 1) return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "window must have rank 1, got %d", window->ndim);
    if (given_len && window->dims[0] != frame_length)
      return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "window has %lld values but frame_length is %lld",
                        (long long)window->dims[0], (long long)frame_length);
    frame_length = window->dims[0];
  } else if (!given_len) {
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "needs a window or a frame_length to know the frame size");
  }
  if (frame_length <= 0)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "frame_length must be positive, got %lld", (long long)frame_length);
  int64_t length = x->dims[1];
  if (frame_length > length)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "frame_length %lld is longer than the signal (%lld samples)",
                      (long long)frame_length, (long long)length);
  int64_t frames = (length - frame_length) / step + 1, bins = onesided ? frame_length / 2 + 1 : frame_length;
  rq__tensor *y;
  RQ_TRY(rq__op_output_uninit(c, 0, x->dtype, 4, (const int64_t[]){x->dims[0], frames, bins, 2}, &y));
  if (y->numel == 0) return RQ_OK;
  dft_plan p;
  RQ_TRY(plan_init(c, &p, (size_t)frame_length, false));
  size_t fl = (size_t)frame_length;
  for (size_t b = 0; b < (size_t)x->dims[0]; b++)
    for (size_t f = 0; f < (size_t)frames; f++) {
      size_t first = b * (size_t)length + f * (size_t)step;
      for (size_t j = 0; j < fl; j++) {
        double w = window ? rq__elem_get(window->data, window->dtype, j) : 1.0;
        p.re[j] = w * rq__elem_get(x->data, x->dtype, (first + j) * parts);
        p.im[j] = parts == 2 ? w * rq__elem_get(x->data, x->dtype, (first + j) * parts + 1) : 0.0;
      }
      transform(&p);
      for (size_t k = 0; k < (size_t)bins; k++) {
        size_t at = ((b * (size_t)frames + f) * (size_t)bins + k) * 2;
        rq__elem_set(y->data, y->dtype, at, p.re[k]);
        rq__elem_set(y->data, y->dtype, at + 1, p.im[k]);
      }
    }
  plan_free(&p);
  return RQ_OK;
}

/* ---- MelWeightMatrix ---- */

/* numpy's float floor division (npy_divmod), which rounds the quotient
 * from a - fmod(a, b) instead of flooring a / b: the reference computes
 * the bins with it, and the two differ when a / b rounds up to an integer. */
static double np_floor_divide(double a, double b) {
  double mod = fmod(a, b), div = (a - mod) / b;
  if (mod != 0 && ((b < 0) != (mod < 0))) div -= 1.0;
  if (div == 0) return copysign(0.0, a / b);
  double floordiv = floor(div);
  return div - floordiv > 0.5 ? floordiv + 1.0 : floordiv;
}

static rq_status scalar_number(const rq__op_ctx *c, int i, const char *name, double *v) {
  const rq__tensor *t;
  RQ_TRY(rq__op_need(c, i, &t));
  if (!rq__dtype_is_numeric(t->dtype) || t->dtype == RQ__DT_BOOL || t->numel != 1)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "%s must be one number", name);
  *v = rq__elem_get(t->data, t->dtype, 0);
  return RQ_OK;
}

/* Triangular filters [dft_length / 2 + 1, num_mel_bins] with the ONNX
 * reference's arithmetic: num_mel_bins + 2 points evenly spaced in mel
 * (mel(f) = 2595 log10(1 + f / 700)) from lower to upper edge, the step
 * being the span over num_mel_bins + 2 (sic), each point mapped back to hertz
 * and to the spectrogram bin floor((dft_length + 1) * f / sample_rate), all
 * in double. Filter i rises from bin[i] to 1 at bin[i + 1] and falls to 0
 * at bin[i + 2]. */
static rq_status op_mel_weight_matrix(rq__op_ctx *c) {
  bool given;
  int64_t mel_bins = 0, dft_length = 0, sample_rate = 0;
  RQ_TRY(scalar_int(c, 0, "num_mel_bins", true, &mel_bins, &given));
  RQ_TRY(scalar_int(c, 1, "dft_length", true, &dft_length, &given));
  RQ_TRY(scalar_int(c, 2, "sample_rate", true, &sample_rate, &given));
  double lower, upper;
  RQ_TRY(scalar_number(c, 3, "lower_edge_hertz", &lower));
  RQ_TRY(scalar_number(c, 4, "upper_edge_hertz", &upper));
  if (mel_bins <= 0 || dft_length <= 0 || sample_rate <= 0)
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "num_mel_bins (%lld), dft_length (%lld) and sample_rate (%lld) must be positive",
                      (long long)mel_bins, (long long)dft_length, (long long)sample_rate);
  if (!(lower >= 0 && lower <= upper) || !isfinite(upper))
    return RQ_OP_FAIL(c, RQ_ERR_FORMAT, "edges [%g, %g] Hz are not 0 <= lower <= upper", lower, upper);
  int64_t dtype = rq__node_attr_int(c->node, "output_datatype", RQ__DT_FLOAT);
  if (dtype < 0 || dtype > INT32_MAX || !rq__dtype_is_numeric((int32_t)dtype))
    return RQ_OP_FAIL(c, RQ_ERR_UNSUPPORTED, "output_datatype %lld", (long long)dtype);
  int64_t spec_bins = dft_length / 2 + 1;
  rq__tensor *y; /* first: its size check bounds mel_bins for the array below */
  RQ_TRY(rq__op_output(c, 0, (int32_t)dtype, 2, (const int64_t[]){spec_bins, mel_bins}, &y));
  int64_t *bin = rq__malloc_array((size_t)mel_bins + 2, sizeof *bin);
  if (bin == NULL) return rq__nomem(c->node->op_type, ((size_t)mel_bins + 2) * sizeof *bin);
  double low_mel = 2595 * log10(1 + lower / 700), high_mel = 2595 * log10(1 + upper / 700);
  double mel_step = (high_mel - low_mel) / (double)(mel_bins + 2);
  for (int64_t i = 0; i < mel_bins + 2; i++) {
    double hz = 700 * (pow(10, ((double)i * mel_step + low_mel) / 2595) - 1);
    double b = np_floor_divide(((double)dft_length + 1) * hz, (double)sample_rate);
    /* Filters peak at bins 1..mel_bins, which must exist; the last point is only an
     * exclusive end. */
    int64_t limit = i == mel_bins + 1 ? spec_bins : spec_bins - 1;
    if (!(b >= 0 && b <= (double)limit)) {
      rq__free(bin);
      return RQ_OP_FAIL(c, RQ_ERR_FORMAT,
                        "mel point %lld (%g Hz) falls on bin %g, outside the %lld bins of a %lld-point DFT; "
                        "upper_edge_hertz must not exceed sample_rate / 2",
                        (long long)i, hz, b, (long long)spec_bins, (long long)dft_length);
    }
    bin[i] = (int64_t)b;
  }
  for (int64_t i = 0; i < mel_bins; i++) {
    int64_t left = bin[i], center = bin[i + 1], right = bin[i + 2];
    if (center == left) rq__elem_set(y->data, y->dtype, (size_t)(center * mel_bins + i), 1.0);
    else
      for (int64_t j = left; j <= center; j++)
        rq__elem_set(y->data, y->dtype, (size_t)(j * mel_bins + i), (double)(j - left) / (double)(center - left));
    for (int64_t j = center; j < right; j++)
      rq__elem_set(y->data, y->dtype, (size_t)(j * mel_bins + i), (double)(right - j) / (double)(right - center));
  }
  rq__free(bin);
  return RQ_OK;
}

const rq__op_entry rq__ops_signal[] = {
  {"DFT", op_dft}, {"STFT", op_stft}, {"MelWeightMatrix", op_mel_weight_matrix}, {NULL, NULL},
};

/* SPDX-License-Identifier: Apache-2.0 */
/* The .npy reader and writer.
 *
 * A .npy file is: the magic "\x93NUMPY", a major and minor version byte, the
 * header length (2 bytes little-endian for 1.0, 4 bytes for 2.0 and 3.0), an
 * ASCII (3.0: UTF-8) Python dict literal such as
 *   {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
 * padded with spaces and a newline, then the raw array data.
 *
 * The reader trusts nothing: the dict is parsed with a strict grammar (not a
 * Python evaluator), and the byte count the header implies is checked, with
 * overflow checks, against the bytes actually present before anything is
 * allocated, so a 100-byte file claiming a terabyte costs nothing. */
#include "core/core.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static const unsigned char npy_magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

/* Longest header accepted. NumPy's own reader stops at 10000 bytes by default;
 * a header for RQ_NPY_MAX_DIMS dimensions is under 1 KiB. */
#define NPY_MAX_HEADER_LEN 65536u

struct rq_npy {
  void *data;
  size_t nbytes;
  int32_t ndim;
  DLDataType dtype;
  int64_t shape[RQ_NPY_MAX_DIMS];
};

/* ---------------------------------------------------------------- dtypes */

/* The element types razorq reads and writes, with the NumPy kind letter. */
typedef struct npy_type {
  char kind;      /* 'f', 'i', 'u' or 'b' */
  uint8_t bytes;  /* itemsize */
  uint8_t dl_code;
} npy_type;

static const npy_type npy_types[] = {
    {'f', 2, kDLFloat}, {'f', 4, kDLFloat}, {'f', 8, kDLFloat},
    {'i', 1, kDLInt},   {'i', 2, kDLInt},   {'i', 4, kDLInt},   {'i', 8, kDLInt},
    {'u', 1, kDLUInt},  {'u', 2, kDLUInt},  {'u', 4, kDLUInt},  {'u', 8, kDLUInt},
    {'b', 1, RQ_DL_BOOL},
};
#define NPY_TYPE_COUNT (sizeof npy_types / sizeof npy_types[0])

static const npy_type *npy_type_for_dl(DLDataType dtype) {
  if (dtype.lanes != 1 || dtype.bits % 8 != 0) return NULL;
  for (size_t i = 0; i < NPY_TYPE_COUNT; i++)
    if (npy_types[i].dl_code == dtype.code && npy_types[i].bytes * 8u == dtype.bits) return &npy_types[i];
  return NULL;
}

static bool host_is_little_endian(void) {
  const uint16_t one = 1;
  unsigned char first;
  memcpy(&first, &one, 1);
  return first == 1;
}

/* ------------------------------------------------------ error reporting */

/* Where a failure is reported from: the public function, and the file (NULL
 * for a buffer), so every message reads "rq_npy_load: x.npy: <problem>". */
typedef struct npy_source {
  const char *where;
  const char *path;
} npy_source;

static rq_status npy_fail(const npy_source *src, rq_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static rq_status npy_fail(const npy_source *src, rq_status status, const char *fmt, ...) {
  char problem[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(problem, sizeof problem, fmt, ap);
  va_end(ap);
  if (src->path != NULL) return rq__fail(status, src->where, "%s: %s", src->path, problem);
  return rq__fail(status, src->where, "%s", problem);
}

/* ---------------------------------------------------------- the preamble */

typedef struct npy_preamble {
  unsigned major;
  size_t header_len;  /* the dict's bytes */
  size_t data_offset; /* magic + version + length field + header */
} npy_preamble;

/* Bytes of the file needed to read the preamble (the longest length field). */
#define NPY_PREAMBLE_MAX 12u

/* `p` holds the first `avail` bytes of a file of `total` bytes. */
static rq_status parse_preamble(const npy_source *src, const unsigned char *p, size_t avail,
                                size_t total, npy_preamble *pre) {
  if (avail < sizeof npy_magic || memcmp(p, npy_magic, sizeof npy_magic) != 0)
    return npy_fail(src, RQ_ERR_FORMAT, "not a .npy file: bad magic (expected \\x93NUMPY)");
  if (avail < 8) return npy_fail(src, RQ_ERR_FORMAT, "truncated: the file ends inside the version bytes");
  unsigned major = p[6], minor = p[7];
  size_t len_bytes;
  if (major == 1 && minor == 0) {
    len_bytes = 2;
  } else if ((major == 2 || major == 3) && minor == 0) {
    len_bytes = 4;
  } else {
    return npy_fail(src, RQ_ERR_UNSUPPORTED, "format version %u.%u is not supported (1.0, 2.0 and 3.0 are)",
                    major, minor);
  }
  if (avail < 8 + len_bytes)
    return npy_fail(src, RQ_ERR_FORMAT, "truncated: the file ends inside the header length field");
  size_t header_len = (size_t)p[8] | (size_t)p[9] << 8;
  if (len_bytes == 4) header_len |= (size_t)p[10] << 16 | (size_t)p[11] << 24;
  if (header_len == 0) return npy_fail(src, RQ_ERR_FORMAT, "bad header length 0");
  /* Compared before adding, so a 4-byte length cannot wrap a 32-bit size_t. */
  if (header_len > total - (8 + len_bytes))
    return npy_fail(src, RQ_ERR_FORMAT, "bad header length %zu: it runs past the end of the file (%zu bytes)",
                    header_len, total);
  if (header_len > NPY_MAX_HEADER_LEN)
    return npy_fail(src, RQ_ERR_FORMAT, "bad header length %zu: longer than the %u bytes allowed", header_len,
                    NPY_MAX_HEADER_LEN);
  pre->major = major;
  pre->header_len = header_len;
  pre->data_offset = 8 + len_bytes + header_len;
  return RQ_OK;
}

/* ------------------------------------------------------- the header dict */

typedef struct npy_header {
  const npy_type *type;
  bool swap; /* the file's byte order is not the host's */
  bool fortran_order;
  int32_t ndim;
  int64_t shape[RQ_NPY_MAX_DIMS];
  size_t count;  /* elements */
  size_t nbytes; /* count * itemsize */
} npy_header;

/* A cursor over the header text. */
typedef struct dict_parser {
  const npy_source *src;
  const char *text;
  size_t len, pos;
} dict_parser;

static void skip_space(dict_parser *d) {
  while (d->pos < d->len && (d->text[d->pos] == ' ' || d->text[d->pos] == '\t' || d->text[d->pos] == '\n' ||
                             d->text[d->pos] == '\r'))
    d->pos++;
}

/* Describes what stands at the cursor, for messages ("'x'", "byte 0x93", "the end"). */
static const char *describe_here(const dict_parser *d, char buf[48]) {
  if (d->pos >= d->len) return "the end of the header";
  unsigned char c = (unsigned char)d->text[d->pos];
  if (c >= 0x20 && c < 0x7f)
    snprintf(buf, 48, "'%c' at offset %zu", c, d->pos);
  else
    snprintf(buf, 48, "byte 0x%02x at offset %zu", c, d->pos);
  return buf;
}

static rq_status expect_char(dict_parser *d, char c, const char *context) {
  skip_space(d);
  if (d->pos < d->len && d->text[d->pos] == c) {
    d->pos++;
    return RQ_OK;
  }
  char buf[48];
  return npy_fail(d->src, RQ_ERR_FORMAT, "malformed header: expected '%c' %s, found %s", c, context,
                  describe_here(d, buf));
}

/* A quoted Python string without escapes (NumPy never writes any). */
static rq_status parse_string(dict_parser *d, char *out, size_t cap, const char *what) {
  skip_space(d);
  char buf[48];
  if (d->pos >= d->len || (d->text[d->pos] != '\'' && d->text[d->pos] != '"'))
    return npy_fail(d->src, RQ_ERR_FORMAT, "malformed header: expected a quoted %s, found %s", what,
                    describe_here(d, buf));
  char quote = d->text[d->pos++];
  size_t n = 0;
  while (d->pos < d->len && d->text[d->pos] != quote) {
    unsigned char c = (unsigned char)d->text[d->pos];
    if (c < 0x20 || c >= 0x7f || c == '\\')
      return npy_fail(d->src, RQ_ERR_FORMAT, "malformed header: unexpected %s inside a %s",
                      describe_here(d, buf), what);
    if (n + 1 >= cap) return npy_fail(d->src, RQ_ERR_FORMAT, "malformed header: %s is too long", what);
    out[n++] = (char)c;
    d->pos++;
  }
  if (d->pos >= d->len) return npy_fail(d->src, RQ_ERR_FORMAT, "malformed header: unterminated %s", what);
  d->pos++;
  out[n] = '\0';
  return RQ_OK;
}

static rq_status parse_bool(dict_parser *d, bool *out) {
  skip_space(d);
  const char *rest = d->text + d->pos;
  size_t left = d->len - d->pos;
  if (left >= 4 && memcmp(rest, "True", 4) == 0) {
    *out = true;
    d->pos += 4;
  } else if (left >= 5 && memcmp(rest, "False", 5) == 0) {
    *out = false;
    d->pos += 5;
  } else {
    char buf[48];
    return npy_fail(d->src, RQ_ERR_FORMAT, "malformed header: fortran_order must be True or False, found %s",
                    describe_here(d, buf));
  }
  return RQ_OK;
}

/* A non-negative Python int literal (no sign, no leading zeros) that fits int64. */
static rq_status parse_dim(dict_parser *d, int64_t *out) {
  skip_space(d);
  char buf[48];
  if (d->pos < d->len && d->text[d->pos] == '-')
    return npy_fail(d->src, RQ_ERR_FORMAT, "bad shape: negative dimension at offset %zu", d->pos);
  if (d->pos >= d->len || d->text[d->pos] < '0' || d->text[d->pos] > '9')
    return npy_fail(d->src, RQ_ERR_FORMAT, "bad shape: expected a dimension, found %s", describe_here(d, buf));
  size_t start = d->pos;
  uint64_t value = 0;
  while (d->pos < d->len && d->text[d->pos] >= '0' && d->text[d->pos] <= '9') {
    value = value * 10 + (uint64_t)(d->text[d->pos] - '0');
    if (value > (uint64_t)INT64_MAX)
      return npy_fail(d->src, RQ_ERR_FORMAT, "bad shape: dimension at offset %zu does not fit in 64 bits", start);
    d->pos++;
  }
  if (d->text[start] == '0' && d->pos - start > 1)
    return npy_fail(d->src, RQ_ERR_FORMAT, "bad shape: dimension at offset %zu has a leading zero", start);
  *out = (int64_t)value;
  return RQ_OK;
}

/* A Python tuple of dims: "()", "(5,)", "(2, 3)", "(2, 3,)". "(5)" is an int,
 * not a tuple, and NumPy refuses it; so do we. */
static rq_status parse_shape(dict_parser *d, npy_header *h) {
  RQ_TRY(expect_char(d, '(', "to open the shape tuple"));
  h->ndim = 0;
  skip_space(d);
  if (d->pos < d->len && d->text[d->pos] == ')') {
    d->pos++;
    return RQ_OK;
  }
  for (;;) {
    if (h->ndim == RQ_NPY_MAX_DIMS)
      return npy_fail(d->src, RQ_ERR_UNSUPPORTED, "shape has more than %d dimensions", RQ_NPY_MAX_DIMS);
    RQ_TRY(parse_dim(d, &h->shape[h->ndim]));
    h->ndim++;
    skip_space(d);
    if (d->pos < d->len && d->text[d->pos] == ')') {
      if (h->ndim == 1)
        return npy_fail(d->src, RQ_ERR_FORMAT, "bad shape: (%lld) is not a tuple (a 1-d shape is written (%lld,))",
                        (long long)h->shape[0], (long long)h->shape[0]);
      d->pos++;
      return RQ_OK;
    }
    RQ_TRY(expect_char(d, ',', "or ')' in the shape tuple"));
    skip_space(d);
    if (d->pos < d->len && d->text[d->pos] == ')') {
      d->pos++;
      return RQ_OK;
    }
  }
}

/* A NumPy type string such as '<f4', '|u1', '>i8'. */
static rq_status parse_descr(const npy_source *src, const char *descr, npy_header *h) {
  char order = descr[0];
  if (order != '<' && order != '>' && order != '|' && order != '=')
    return npy_fail(src, RQ_ERR_FORMAT, "bad descr '%s': expected a byte order '<', '>' or '|' first", descr);
  char kind = descr[1];
  const char *digits = descr + 2;
  if (kind == 'O')
    return npy_fail(src, RQ_ERR_UNSUPPORTED,
                    "object arrays (descr '%s') hold pickled Python objects and are refused", descr);
  if (kind != '\0' && strchr("cUSVaMmO", kind) != NULL)
    return npy_fail(src, RQ_ERR_UNSUPPORTED,
                    "dtype '%s' is not supported (f2 f4 f8 i1 u1 i2 u2 i4 u4 i8 u8 b1 are)", descr);
  unsigned bytes = 0;
  if (*digits == '\0' || strlen(digits) > 2)
    return npy_fail(src, RQ_ERR_FORMAT, "bad descr '%s': expected a kind letter and an item size", descr);
  for (const char *c = digits; *c != '\0'; c++) {
    if (*c < '0' || *c > '9')
      return npy_fail(src, RQ_ERR_FORMAT, "bad descr '%s': expected a kind letter and an item size", descr);
    bytes = bytes * 10 + (unsigned)(*c - '0');
  }
  const npy_type *type = NULL;
  for (size_t i = 0; i < NPY_TYPE_COUNT; i++)
    if (npy_types[i].kind == kind && npy_types[i].bytes == bytes) type = &npy_types[i];
  if (type == NULL) {
    if (kind != '\0' && strchr("fiub", kind) != NULL)
      return npy_fail(src, RQ_ERR_UNSUPPORTED,
                      "dtype '%s' is not supported (f2 f4 f8 i1 u1 i2 u2 i4 u4 i8 u8 b1 are)", descr);
    return npy_fail(src, RQ_ERR_FORMAT, "bad descr '%s': not a NumPy type string", descr);
  }
  /* NumPy writes '|' for one-byte types and '<' or '>' otherwise; '=' (native)
   * means nothing in a file that may travel between machines. */
  if (order == '=')
    return npy_fail(src, RQ_ERR_FORMAT, "bad descr '%s': byte order '=' is ambiguous in a file", descr);
  if (order == '|' && bytes > 1)
    return npy_fail(src, RQ_ERR_FORMAT, "bad descr '%s': a %u-byte type needs byte order '<' or '>'", descr, bytes);
  h->type = type;
  h->swap = bytes > 1 && (order == '<') != host_is_little_endian();
  return RQ_OK;
}

enum { KEY_DESCR = 1, KEY_FORTRAN = 2, KEY_SHAPE = 4 };

static rq_status parse_dict(const npy_source *src, const char *text, size_t len, npy_header *h) {
  dict_parser d = {src, text, len, 0};
  unsigned seen = 0;
  RQ_TRY(expect_char(&d, '{', "to open the header dict"));
  for (;;) {
    skip_space(&d);
    if (d.pos < d.len && d.text[d.pos] == '}') break; /* empty dict or trailing comma */
    char key[32];
    RQ_TRY(parse_string(&d, key, sizeof key, "key"));
    unsigned bit;
    if (strcmp(key, "descr") == 0) bit = KEY_DESCR;
    else if (strcmp(key, "fortran_order") == 0) bit = KEY_FORTRAN;
    else if (strcmp(key, "shape") == 0) bit = KEY_SHAPE;
    else return npy_fail(src, RQ_ERR_FORMAT, "malformed header: unknown key '%s'", key);
    if (seen & bit) return npy_fail(src, RQ_ERR_FORMAT, "malformed header: key '%s' appears twice", key);
    seen |= bit;
    RQ_TRY(expect_char(&d, ':', "after a key"));
    if (bit == KEY_DESCR) {
      skip_space(&d);
      if (d.pos < d.len && d.text[d.pos] == '[')
        return npy_fail(src, RQ_ERR_UNSUPPORTED, "structured dtypes (descr is a list) are not supported");
      char descr[16];
      RQ_TRY(parse_string(&d, descr, sizeof descr, "descr"));
      RQ_TRY(parse_descr(src, descr, h));
    } else if (bit == KEY_FORTRAN) {
      RQ_TRY(parse_bool(&d, &h->fortran_order));
    } else {
      RQ_TRY(parse_shape(&d, h));
    }
    skip_space(&d);
    if (d.pos < d.len && d.text[d.pos] == '}') break;
    RQ_TRY(expect_char(&d, ',', "or '}' after a value"));
  }
  d.pos++; /* the '}' */
  skip_space(&d);
  if (d.pos != d.len) {
    char buf[48];
    return npy_fail(src, RQ_ERR_FORMAT, "malformed header: unexpected %s after the dict", describe_here(&d, buf));
  }
  if (seen != (KEY_DESCR | KEY_FORTRAN | KEY_SHAPE))
    return npy_fail(src, RQ_ERR_FORMAT, "malformed header: missing key '%s'",
                    !(seen & KEY_DESCR) ? "descr" : !(seen & KEY_FORTRAN) ? "fortran_order" : "shape");
  return RQ_OK;
}

/* Checks that the data the header describes is exactly what follows it. */
static rq_status check_size(const npy_source *src, npy_header *h, size_t data_avail) {
  size_t count = 1;
  bool overflow = false;
  for (int32_t i = 0; i < h->ndim; i++) {
    if (h->shape[i] == 0) count = 0;
  }
  if (count != 0) {
    for (int32_t i = 0; i < h->ndim; i++) overflow |= !rq__mul_size(count, (size_t)h->shape[i], &count);
  }
  size_t nbytes = 0;
  if (overflow || !rq__mul_size(count, h->type->bytes, &nbytes) || nbytes > (size_t)PTRDIFF_MAX)
    return npy_fail(src, RQ_ERR_FORMAT, "absurd shape: its byte size overflows (the file has %zu data bytes)",
                    data_avail);
  if (nbytes > data_avail)
    return npy_fail(src, RQ_ERR_FORMAT,
                    "truncated data: the shape needs %zu bytes of %zu-byte items but only %zu follow the header",
                    nbytes, (size_t)h->type->bytes, data_avail);
  if (nbytes < data_avail)
    return npy_fail(src, RQ_ERR_FORMAT, "%zu bytes of unexpected data after the array's %zu bytes",
                    data_avail - nbytes, nbytes);
  h->count = count;
  h->nbytes = nbytes;
  return RQ_OK;
}

/* ------------------------------------------------- strided element copies */

/* Copies the elements of a strided array (strides in elements, any sign) into
 * `dst` in C order. With Fortran strides this is the transpose NumPy does. */
static void gather_c_order(unsigned char *dst, const unsigned char *src, size_t itemsize, int32_t ndim,
                           const int64_t *shape, const int64_t *strides, size_t count) {
  int64_t index[RQ_NPY_MAX_DIMS] = {0};
  ptrdiff_t offset = 0; /* in elements */
  for (size_t n = 0; n < count; n++) {
    memcpy(dst + n * itemsize, src + offset * (ptrdiff_t)itemsize, itemsize);
    for (int32_t k = ndim - 1; k >= 0; k--) {
      if (++index[k] < shape[k]) {
        offset += (ptrdiff_t)strides[k];
        break;
      }
      offset -= (ptrdiff_t)(strides[k] * (shape[k] - 1));
      index[k] = 0;
    }
  }
}

static void swap_bytes(unsigned char *data, size_t count, size_t itemsize) {
  for (size_t n = 0; n < count; n++, data += itemsize)
    for (size_t i = 0; i < itemsize / 2; i++) {
      unsigned char t = data[i];
      data[i] = data[itemsize - 1 - i];
      data[itemsize - 1 - i] = t;
    }
}

/* ----------------------------------------------------------------- load */

/* Turns the raw file data (owned, `h->nbytes` long) into a handle: byte order,
 * booleans as 0/1, and Fortran order transposed. Frees `data` on failure. */
static rq_status make_handle(const npy_source *src, const npy_header *h, unsigned char *data, rq_npy **out) {
  size_t itemsize = h->type->bytes;
  if (h->swap) swap_bytes(data, h->count, itemsize);
  if (h->type->dl_code == RQ_DL_BOOL)
    for (size_t i = 0; i < h->count; i++) data[i] = data[i] != 0;
  if (h->fortran_order && h->ndim > 1 && h->count > 1) {
    int64_t fstrides[RQ_NPY_MAX_DIMS];
    int64_t stride = 1;
    for (int32_t k = 0; k < h->ndim; k++) {
      fstrides[k] = stride;
      stride *= h->shape[k]; /* bounded by count, already checked */
    }
    unsigned char *c_order = rq__malloc(h->nbytes);
    if (c_order == NULL) {
      rq__free(data);
      return rq__nomem(src->where, h->nbytes);
    }
    gather_c_order(c_order, data, itemsize, h->ndim, h->shape, fstrides, h->count);
    rq__free(data);
    data = c_order;
  }
  rq_npy *npy = rq__calloc(1, sizeof *npy);
  if (npy == NULL) {
    rq__free(data);
    return rq__nomem(src->where, sizeof *npy);
  }
  npy->data = data;
  npy->nbytes = h->nbytes;
  npy->ndim = h->ndim;
  npy->dtype = (DLDataType){.code = h->type->dl_code, .bits = (uint8_t)(itemsize * 8), .lanes = 1};
  memcpy(npy->shape, h->shape, sizeof(int64_t) * (size_t)h->ndim);
  *out = npy;
  return RQ_OK;
}

rq_status rq_npy_load_buffer(const void *data, size_t size, rq_npy **out) {
  RQ_CHECK_NOT_NULL(out);
  *out = NULL;
  RQ_CHECK_ARG(data != NULL || size == 0, "data is NULL but size is %zu", size);
  npy_source src = {__func__, NULL};
  npy_preamble pre;
  npy_header h = {0};
  const unsigned char *bytes = data != NULL ? data : (const unsigned char *)"";
  RQ_TRY(parse_preamble(&src, bytes, size, size, &pre));
  RQ_TRY(parse_dict(&src, (const char *)bytes + pre.data_offset - pre.header_len, pre.header_len, &h));
  RQ_TRY(check_size(&src, &h, size - pre.data_offset));
  unsigned char *copy = rq__malloc(h.nbytes ? h.nbytes : 1);
  if (copy == NULL) return rq__nomem(__func__, h.nbytes);
  if (h.nbytes) memcpy(copy, bytes + pre.data_offset, h.nbytes);
  return make_handle(&src, &h, copy, out);
}

static rq_status read_exactly(const npy_source *src, FILE *f, void *buf, size_t n, const char *what) {
  if (n == 0 || fread(buf, 1, n, f) == n) return RQ_OK;
  if (ferror(f)) return npy_fail(src, RQ_ERR_IO, "error reading the %s: %s", what, strerror(errno));
  return npy_fail(src, RQ_ERR_IO, "the file shrank while reading the %s", what);
}

static rq_status load_file(const npy_source *src, FILE *f, rq_npy **out) {
  struct stat st;
  if (fstat(fileno(f), &st) != 0) return npy_fail(src, RQ_ERR_IO, "cannot stat: %s", strerror(errno));
  if (!S_ISREG(st.st_mode)) return npy_fail(src, RQ_ERR_IO, "not a regular file");
  size_t total = (size_t)st.st_size;

  unsigned char head[NPY_PREAMBLE_MAX];
  size_t head_avail = total < sizeof head ? total : sizeof head;
  RQ_TRY(read_exactly(src, f, head, head_avail, "preamble"));
  npy_preamble pre;
  npy_header h = {0};
  RQ_TRY(parse_preamble(src, head, head_avail, total, &pre));

  /* The header starts right after the length field, which may end before byte 12. */
  size_t header_start = pre.data_offset - pre.header_len;
  char *text = rq__malloc(pre.header_len);
  if (text == NULL) return rq__nomem(src->where, pre.header_len);
  size_t have = head_avail - header_start; /* header bytes already read into head */
  if (have > pre.header_len) have = pre.header_len;
  memcpy(text, head + header_start, have);
  rq_status s = read_exactly(src, f, text + have, pre.header_len - have, "header");
  if (s == RQ_OK) s = parse_dict(src, text, pre.header_len, &h);
  rq__free(text);
  RQ_TRY(s);
  RQ_TRY(check_size(src, &h, total - pre.data_offset));

  /* A tiny header ends before byte 12, so the preamble read may have taken data bytes. */
  if (fseeko(f, (off_t)pre.data_offset, SEEK_SET) != 0)
    return npy_fail(src, RQ_ERR_IO, "cannot seek to the data: %s", strerror(errno));
  unsigned char *data = rq__malloc(h.nbytes ? h.nbytes : 1);
  if (data == NULL) return rq__nomem(src->where, h.nbytes);
  s = read_exactly(src, f, data, h.nbytes, "array data");
  if (s != RQ_OK) {
    rq__free(data);
    return s;
  }
  return make_handle(src, &h, data, out);
}

rq_status rq_npy_load(const char *path, rq_npy **out) {
  RQ_CHECK_NOT_NULL(out);
  *out = NULL;
  RQ_CHECK_NOT_NULL(path);
  npy_source src = {__func__, path};
  FILE *f = fopen(path, "rb");
  if (f == NULL) return npy_fail(&src, RQ_ERR_IO, "cannot open: %s", strerror(errno));
  rq_status s = load_file(&src, f, out);
  fclose(f);
  return s;
}

rq_status rq_npy_dltensor(const rq_npy *npy, DLTensor *view) {
  RQ_CHECK_NOT_NULL(npy);
  RQ_CHECK_NOT_NULL(view);
  *view = (DLTensor){
      .data = npy->data,
      .device = {.device_type = kDLCPU, .device_id = 0},
      .ndim = npy->ndim,
      .dtype = npy->dtype,
      /* The handle owns the shape; DLTensor's field is non-const by design. */
      .shape = (int64_t *)npy->shape,
      .strides = NULL,
      .byte_offset = 0,
  };
  return RQ_OK;
}

void rq_npy_destroy(rq_npy *npy) {
  if (npy == NULL) return;
  rq__free(npy->data);
  rq__free(npy);
}

/* ----------------------------------------------------------------- save */

/* The header NumPy itself writes: keys sorted, a trailing ", " before '}',
 * space padding so the data starts at a multiple of 64 bytes, a final '\n'. */
static size_t format_header(char *buf, size_t cap, const char *descr, int32_t ndim, const int64_t *shape) {
  size_t n = (size_t)snprintf(buf, cap, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
  for (int32_t i = 0; i < ndim; i++)
    n += (size_t)snprintf(buf + n, cap - n, i == 0 ? "%lld" : ", %lld", (long long)shape[i]);
  n += (size_t)snprintf(buf + n, cap - n, ndim == 1 ? ",), }" : "), }");
  size_t preamble = 10; /* magic, version 1.0, 2-byte length */
  while ((preamble + n + 1) % 64 != 0) buf[n++] = ' ';
  buf[n++] = '\n';
  return n;
}

static rq_status write_all(const npy_source *src, FILE *f, const void *buf, size_t n) {
  if (n != 0 && fwrite(buf, 1, n, f) != n) return npy_fail(src, RQ_ERR_IO, "write failed: %s", strerror(errno));
  return RQ_OK;
}

/* Writes the elements in C order, gathering strided input a chunk at a time. */
static rq_status write_data(const npy_source *src, FILE *f, const DLTensor *t, const npy_type *type,
                            size_t count) {
  if (count == 0) return RQ_OK; /* data may be NULL: no pointer arithmetic on it */
  size_t itemsize = type->bytes;
  const unsigned char *base = (const unsigned char *)t->data + t->byte_offset;
  bool contiguous = true;
  if (t->strides != NULL) {
    int64_t expected = 1;
    for (int32_t k = t->ndim - 1; k >= 0; k--) {
      if (t->shape[k] != 1 && t->strides[k] != expected) contiguous = false;
      expected *= t->shape[k];
    }
  }
  bool convert = type->dl_code == RQ_DL_BOOL || (itemsize > 1 && !host_is_little_endian());
  if (contiguous && !convert) return write_all(src, f, base, count * itemsize);

  /* Gather rows of the last dimension (or single elements for 0-d) into a
   * buffer, converting booleans to 0/1 and big-endian hosts to little-endian. */
  enum { CHUNK = 1 << 16 };
  unsigned char *chunk = rq__malloc(CHUNK);
  if (chunk == NULL) return rq__nomem(src->where, CHUNK);
  int64_t one = 1, unit = 1;
  const int64_t *shape = t->ndim > 0 ? t->shape : &one;
  const int64_t *strides = t->strides;
  int64_t c_strides[RQ_NPY_MAX_DIMS];
  if (strides == NULL) {
    int64_t s = 1;
    for (int32_t k = t->ndim - 1; k >= 0; k--) {
      c_strides[k] = s;
      s *= t->shape[k];
    }
    strides = t->ndim > 0 ? c_strides : &unit;
  }
  int32_t ndim = t->ndim > 0 ? t->ndim : 1;
  int64_t index[RQ_NPY_MAX_DIMS] = {0};
  ptrdiff_t offset = 0;
  size_t used = 0;
  rq_status s = RQ_OK;
  for (size_t n = 0; n < count && s == RQ_OK; n++) {
    unsigned char *dst = chunk + used;
    memcpy(dst, base + offset * (ptrdiff_t)itemsize, itemsize);
    if (type->dl_code == RQ_DL_BOOL) *dst = *dst != 0;
    else if (itemsize > 1 && !host_is_little_endian()) swap_bytes(dst, 1, itemsize);
    used += itemsize;
    if (used + itemsize > CHUNK) {
      s = write_all(src, f, chunk, used);
      used = 0;
    }
    for (int32_t k = ndim - 1; k >= 0; k--) {
      if (++index[k] < shape[k]) {
        offset += (ptrdiff_t)strides[k];
        break;
      }
      offset -= (ptrdiff_t)(strides[k] * (shape[k] - 1));
      index[k] = 0;
    }
  }
  if (s == RQ_OK) s = write_all(src, f, chunk, used);
  rq__free(chunk);
  return s;
}

rq_status rq_npy_save(const char *path, const DLTensor *tensor) {
  RQ_CHECK_NOT_NULL(path);
  RQ_CHECK_NOT_NULL(tensor);
  const DLTensor *t = tensor;
  RQ_CHECK_ARG(t->device.device_type == kDLCPU || t->device.device_type == kDLCUDAHost,
               "tensor->device.device_type %d is not host memory", (int)t->device.device_type);
  RQ_CHECK_ARG(t->ndim >= 0 && t->ndim <= RQ_NPY_MAX_DIMS, "tensor->ndim %d is outside 0..%d", t->ndim,
               RQ_NPY_MAX_DIMS);
  RQ_CHECK_ARG(t->ndim == 0 || t->shape != NULL, "tensor->shape is NULL but ndim is %d", t->ndim);
  if (t->dtype.code == kDLBfloat)
    return rq__fail(RQ_ERR_UNSUPPORTED, __func__, "bfloat16 has no .npy type; save a uint16 view of the data");
  const npy_type *type = npy_type_for_dl(t->dtype);
  if (type == NULL)
    return rq__fail(RQ_ERR_UNSUPPORTED, __func__, "dtype code %u bits %u lanes %u has no .npy type razorq writes",
                    t->dtype.code, t->dtype.bits, t->dtype.lanes);
  size_t count = 1, nbytes = 0;
  bool overflow = false;
  for (int32_t i = 0; i < t->ndim; i++) {
    RQ_CHECK_ARG(t->shape[i] >= 0, "tensor->shape[%d] is negative (%lld)", i, (long long)t->shape[i]);
    overflow |= !rq__mul_size(count, (size_t)t->shape[i], &count);
  }
  for (int32_t i = 0; i < t->ndim; i++)
    if (t->shape[i] == 0) count = 0, overflow = false;
  RQ_CHECK_ARG(!overflow && rq__mul_size(count, type->bytes, &nbytes) && nbytes <= (size_t)PTRDIFF_MAX,
               "tensor's byte size overflows");
  RQ_CHECK_ARG(count == 0 || t->data != NULL, "tensor->data is NULL");
  npy_source src = {__func__, path};

  char descr[8];
  snprintf(descr, sizeof descr, "%c%c%u", type->bytes == 1 ? '|' : '<', type->kind, (unsigned)type->bytes);
  /* 60 bytes of keys + 21 per dimension + 64 of padding fits in 1 KiB. */
  char header[1024];
  size_t header_len = format_header(header, sizeof header, descr, tensor->ndim, tensor->shape);
  unsigned char preamble[10];
  memcpy(preamble, npy_magic, sizeof npy_magic);
  preamble[6] = 1;
  preamble[7] = 0;
  preamble[8] = (unsigned char)(header_len & 0xff);
  preamble[9] = (unsigned char)(header_len >> 8);

  FILE *f = fopen(path, "wb");
  if (f == NULL) return npy_fail(&src, RQ_ERR_IO, "cannot open for writing: %s", strerror(errno));
  rq_status s = write_all(&src, f, preamble, sizeof preamble);
  if (s == RQ_OK) s = write_all(&src, f, header, header_len);
  if (s == RQ_OK) s = write_data(&src, f, tensor, type, count);
  if (fclose(f) != 0 && s == RQ_OK) s = npy_fail(&src, RQ_ERR_IO, "write failed: %s", strerror(errno));
  /* A partial file would later fail to load with a confusing message. */
  if (s != RQ_OK) remove(path);
  return s;
}

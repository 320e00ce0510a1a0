/* SPDX-License-Identifier: Apache-2.0 */
/* TensorProto <-> rq__tensor, external data, and wire-format checks. */
#include "onnx/onnx_io.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#  error "razorq reads ONNX raw_data (little-endian) by memcpy: little-endian hosts only"
#endif


/* ------------------------------------------------------ wire-format walk -- */

static bool read_varint(const uint8_t *p, size_t n, size_t *i, uint64_t *out) {
  uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (*i >= n) return false;
    uint8_t b = p[(*i)++];
    v |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) {
      *out = v;
      return true;
    }
  }
  return false;
}

/* Returns NULL when fine, else a short reason. */
static const char *wire_walk(const ProtobufCMessageDescriptor *desc, const uint8_t *p, size_t n,
                             int depth) {
  if (depth > RQ__PB_MAX_DEPTH) return "messages nested too deeply";
  size_t i = 0;
  while (i < n) {
    uint64_t key, len;
    if (!read_varint(p, n, &i, &key)) return "truncated field key";
    switch (key & 7) {
      case 0:
        if (!read_varint(p, n, &i, &len)) return "truncated varint";
        break;
      case 1:
        if (n - i < 8) return "truncated 64-bit field";
        i += 8;
        break;
      case 5:
        if (n - i < 4) return "truncated 32-bit field";
        i += 4;
        break;
      case 2: {
        if (!read_varint(p, n, &i, &len)) return "truncated length";
        if (len > n - i) return "length runs past the end of the data";
        const ProtobufCFieldDescriptor *f =
            desc ? protobuf_c_message_descriptor_get_field(desc, (unsigned)(key >> 3)) : NULL;
        if (f != NULL && f->type == PROTOBUF_C_TYPE_MESSAGE) {
          const char *why = wire_walk(f->descriptor, p + i, (size_t)len, depth + 1);
          if (why != NULL) return why;
        }
        i += (size_t)len;
        break;
      }
      default: return "unsupported wire type (groups or garbage)";
    }
  }
  return NULL;
}

rq_status rq__pb_check(const ProtobufCMessageDescriptor *desc, const void *data, size_t size,
                       const char *what) {
  const char *why = wire_walk(desc, data, size, 0);
  if (why != NULL)
    return rq__fail(RQ_ERR_FORMAT, what, "not a valid %s protobuf: %s", desc->short_name, why);
  return RQ_OK;
}

/* ----------------------------------------------------------------- files -- */

rq_status rq__read_file(const char *path, void **data, size_t *size) {
  *data = NULL;
  *size = 0;
  FILE *f = fopen(path, "rb");
  if (f == NULL) return rq__fail(RQ_ERR_IO, path, "cannot open: %s", strerror(errno));
  struct stat st;
  if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
    fclose(f);
    return rq__fail(RQ_ERR_IO, path, "not a regular file");
  }
  if ((uint64_t)st.st_size > ((uint64_t)1 << 31)) {
    fclose(f);
    return rq__fail(RQ_ERR_FORMAT, path,
                    "%lld bytes: over protobuf's 2 GB limit (large models keep tensors as "
                    "external data)", (long long)st.st_size);
  }
  size_t n = (size_t)st.st_size;
  void *buf = rq__malloc(n + 1);
  if (buf == NULL) {
    fclose(f);
    return rq__nomem(path, n + 1);
  }
  size_t got = fread(buf, 1, n, f);
  fclose(f);
  if (got != n) {
    rq__free(buf);
    return rq__fail(RQ_ERR_IO, path, "short read (%zu of %zu bytes)", got, n);
  }
  *data = buf;
  *size = n;
  return RQ_OK;
}

/* -------------------------------------------------------- external data -- */

/* A location must stay inside the model's folder: relative, no "..". */
static bool location_is_safe(const char *loc) {
  if (loc[0] == '\0' || loc[0] == '/') return false;
  for (const char *p = loc; *p;) {
    const char *end = strchr(p, '/');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    if (len == 2 && p[0] == '.' && p[1] == '.') return false;
    if (!end) break;
    p = end + 1;
  }
  return true;
}

static bool parse_u64(const char *s, uint64_t *out) {
  if (s == NULL || *s < '0' || *s > '9') return false;
  errno = 0;
  char *end;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno != 0 || *end != '\0') return false;
  *out = v;
  return true;
}

static rq_status read_external(const Onnx__TensorProto *p, const char *base_dir, const char *what,
                               const char *tname, rq__tensor *t) {
  const char *location = NULL, *offset_s = NULL, *length_s = NULL;
  for (size_t i = 0; i < p->n_external_data; i++) {
    const char *k = p->external_data[i]->key ? p->external_data[i]->key : "";
    const char *v = p->external_data[i]->value ? p->external_data[i]->value : "";
    if (strcmp(k, "location") == 0) location = v;
    else if (strcmp(k, "offset") == 0) offset_s = v;
    else if (strcmp(k, "length") == 0) length_s = v;
  }
  if (base_dir == NULL)
    return rq__fail(RQ_ERR_UNSUPPORTED, what,
                    "tensor '%s': external data needs the model's folder (load from a file)", tname);
  if (location == NULL || !location_is_safe(location))
    return rq__fail(RQ_ERR_FORMAT, what,
                    "tensor '%s': external data location '%s' must be a relative path inside the "
                    "model's folder", tname, location ? location : "(missing)");
  uint64_t offset = 0, length = t->nbytes;
  if (offset_s != NULL && !parse_u64(offset_s, &offset))
    return rq__fail(RQ_ERR_FORMAT, what, "tensor '%s': bad external data offset '%s'", tname, offset_s);
  if (length_s != NULL && (!parse_u64(length_s, &length) || length != t->nbytes))
    return rq__fail(RQ_ERR_FORMAT, what, "tensor '%s': external data length '%s' != %zu bytes of its shape",
                    tname, length_s, t->nbytes);
  size_t plen = strlen(base_dir) + strlen(location) + 2;
  char *path = rq__malloc(plen);
  if (path == NULL) return rq__nomem(what, plen);
  snprintf(path, plen, "%s/%s", base_dir, location);
  FILE *f = fopen(path, "rb");
  struct stat st;
  rq_status s = RQ_OK;
  if (f == NULL) {
    s = rq__fail(RQ_ERR_IO, what, "tensor '%s': cannot open external data '%s': %s", tname, path,
                 strerror(errno));
  } else if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
    s = rq__fail(RQ_ERR_IO, what, "tensor '%s': external data '%s' is not a regular file", tname, path);
  } else if (offset > (uint64_t)st.st_size || t->nbytes > (uint64_t)st.st_size - offset) {
    s = rq__fail(RQ_ERR_FORMAT, what,
                 "tensor '%s': external data '%s' holds %lld bytes, %zu needed at offset %llu", tname,
                 path, (long long)st.st_size, t->nbytes, (unsigned long long)offset);
  } else if (fseeko(f, (off_t)offset, SEEK_SET) != 0 || fread(t->data, 1, t->nbytes, f) != t->nbytes) {
    s = rq__fail(RQ_ERR_IO, what, "tensor '%s': cannot read external data '%s'", tname, path);
  }
  if (f != NULL) fclose(f);
  rq__free(path);
  return s;
}

/* ------------------------------------------------------------ conversion -- */

rq_status rq__tensor_from_pb(const Onnx__TensorProto *p, const char *base_dir, const char *what,
                             rq__tensor **out) {
  *out = NULL;
  const char *tname = p->name ? p->name : "";
  int32_t dtype = p->has_data_type ? p->data_type : RQ__DT_UNDEFINED;
  size_t esize = rq__dtype_size(dtype);
  if (dtype == RQ__DT_STRING)
    return rq__fail(RQ_ERR_UNSUPPORTED, what, "tensor '%s': string tensors are not supported", tname);
  if (esize == 0)
    return rq__fail(dtype == 14 || dtype == 15 ? RQ_ERR_UNSUPPORTED : RQ_ERR_FORMAT, what,
                    "tensor '%s': element type %s (%d) is not supported", tname,
                    rq__dtype_name(dtype), (int)dtype);
  if (p->n_dims > RQ__MAX_RANK)
    return rq__fail(RQ_ERR_UNSUPPORTED, what, "tensor '%s': rank %zu is over %d", tname, p->n_dims,
                    RQ__MAX_RANK);
  if (p->segment != NULL)
    return rq__fail(RQ_ERR_UNSUPPORTED, what, "tensor '%s': segmented tensors are not supported", tname);
  size_t numel;
  rq_status s = rq__shape_numel(what, (int)p->n_dims, p->dims, esize, &numel);
  if (s != RQ_OK) {
    char why[256]; /* copied: rq__fail writes the buffer rq_last_error() returns */
    snprintf(why, sizeof why, "%s", rq_last_error());
    return rq__fail(s, what, "tensor '%s': bad dims (%s)", tname, why);
  }

  bool external = p->has_data_location &&
                  p->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
  /* Which typed field may carry this type's data (onnx.proto's rules). */
  size_t n_typed = 0;
  const char *typed_field = NULL;
  switch (dtype) {
    case RQ__DT_FLOAT: n_typed = p->n_float_data; typed_field = "float_data"; break;
    case RQ__DT_INT64: n_typed = p->n_int64_data; typed_field = "int64_data"; break;
    case RQ__DT_DOUBLE: n_typed = p->n_double_data; typed_field = "double_data"; break;
    case RQ__DT_UINT32:
    case RQ__DT_UINT64: n_typed = p->n_uint64_data; typed_field = "uint64_data"; break;
    default: n_typed = p->n_int32_data; typed_field = "int32_data"; break;
  }
  size_t n_all = p->n_float_data + p->n_int64_data + p->n_double_data + p->n_uint64_data +
                 p->n_int32_data + p->n_string_data;
  if (n_all != n_typed)
    return rq__fail(RQ_ERR_FORMAT, what, "tensor '%s' (%s): data stored in a field other than %s",
                    tname, rq__dtype_name(dtype), typed_field);
  int sources = (external ? 1 : 0) + (p->has_raw_data ? 1 : 0) + (n_typed > 0 ? 1 : 0);
  if (sources > 1)
    return rq__fail(RQ_ERR_FORMAT, what, "tensor '%s': data given in more than one form", tname);
  /* Size validation BEFORE allocating: only data actually present (or, for
   * external data, a file checked to be large enough) is ever allocated. */
  if (!external) {
    size_t present = p->has_raw_data ? p->raw_data.len : n_typed * esize;
    if (present != numel * esize)
      return rq__fail(RQ_ERR_FORMAT, what,
                      "tensor '%s': dims need %zu elements (%zu bytes) but %zu bytes of data are present",
                      tname, numel, numel * esize, present);
  }
  rq__tensor *t;
  RQ_TRY(rq__tensor_create(tname[0] ? tname : NULL, dtype, (int)p->n_dims, p->dims, &t));
  if (external) {
    s = read_external(p, base_dir, what, tname, t);
  } else if (p->has_raw_data) {
    if (t->nbytes > 0) memcpy(t->data, p->raw_data.data, t->nbytes);
  } else {
    for (size_t i = 0; i < n_typed; i++) {
      unsigned char *dst = (unsigned char *)t->data + i * esize;
      switch (dtype) {
        case RQ__DT_FLOAT: memcpy(dst, &p->float_data[i], 4); break;
        case RQ__DT_INT64: memcpy(dst, &p->int64_data[i], 8); break;
        case RQ__DT_DOUBLE: memcpy(dst, &p->double_data[i], 8); break;
        case RQ__DT_UINT64: memcpy(dst, &p->uint64_data[i], 8); break;
        case RQ__DT_UINT32: {
          uint32_t v = (uint32_t)p->uint64_data[i];
          memcpy(dst, &v, 4);
          break;
        }
        case RQ__DT_INT32: memcpy(dst, &p->int32_data[i], 4); break;
        case RQ__DT_BOOL: *dst = p->int32_data[i] != 0; break;
        default: {
          /* 8/16-bit ints and float16/bfloat16 bit patterns: low bytes of int32. */
          uint32_t v = (uint32_t)p->int32_data[i];
          if (esize == 1) {
            *dst = (unsigned char)v;
          } else {
            uint16_t h = (uint16_t)v;
            memcpy(dst, &h, 2);
          }
          break;
        }
      }
    }
  }
  if (s != RQ_OK) {
    rq__tensor_destroy(t);
    return s;
  }
  *out = t;
  return RQ_OK;
}

void rq__tensor_to_pb(const rq__tensor *t, Onnx__TensorProto *p) {
  onnx__tensor_proto__init(p);
  p->n_dims = (size_t)t->ndim;
  p->dims = (int64_t *)t->dims;
  p->has_data_type = 1;
  p->data_type = t->dtype;
  p->name = t->name;
  p->has_raw_data = 1;
  p->raw_data.len = t->nbytes;
  p->raw_data.data = t->data;
}

rq_status rq__tensor_from_proto_buffer(const void *data, size_t size, rq__tensor **out) {
  RQ_CHECK_NOT_NULL(out);
  *out = NULL;
  RQ_CHECK_ARG(data != NULL || size == 0, "data is NULL");
  RQ_TRY(rq__pb_check(&onnx__tensor_proto__descriptor, data, size, __func__));
  Onnx__TensorProto *p = onnx__tensor_proto__unpack(&rq__pb_allocator, size, data);
  if (p == NULL) return rq__pb_unpack_failure(__func__, "not a valid TensorProto");
  rq_status s = rq__tensor_from_pb(p, NULL, __func__, out);
  onnx__tensor_proto__free_unpacked(p, &rq__pb_allocator);
  return s;
}

rq_status rq__tensor_from_proto_file(const char *path, rq__tensor **out) {
  return rq__value_from_proto_file(path, RQ__KIND_TENSOR, out);
}

/* ---- SequenceProto / OptionalProto (onnx-data.proto) ----
 * The backend tests store sequence and optional values in these messages,
 * which the onnx.proto razorq compiles does not define. They are small, so
 * they are read straight off the protobuf wire format:
 *   SequenceProto { 1 name; 2 elem_type; 3 repeated TensorProto tensor_values;
 *                   4 sparse, 5 sequence, 6 map, 7 optional values }
 *   OptionalProto { 1 name; 2 elem_type; 3 TensorProto tensor_value;
 *                   4 sparse, 5 sequence, 6 map, 7 optional value }
 * elem_type there is the kind (1 TENSOR, 3 SEQUENCE, 5 OPTIONAL). */

typedef struct wire {
  const uint8_t *p, *end;
} wire;

static bool wire_varint(wire *w, uint64_t *v) {
  *v = 0;
  for (int shift = 0; shift < 64 && w->p < w->end; shift += 7) {
    uint8_t b = *w->p++;
    *v |= (uint64_t)(b & 0x7f) << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

/* One field: its number and wire type, and for length-delimited ones the
 * bytes (other types are skipped over, their varint value in *v). */
static bool wire_field(wire *w, uint32_t *field, int *type, uint64_t *v, const uint8_t **bytes, size_t *len) {
  uint64_t key;
  if (!wire_varint(w, &key) || key >> 3 == 0 || key >> 3 > UINT32_MAX) return false;
  *field = (uint32_t)(key >> 3);
  *type = (int)(key & 7);
  switch (*type) {
    case 0: return wire_varint(w, v);
    case 1: case 5: {
      size_t n = *type == 1 ? 8 : 4;
      if ((size_t)(w->end - w->p) < n) return false;
      w->p += n;
      return true;
    }
    case 2:
      if (!wire_varint(w, v) || *v > (uint64_t)(w->end - w->p)) return false;
      *bytes = w->p;
      *len = (size_t)*v;
      w->p += *len;
      return true;
    default: return false; /* groups are not used by onnx */
  }
}

static rq_status value_from_wire(const uint8_t *data, size_t size, int kind, int depth, rq__tensor **out);

static rq_status container_from_wire(const uint8_t *data, size_t size, int kind, int depth, rq__tensor **out) {
  const char *what = kind == RQ__KIND_SEQUENCE ? "SequenceProto" : "OptionalProto";
  if (depth > 2) return rq__fail(RQ_ERR_UNSUPPORTED, __func__, "%s nests deeper than razorq's value kinds", what);
  RQ_TRY(rq__tensor_create_container(kind, RQ__DT_UNDEFINED, out));
  rq__tensor *c = *out;
  wire w = {data, data + size};
  rq_status st = RQ_OK;
  while (st == RQ_OK && w.p < w.end) {
    uint32_t field;
    int type;
    uint64_t v = 0;
    const uint8_t *bytes = NULL;
    size_t len = 0;
    if (!wire_field(&w, &field, &type, &v, &bytes, &len)) {
      st = rq__fail(RQ_ERR_FORMAT, __func__, "not a valid %s (truncated or malformed field)", what);
      break;
    }
    /* name (1) and elem_type (2) are not needed: the items say what they are */
    if ((field == 3 || field == 5 || field == 7) && type == 2) {
      if (kind == RQ__KIND_OPTIONAL && c->n_items > 0) {
        st = rq__fail(RQ_ERR_FORMAT, __func__, "OptionalProto holds more than one value");
        break;
      }
      int item_kind = field == 3 ? RQ__KIND_TENSOR : field == 5 ? RQ__KIND_SEQUENCE : RQ__KIND_OPTIONAL;
      if (kind == RQ__KIND_SEQUENCE && item_kind != RQ__KIND_TENSOR) {
        st = rq__fail(RQ_ERR_UNSUPPORTED, __func__, "a sequence of %ss (razorq's sequences hold tensors)",
                      rq__kind_name(item_kind));
        break;
      }
      if (item_kind == RQ__KIND_OPTIONAL) {
        st = rq__fail(RQ_ERR_UNSUPPORTED, __func__, "an optional holding an optional");
        break;
      }
      rq__tensor *item;
      st = value_from_wire(bytes, len, item_kind, depth + 1, &item);
      if (st != RQ_OK) break;
      if (c->n_items == 0) c->dtype = item->dtype;
      if (kind == RQ__KIND_SEQUENCE && item->dtype != c->dtype) {
        st = rq__fail(RQ_ERR_FORMAT, __func__, "SequenceProto mixes element types %s and %s",
                      rq__dtype_name(c->dtype), rq__dtype_name(item->dtype));
        rq__tensor_destroy(item);
        break;
      }
      st = rq__tensor_insert_item(c, c->n_items, item);
    } else if ((field == 4 || field == 6) && type == 2) {
      st = rq__fail(RQ_ERR_UNSUPPORTED, __func__, "%s holds sparse tensors or maps", what);
    } /* other fields are skipped, as protobuf readers do */
  }
  if (st != RQ_OK) {
    rq__tensor_destroy(c);
    *out = NULL;
  }
  return st;
}

static rq_status value_from_wire(const uint8_t *data, size_t size, int kind, int depth, rq__tensor **out) {
  if (kind == RQ__KIND_TENSOR) return rq__tensor_from_proto_buffer(data, size, out);
  return container_from_wire(data, size, kind, depth, out);
}

rq_status rq__value_from_proto_buffer(const void *data, size_t size, int kind, rq__tensor **out) {
  RQ_CHECK_NOT_NULL(out);
  *out = NULL;
  RQ_CHECK_ARG(data != NULL || size == 0, "data is NULL");
  RQ_CHECK_ARG(kind == RQ__KIND_TENSOR || kind == RQ__KIND_SEQUENCE || kind == RQ__KIND_OPTIONAL, "kind %d", kind);
  return value_from_wire(data, size, kind, 0, out);
}

rq_status rq__value_from_proto_file(const char *path, int kind, rq__tensor **out) {
  RQ_CHECK_NOT_NULL(path);
  RQ_CHECK_NOT_NULL(out);
  *out = NULL;
  void *data;
  size_t size;
  RQ_TRY(rq__read_file(path, &data, &size));
  rq_status s = rq__value_from_proto_buffer(data, size, kind, out);
  rq__free(data);
  if (s != RQ_OK) {
    char detail[512];
    snprintf(detail, sizeof detail, "%s", rq_last_error());
    return rq__fail(s, path, "%s", detail);
  }
  return RQ_OK;
}

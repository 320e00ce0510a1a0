/* SPDX-License-Identifier: Apache-2.0 */
/* The .npy reader and writer against files NumPy wrote (tests/npy/gen_npy.py):
 * every value is checked against a second encoding of the same array (raw
 * little-endian C-order bytes), and files the writer produces are compared
 * byte for byte with NumPy's. Malformed files are built here by corrupting a
 * NumPy-written file or by writing a header by hand. */
#include <razorq/razorq.h>

#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char data_dir[4096];
static char tmp_dir[64];

static void setup(void) {
  const char *root = getenv("RAZORQ_SOURCE_ROOT");
  ck_assert_msg(root != NULL, "RAZORQ_SOURCE_ROOT is not set (run through meson test)");
  snprintf(data_dir, sizeof data_dir, "%s/tests/npy/data", root);
  strcpy(tmp_dir, "/tmp/rq_npy_test_XXXXXX");
  ck_assert_ptr_nonnull(mkdtemp(tmp_dir));
}

static void teardown(void) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_dir);
  ck_assert_int_eq(system(cmd), 0);
}

typedef struct bytes {
  unsigned char *data;
  size_t size;
} bytes;

static bytes read_file(const char *path) {
  FILE *f = fopen(path, "rb");
  ck_assert_msg(f != NULL, "cannot open %s", path);
  fseek(f, 0, SEEK_END);
  long size = ftell(f);
  fseek(f, 0, SEEK_SET);
  bytes b = {malloc((size_t)size + 1), (size_t)size};
  ck_assert_uint_eq(fread(b.data, 1, b.size, f), b.size);
  fclose(f);
  return b;
}

static void write_file(const char *path, const void *data, size_t size) {
  FILE *f = fopen(path, "wb");
  ck_assert_ptr_nonnull(f);
  ck_assert_uint_eq(fwrite(data, 1, size, f), size);
  fclose(f);
}

static bytes golden(const char *name, const char *ext) {
  char path[4200];
  snprintf(path, sizeof path, "%s/%s%s", data_dir, name, ext);
  return read_file(path);
}

static json_t *load_cases(void) {
  char path[4200];
  snprintf(path, sizeof path, "%s/cases.json", data_dir);
  json_error_t err;
  json_t *cases = json_load_file(path, 0, &err);
  ck_assert_msg(cases != NULL && json_is_array(cases), "cannot read %s: %s", path, err.text);
  ck_assert_uint_gt(json_array_size(cases), 20);
  return cases;
}

/* The DLPack type a NumPy kind/size should map to, written out independently of the library's table. */
static DLDataType expected_dtype(const char *npy_code) {
  DLDataType t = {.bits = (uint8_t)(8 * atoi(npy_code + 1)), .lanes = 1};
  switch (npy_code[0]) {
    case 'f': t.code = kDLFloat; break;
    case 'i': t.code = kDLInt; break;
    case 'u': t.code = kDLUInt; break;
    case 'b': t.code = RQ_DL_BOOL; break;
    default: ck_abort_msg("unknown dtype %s in cases.json", npy_code);
  }
  return t;
}

/* Checks a loaded array against the case's dtype, shape and raw bytes. */
static void check_against_case(const rq_npy *npy, json_t *c, const bytes *raw) {
  const char *name = json_string_value(json_object_get(c, "name"));
  DLTensor view;
  ck_assert_int_eq(rq_npy_dltensor(npy, &view), RQ_OK);
  DLDataType want = expected_dtype(json_string_value(json_object_get(c, "dtype")));
  ck_assert_msg(view.dtype.code == want.code && view.dtype.bits == want.bits && view.dtype.lanes == 1,
                "%s: dtype %u/%u", name, view.dtype.code, view.dtype.bits);
  ck_assert_int_eq(view.device.device_type, kDLCPU);
  ck_assert_ptr_null(view.strides);
  ck_assert_uint_eq(view.byte_offset, 0);
  json_t *shape = json_object_get(c, "shape");
  ck_assert_int_eq(view.ndim, (int)json_array_size(shape));
  size_t count = 1;
  for (int i = 0; i < view.ndim; i++) {
    ck_assert_int_eq(view.shape[i], json_integer_value(json_array_get(shape, (size_t)i)));
    count *= (size_t)view.shape[i];
  }
  ck_assert_uint_eq(count * (view.dtype.bits / 8), raw->size);
  ck_assert_msg(raw->size == 0 || memcmp(view.data, raw->data, raw->size) == 0, "%s: values differ", name);
}

START_TEST(golden_files_load_with_numpy_values) {
  json_t *cases = load_cases();
  size_t before = rq_memory_in_use();
  size_t i;
  json_t *c;
  json_array_foreach(cases, i, c) {
    const char *name = json_string_value(json_object_get(c, "name"));
    char path[4200];
    snprintf(path, sizeof path, "%s/%s.npy", data_dir, name);
    bytes raw = golden(name, ".raw");

    rq_npy *npy = NULL;
    ck_assert_msg(rq_npy_load(path, &npy) == RQ_OK, "%s: %s", name, rq_last_error());
    check_against_case(npy, c, &raw);
    rq_npy_destroy(npy);

    bytes file = read_file(path);
    ck_assert_msg(rq_npy_load_buffer(file.data, file.size, &npy) == RQ_OK, "%s: %s", name, rq_last_error());
    check_against_case(npy, c, &raw);
    rq_npy_destroy(npy);
    free(file.data);
    free(raw.data);
  }
  ck_assert_uint_eq(rq_memory_in_use(), before);
  json_decref(cases);
}
END_TEST

/* For files NumPy writes the way razorq does (1.0, C order, little-endian),
 * saving what was loaded must reproduce NumPy's file exactly; the others must
 * round-trip to the same values. */
START_TEST(saved_files_match_numpy_byte_for_byte) {
  json_t *cases = load_cases();
  size_t i, identical = 0;
  json_t *c;
  json_array_foreach(cases, i, c) {
    const char *name = json_string_value(json_object_get(c, "name"));
    char in[4200], out[4200];
    snprintf(in, sizeof in, "%s/%s.npy", data_dir, name);
    snprintf(out, sizeof out, "%s/%s.npy", tmp_dir, name);
    rq_npy *npy = NULL;
    ck_assert_int_eq(rq_npy_load(in, &npy), RQ_OK);
    DLTensor view;
    ck_assert_int_eq(rq_npy_dltensor(npy, &view), RQ_OK);
    ck_assert_msg(rq_npy_save(out, &view) == RQ_OK, "%s: %s", name, rq_last_error());
    rq_npy_destroy(npy);

    bool same_layout = strcmp(json_string_value(json_object_get(c, "version")), "1.0") == 0 &&
                       !json_is_true(json_object_get(c, "fortran_order")) &&
                       !json_is_true(json_object_get(c, "big_endian"));
    if (same_layout) {
      bytes want = read_file(in), got = read_file(out);
      ck_assert_msg(want.size == got.size && memcmp(want.data, got.data, want.size) == 0,
                    "%s: written file differs from NumPy's", name);
      free(want.data);
      free(got.data);
      identical++;
    } else {
      bytes raw = golden(name, ".raw");
      ck_assert_int_eq(rq_npy_load(out, &npy), RQ_OK);
      check_against_case(npy, c, &raw);
      rq_npy_destroy(npy);
      free(raw.data);
    }
  }
  ck_assert_uint_gt(identical, 15);
  json_decref(cases);
}
END_TEST

static void save_view_and_compare(DLTensor *view, const char *golden_name) {
  char out[4200];
  snprintf(out, sizeof out, "%s/strided.npy", tmp_dir);
  ck_assert_msg(rq_npy_save(out, view) == RQ_OK, "%s", rq_last_error());
  bytes want = golden(golden_name, ".npy"), got = read_file(out);
  ck_assert_msg(want.size == got.size && memcmp(want.data, got.data, want.size) == 0,
                "strided save differs from NumPy's %s", golden_name);
  free(want.data);
  free(got.data);
}

START_TEST(strided_input_is_written_in_c_order) {
  char in[4200];
  snprintf(in, sizeof in, "%s/f4_fortran_3x4x5.npy", data_dir);
  rq_npy *npy = NULL;
  ck_assert_int_eq(rq_npy_load(in, &npy), RQ_OK);
  DLTensor view;
  ck_assert_int_eq(rq_npy_dltensor(npy, &view), RQ_OK);
  /* NumPy's a.transpose(2, 0, 1) of the C-order (3, 4, 5) array. */
  int64_t shape[3] = {5, 3, 4}, strides[3] = {1, 20, 5};
  view.shape = shape;
  view.strides = strides;
  view.ndim = 3;
  save_view_and_compare(&view, "f4_3x4x5_transposed_201");

  /* The same elements reached through byte_offset and negative strides:
   * start at the last element and walk backwards along axes 1 and 2, over a
   * reversed copy of the data. */
  float *reversed = malloc(60 * sizeof(float));
  for (int k = 0; k < 60; k++) reversed[k] = ((float *)view.data)[59 - k];
  int64_t rshape[3] = {5, 3, 4}, rstrides[3] = {-1, -20, -5};
  DLTensor rview = view;
  rview.data = reversed;
  rview.byte_offset = 59 * sizeof(float);
  rview.shape = rshape;
  rview.strides = rstrides;
  save_view_and_compare(&rview, "f4_3x4x5_transposed_201");
  free(reversed);
  rq_npy_destroy(npy);
}
END_TEST

START_TEST(explicit_c_strides_take_the_contiguous_path) {
  char in[4200];
  snprintf(in, sizeof in, "%s/f4_3x4.npy", data_dir);
  rq_npy *npy = NULL;
  ck_assert_int_eq(rq_npy_load(in, &npy), RQ_OK);
  DLTensor view;
  ck_assert_int_eq(rq_npy_dltensor(npy, &view), RQ_OK);
  int64_t strides[2] = {4, 1};
  view.strides = strides;
  save_view_and_compare(&view, "f4_3x4");
  rq_npy_destroy(npy);
}
END_TEST

/* ------------------------------------------------------- malformed files */

/* Loads `b` from memory and from a file; both must fail with `status` and a
 * message containing `fragment`, leave *out NULL and allocate nothing. */
static void expect_refused(const void *data, size_t size, rq_status status, const char *fragment) {
  size_t before = rq_memory_in_use();
  rq_npy *npy = (rq_npy *)&npy; /* must be overwritten with NULL */
  rq_status s = rq_npy_load_buffer(data, size, &npy);
  ck_assert_msg(s == status, "buffer: expected %s, got %s (%s)", rq_status_str(status), rq_status_str(s),
                rq_last_error());
  ck_assert_ptr_null(npy);
  ck_assert_msg(strstr(rq_last_error(), fragment) != NULL, "buffer: message '%s' lacks '%s'", rq_last_error(),
                fragment);
  ck_assert_msg(strstr(rq_last_error(), "rq_npy_load_buffer: ") == rq_last_error(), "%s", rq_last_error());

  char path[128];
  snprintf(path, sizeof path, "%s/bad.npy", tmp_dir);
  write_file(path, data, size);
  npy = (rq_npy *)&npy;
  s = rq_npy_load(path, &npy);
  ck_assert_msg(s == status, "file: expected %s, got %s (%s)", rq_status_str(status), rq_status_str(s),
                rq_last_error());
  ck_assert_ptr_null(npy);
  ck_assert_msg(strstr(rq_last_error(), fragment) != NULL, "file: message '%s' lacks '%s'", rq_last_error(),
                fragment);
  ck_assert_msg(strstr(rq_last_error(), path) != NULL, "file: message '%s' lacks the path", rq_last_error());
  ck_assert_uint_eq(rq_memory_in_use(), before);
}

/* A version 1.0 file with `header` (padded as NumPy pads) and `data_len` zero bytes. */
static bytes hand_made(const char *header, size_t data_len) {
  size_t len = strlen(header);
  size_t padded = len + 1;
  while ((10 + padded) % 64 != 0) padded++;
  bytes b = {calloc(1, 10 + padded + data_len + 1), 10 + padded + data_len};
  memcpy(b.data, "\x93NUMPY\x01\x00", 8);
  b.data[8] = (unsigned char)(padded & 0xff);
  b.data[9] = (unsigned char)(padded >> 8);
  memcpy(b.data + 10, header, len);
  memset(b.data + 10 + len, ' ', padded - len - 1);
  b.data[10 + padded - 1] = '\n';
  return b;
}

static void expect_header_refused(const char *header, size_t data_len, rq_status status, const char *fragment) {
  bytes b = hand_made(header, data_len);
  expect_refused(b.data, b.size, status, fragment);
  free(b.data);
}

START_TEST(corrupted_numpy_file_is_refused) {
  bytes good = golden("f4_3x4", ".npy"); /* 128-byte preamble+header, 48 data bytes */
  ck_assert_uint_eq(good.size, 176);
  unsigned char b[176 + 16];

  expect_refused(b, 0, RQ_ERR_FORMAT, "bad magic");
  memcpy(b, good.data, good.size);
  b[1] = 'X';
  expect_refused(b, good.size, RQ_ERR_FORMAT, "bad magic");
  expect_refused(good.data, 7, RQ_ERR_FORMAT, "truncated");
  expect_refused(good.data, 9, RQ_ERR_FORMAT, "truncated");

  memcpy(b, good.data, good.size);
  b[6] = 4;
  expect_refused(b, good.size, RQ_ERR_UNSUPPORTED, "version 4.0");
  b[6] = 1;
  b[7] = 1;
  expect_refused(b, good.size, RQ_ERR_UNSUPPORTED, "version 1.1");

  memcpy(b, good.data, good.size);
  b[8] = 0xff;
  b[9] = 0x7f; /* header length 32767: past the end */
  expect_refused(b, good.size, RQ_ERR_FORMAT, "bad header length 32767");
  b[8] = 0;
  b[9] = 0;
  expect_refused(b, good.size, RQ_ERR_FORMAT, "bad header length 0");
  b[8] = 40; /* cuts the dict short */
  expect_refused(b, good.size, RQ_ERR_FORMAT, "malformed header");

  /* The same file reinterpreted as version 2.0 reads a 4-byte length that is absurd. */
  memcpy(b, good.data, good.size);
  b[6] = 2;
  expect_refused(b, good.size, RQ_ERR_FORMAT, "bad header length");

  expect_refused(good.data, good.size - 4, RQ_ERR_FORMAT, "truncated data");
  expect_refused(good.data, 128, RQ_ERR_FORMAT, "truncated data");
  memcpy(b, good.data, good.size);
  memset(b + good.size, 0, 16);
  expect_refused(b, good.size + 16, RQ_ERR_FORMAT, "16 bytes of unexpected data");

  /* Replace the descr with an object dtype of the same length. */
  memcpy(b, good.data, good.size);
  char *descr = strstr((char *)b + 10, "'<f4'");
  ck_assert_ptr_nonnull(descr);
  memcpy(descr, "'|O' ", 5);
  expect_refused(b, good.size, RQ_ERR_UNSUPPORTED, "object arrays");

  /* A NUL inside the header. */
  memcpy(b, good.data, good.size);
  b[20] = '\0';
  expect_refused(b, good.size, RQ_ERR_FORMAT, "byte 0x00");
  free(good.data);
}
END_TEST

START_TEST(malformed_headers_are_refused) {
  expect_header_refused("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", 16, RQ_ERR_UNSUPPORTED,
                        "object arrays");
  expect_header_refused("{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }", 16, RQ_ERR_UNSUPPORTED,
                        "'<c8' is not supported");
  expect_header_refused("{'descr': '<U3', 'fortran_order': False, 'shape': (2,), }", 24, RQ_ERR_UNSUPPORTED,
                        "'<U3' is not supported");
  expect_header_refused("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }", 8,
                        RQ_ERR_UNSUPPORTED, "structured");
  expect_header_refused("{'descr': '<x4', 'fortran_order': False, 'shape': (2,), }", 8, RQ_ERR_FORMAT,
                        "not a NumPy type string");
  expect_header_refused("{'descr': '|f4', 'fortran_order': False, 'shape': (2,), }", 8, RQ_ERR_FORMAT,
                        "byte order");
  expect_header_refused("{'descr': '=f4', 'fortran_order': False, 'shape': (2,), }", 8, RQ_ERR_FORMAT,
                        "ambiguous");
  expect_header_refused("{'descr': 'f4', 'fortran_order': False, 'shape': (2,), }", 8, RQ_ERR_FORMAT,
                        "byte order");
  expect_header_refused("{'descr': '<f4', 'fortran_order': False, }", 8, RQ_ERR_FORMAT, "missing key 'shape'");
  expect_header_refused("{'descr': '<f4', 'shape': (2,), }", 8, RQ_ERR_FORMAT, "missing key 'fortran_order'");
  expect_header_refused("{}", 0, RQ_ERR_FORMAT, "missing key 'descr'");
  expect_header_refused("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", 8,
                        RQ_ERR_FORMAT, "appears twice");
  expect_header_refused("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'extra': 1, }", 8,
                        RQ_ERR_FORMAT, "unknown key 'extra'");
  expect_header_refused("{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }", 8, RQ_ERR_FORMAT,
                        "negative");
  expect_header_refused("{'descr': '<f4', 'fortran_order': False, 'shape': (2), }", 8, RQ_ERR_FORMAT,
                        "not a tuple");
  expect_header_refused("{'descr': '<f4', 'fortran_order': False, 'shape': [2], }", 8, RQ_ERR_FORMAT,
                        "expected '('");
  expect_header_refused("{'descr': '<f4', 'fortran_order': False, 'shape': (02,), }", 8, RQ_ERR_FORMAT,
                        "leading zero");
  expect_header_refused("{'descr': '<f4', 'fortran_order': False, 'shape': (2.0,), }", 8, RQ_ERR_FORMAT,
                        "expected ','");
  expect_header_refused("{'descr': '<f4', 'fortran_order': False, 'shape': (2,,), }", 8, RQ_ERR_FORMAT,
                        "expected a dimension");
  expect_header_refused("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }", 8,
                        RQ_ERR_FORMAT, "64 bits");
  expect_header_refused("{'descr': '<f4', 'fortran_order': 0, 'shape': (2,), }", 8, RQ_ERR_FORMAT,
                        "True or False");
  expect_header_refused("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), ", 8, RQ_ERR_FORMAT,
                        "expected a quoted key");
  expect_header_refused("{'descr': '<f4', 'fortran_order': False, 'shape': (2,)} x", 8, RQ_ERR_FORMAT,
                        "after the dict");
  expect_header_refused("{'descr': '<f4", 8, RQ_ERR_FORMAT, "descr is too long");
  /* Without NumPy's padding the string runs into the end of the header. */
  unsigned char unpadded[] = "\x93NUMPY\x01\x00\x0e\x00{'descr': '<f4";
  expect_refused(unpadded, sizeof unpadded - 1, RQ_ERR_FORMAT, "unterminated descr");
  expect_header_refused("{'descr': '<f\\4', 'fortran_order': False, 'shape': (2,)}", 8, RQ_ERR_FORMAT,
                        "inside a descr");
  expect_header_refused("{'descr': '<f\xc3\xa9" "4', 'fortran_order': False, 'shape': (2,)}", 8, RQ_ERR_FORMAT,
                        "byte 0xc3");
  expect_header_refused("['descr', '<f4']", 8, RQ_ERR_FORMAT, "expected '{'");
  /* Sizes: an overflowing product, and a huge one that does not overflow but
   * is not in the file, both refused before any allocation. */
  expect_header_refused("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4), }", 4,
                        RQ_ERR_FORMAT, "overflows");
  expect_header_refused("{'descr': '<f8', 'fortran_order': False, 'shape': (1000000000, 1000000), }", 8,
                        RQ_ERR_FORMAT, "truncated data");
  expect_header_refused("{'descr': '<f4', 'fortran_order': False, 'shape': (9223372036854775807, 2), }", 8,
                        RQ_ERR_FORMAT, "overflows");
  char many[512] = "{'descr': '<f4', 'fortran_order': False, 'shape': (";
  for (int i = 0; i < RQ_NPY_MAX_DIMS + 1; i++) strcat(many, "1, ");
  strcat(many, "), }");
  expect_header_refused(many, 4, RQ_ERR_UNSUPPORTED, "more than 32 dimensions");
}
END_TEST

START_TEST(python_literal_variants_numpy_accepts_are_read) {
  /* Valid Python dict syntax NumPy's reader accepts though it writes it
   * differently: double quotes, other key order, no trailing comma, tabs,
   * and a zero dimension that makes a huge other dimension harmless. */
  const char *headers[] = {
      "{\"shape\": (2,), \"fortran_order\": False, \"descr\": \"<i4\"}",
      "{ 'descr' :'<i4','fortran_order':False,'shape':( 2 , ) }",
      "{'descr':\t'<i4',\t'fortran_order': True, 'shape': (2,),}",
  };
  const int32_t values[2] = {-7, 123456};
  for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++) {
    bytes b = hand_made(headers[i], sizeof values);
    memcpy(b.data + b.size - sizeof values, values, sizeof values);
    rq_npy *npy = NULL;
    ck_assert_msg(rq_npy_load_buffer(b.data, b.size, &npy) == RQ_OK, "%s: %s", headers[i], rq_last_error());
    DLTensor view;
    ck_assert_int_eq(rq_npy_dltensor(npy, &view), RQ_OK);
    ck_assert_int_eq(view.ndim, 1);
    ck_assert_int_eq(view.shape[0], 2);
    ck_assert_int_eq(view.dtype.code, kDLInt);
    ck_assert_int_eq(view.dtype.bits, 32);
    ck_assert_mem_eq(view.data, values, sizeof values);
    rq_npy_destroy(npy);
    free(b.data);
  }
  bytes b = hand_made("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 9223372036854775807), }", 0);
  rq_npy *npy = NULL;
  ck_assert_msg(rq_npy_load_buffer(b.data, b.size, &npy) == RQ_OK, "%s", rq_last_error());
  DLTensor view;
  ck_assert_int_eq(rq_npy_dltensor(npy, &view), RQ_OK);
  ck_assert_int_eq(view.shape[1], INT64_MAX);
  rq_npy_destroy(npy);
  free(b.data);
}
END_TEST

START_TEST(file_errors_are_io_errors) {
  rq_npy *npy = NULL;
  char path[128];
  snprintf(path, sizeof path, "%s/missing.npy", tmp_dir);
  ck_assert_int_eq(rq_npy_load(path, &npy), RQ_ERR_IO);
  ck_assert_ptr_nonnull(strstr(rq_last_error(), "cannot open"));
  ck_assert_ptr_nonnull(strstr(rq_last_error(), path));
  ck_assert_int_eq(rq_npy_load(tmp_dir, &npy), RQ_ERR_IO);
  ck_assert_ptr_nonnull(strstr(rq_last_error(), "not a regular file"));

  float x[2] = {1, 2};
  int64_t shape[1] = {2};
  DLTensor t = {.data = x, .device = {kDLCPU, 0}, .ndim = 1, .dtype = {kDLFloat, 32, 1}, .shape = shape};
  snprintf(path, sizeof path, "%s/no/such/dir/x.npy", tmp_dir);
  ck_assert_int_eq(rq_npy_save(path, &t), RQ_ERR_IO);
  ck_assert_ptr_nonnull(strstr(rq_last_error(), "cannot open for writing"));
}
END_TEST

START_TEST(bad_arguments_are_refused) {
  rq_npy *npy = (rq_npy *)&npy;
  ck_assert_int_eq(rq_npy_load(NULL, &npy), RQ_ERR_INVALID_ARG);
  ck_assert_ptr_null(npy);
  ck_assert_str_eq(rq_last_error(), "rq_npy_load: path is NULL");
  ck_assert_int_eq(rq_npy_load("x.npy", NULL), RQ_ERR_INVALID_ARG);
  ck_assert_str_eq(rq_last_error(), "rq_npy_load: out is NULL");
  ck_assert_int_eq(rq_npy_load_buffer(NULL, 10, &npy), RQ_ERR_INVALID_ARG);
  ck_assert_str_eq(rq_last_error(), "rq_npy_load_buffer: data is NULL but size is 10");
  ck_assert_int_eq(rq_npy_load_buffer(NULL, 0, &npy), RQ_ERR_FORMAT);
  DLTensor view;
  ck_assert_int_eq(rq_npy_dltensor(NULL, &view), RQ_ERR_INVALID_ARG);
  ck_assert_str_eq(rq_last_error(), "rq_npy_dltensor: npy is NULL");
  rq_npy_destroy(NULL);

  char path[128];
  snprintf(path, sizeof path, "%s/out.npy", tmp_dir);
  float x[4] = {0};
  int64_t shape[2] = {2, 2};
  DLTensor good = {.data = x, .device = {kDLCPU, 0}, .ndim = 2, .dtype = {kDLFloat, 32, 1}, .shape = shape};
  ck_assert_int_eq(rq_npy_save(NULL, &good), RQ_ERR_INVALID_ARG);
  ck_assert_int_eq(rq_npy_save(path, NULL), RQ_ERR_INVALID_ARG);
  ck_assert_str_eq(rq_last_error(), "rq_npy_save: tensor is NULL");

  DLTensor t = good;
  t.device.device_type = kDLCUDA;
  ck_assert_int_eq(rq_npy_save(path, &t), RQ_ERR_INVALID_ARG);
  ck_assert_ptr_nonnull(strstr(rq_last_error(), "not host memory"));
  t = good;
  t.ndim = -1;
  ck_assert_int_eq(rq_npy_save(path, &t), RQ_ERR_INVALID_ARG);
  t.ndim = 33;
  ck_assert_int_eq(rq_npy_save(path, &t), RQ_ERR_INVALID_ARG);
  ck_assert_ptr_nonnull(strstr(rq_last_error(), "outside 0..32"));
  t = good;
  t.shape = NULL;
  ck_assert_int_eq(rq_npy_save(path, &t), RQ_ERR_INVALID_ARG);
  t = good;
  int64_t negative[2] = {2, -1};
  t.shape = negative;
  ck_assert_int_eq(rq_npy_save(path, &t), RQ_ERR_INVALID_ARG);
  ck_assert_ptr_nonnull(strstr(rq_last_error(), "negative"));
  t = good;
  t.data = NULL;
  ck_assert_int_eq(rq_npy_save(path, &t), RQ_ERR_INVALID_ARG);
  ck_assert_ptr_nonnull(strstr(rq_last_error(), "data is NULL"));
  t = good;
  t.dtype = (DLDataType){kDLBfloat, 16, 1};
  ck_assert_int_eq(rq_npy_save(path, &t), RQ_ERR_UNSUPPORTED);
  ck_assert_ptr_nonnull(strstr(rq_last_error(), "bfloat16"));
  t.dtype = (DLDataType){kDLFloat, 32, 4};
  ck_assert_int_eq(rq_npy_save(path, &t), RQ_ERR_UNSUPPORTED);
  t.dtype = (DLDataType){kDLComplex, 64, 1};
  ck_assert_int_eq(rq_npy_save(path, &t), RQ_ERR_UNSUPPORTED);
  t = good;
  int64_t huge[2] = {INT64_MAX, 4};
  t.shape = huge;
  ck_assert_int_eq(rq_npy_save(path, &t), RQ_ERR_INVALID_ARG);
  ck_assert_ptr_nonnull(strstr(rq_last_error(), "overflows"));
  /* Nothing was created by the refused calls. */
  ck_assert_int_ne(access(path, F_OK), 0);
}
END_TEST

START_TEST(booleans_are_written_as_zero_or_one) {
  unsigned char flags[3] = {0, 7, 1};
  int64_t shape[1] = {3};
  DLTensor t = {.data = flags, .device = {kDLCPU, 0}, .ndim = 1, .dtype = {RQ_DL_BOOL, 8, 1}, .shape = shape};
  char path[128];
  snprintf(path, sizeof path, "%s/b.npy", tmp_dir);
  ck_assert_int_eq(rq_npy_save(path, &t), RQ_OK);
  bytes b = read_file(path);
  ck_assert_ptr_nonnull(strstr((char *)b.data + 10, "'descr': '|b1'"));
  ck_assert_uint_eq(b.size, 128 + 3);
  ck_assert_int_eq(b.data[128], 0);
  ck_assert_int_eq(b.data[129], 1);
  ck_assert_int_eq(b.data[130], 1);
  free(b.data);
}
END_TEST

/* --------------------------------------------- allocation failures leak nothing */

static int allocations_left;
static void *failing_malloc(void *ctx, size_t size) {
  (void)ctx;
  return allocations_left-- > 0 ? malloc(size) : NULL;
}
static void plain_free(void *ctx, void *ptr, size_t size) {
  (void)ctx;
  (void)size;
  free(ptr);
}

START_TEST(out_of_memory_is_reported_without_leaks) {
  rq_allocator a;
  ck_assert_int_eq(rq_allocator_init(&a, sizeof a), RQ_OK);
  a.malloc = failing_malloc;
  a.realloc = NULL;
  a.free = plain_free;
  ck_assert_int_eq(rq_set_allocator(&a), RQ_OK);
  char in[4200];
  snprintf(in, sizeof in, "%s/f4_fortran_3x4x5.npy", data_dir);
  bytes file = read_file(in);
  bool succeeded = false;
  for (int budget = 0; budget < 10 && !succeeded; budget++) {
    for (int from_file = 0; from_file < 2; from_file++) {
      allocations_left = budget;
      rq_npy *npy = NULL;
      rq_status s = from_file ? rq_npy_load(in, &npy) : rq_npy_load_buffer(file.data, file.size, &npy);
      if (s == RQ_OK) {
        succeeded = true;
        rq_npy_destroy(npy);
      } else {
        ck_assert_int_eq(s, RQ_ERR_NOMEM);
        ck_assert_ptr_null(npy);
        ck_assert_ptr_nonnull(strstr(rq_last_error(), "out of memory"));
      }
      ck_assert_uint_eq(rq_memory_in_use(), 0);
    }
  }
  ck_assert(succeeded);
  free(file.data);
  ck_assert_int_eq(rq_set_allocator(NULL), RQ_OK);
}
END_TEST

int main(void) {
  Suite *s = suite_create("npy");
  TCase *tc = tcase_create("npy");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, golden_files_load_with_numpy_values);
  tcase_add_test(tc, saved_files_match_numpy_byte_for_byte);
  tcase_add_test(tc, strided_input_is_written_in_c_order);
  tcase_add_test(tc, explicit_c_strides_take_the_contiguous_path);
  tcase_add_test(tc, corrupted_numpy_file_is_refused);
  tcase_add_test(tc, malformed_headers_are_refused);
  tcase_add_test(tc, python_literal_variants_numpy_accepts_are_read);
  tcase_add_test(tc, file_errors_are_io_errors);
  tcase_add_test(tc, bad_arguments_are_refused);
  tcase_add_test(tc, booleans_are_written_as_zero_or_one);
  tcase_add_test(tc, out_of_memory_is_reported_without_leaks);
  suite_add_tcase(s, tc);
  SRunner *sr = srunner_create(s);
  srunner_run_all(sr, CK_NORMAL);
  int failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

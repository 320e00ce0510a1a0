/* SPDX-License-Identifier: Apache-2.0 */
/* NumPy .npy files: a validated reader and a writer.
 *
 * Reads format versions 1.0, 2.0 and 3.0 with the dtypes f2 f4 f8 i1 u1 i2 u2
 * i4 u4 i8 u8 b1, either byte order (converted to the host's), C or Fortran
 * order (Fortran data is transposed to C order). Every other file is refused
 * with RQ_ERR_FORMAT (malformed) or RQ_ERR_UNSUPPORTED (valid NumPy, but e.g.
 * complex, string, structured or object dtypes) and a message in
 * rq_last_error() naming the problem. Sizes are checked against the real file
 * size before anything is allocated. See doc/npy.md. */
#ifndef RAZORQ_NPY_H
#define RAZORQ_NPY_H

#include <razorq/common.h>
#include <razorq/status.h>

RQ_EXTERN_C_BEGIN

/* The most dimensions a .npy array may have here (NumPy 1.x's NPY_MAXDIMS). */
#define RQ_NPY_MAX_DIMS 32

/* DLPack 0.6 (Debian's) has no boolean type code; DLPack 0.8 added
 * kDLBool = 6. razorq uses that value for NumPy's b1 (bits 8, one byte per
 * element holding 0 or 1), so code written against a newer DLPack agrees. */
#define RQ_DL_BOOL 6

/* An array read from a .npy file: owns its C-contiguous data. */
typedef struct rq_npy rq_npy;

/* Reads the .npy file at `path` into a new handle (*out, destroyed with
 * rq_npy_destroy). On failure *out is set to NULL. */
RQ_API rq_status rq_npy_load(const char *path, rq_npy **out);

/* The same from `size` bytes in memory (a whole .npy file); the bytes are
 * copied, so `data` may be freed afterwards. */
RQ_API rq_status rq_npy_load_buffer(const void *data, size_t size, rq_npy **out);

/* Fills *view with a DLTensor over the handle's memory: CPU device,
 * C-contiguous (strides NULL), byte_offset 0, lanes 1. `view->shape` and
 * `view->data` point into the handle and stay valid until rq_npy_destroy;
 * the data may be written, the shape must not be. */
RQ_API rq_status rq_npy_dltensor(const rq_npy *npy, DLTensor *view);

/* Destroys a handle from rq_npy_load*; NULL is ignored. */
RQ_API void rq_npy_destroy(rq_npy *npy);

/* Writes `tensor` (CPU memory, contiguous or strided, any supported dtype
 * including RQ_DL_BOOL) to `path` as a format 1.0 .npy file in C order and
 * little-endian, readable by numpy.load. bfloat16 has no .npy type and is
 * refused (save a uint16 view of it instead). */
RQ_API rq_status rq_npy_save(const char *path, const DLTensor *tensor);

RQ_EXTERN_C_END

#endif

/* SPDX-License-Identifier: Apache-2.0 */
/* libFuzzer target for the .npy reader: any bytes must either load into a
 * consistent array or be refused with a message, never crash, leak or read
 * out of bounds. Built with -DRQ_FUZZ_REPLAY it gets a main() that replays
 * the files and directories named on its command line, so the corpus
 * (tests/fuzz/corpus/npy) runs as an ordinary test without libFuzzer. */
#include <razorq/razorq.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  rq_npy *npy = NULL;
  rq_status s = rq_npy_load_buffer(data, size, &npy);
  if (s != RQ_OK) {
    /* Refusals must explain themselves. */
    if (npy != NULL || rq_last_error()[0] == '\0') abort();
    return 0;
  }
  DLTensor view;
  if (rq_npy_dltensor(npy, &view) != RQ_OK) abort();
  if (view.ndim < 0 || view.ndim > RQ_NPY_MAX_DIMS || view.dtype.lanes != 1 || view.dtype.bits % 8 != 0) abort();
  size_t count = 1;
  for (int i = 0; i < view.ndim; i++) {
    if (view.shape[i] < 0) abort();
    count *= (size_t)view.shape[i];
  }
  /* The loaded data can be no larger than the input; touching every byte lets
   * the sanitizers check the handle really owns that much memory. */
  size_t nbytes = count * (view.dtype.bits / 8);
  if (nbytes > size) abort();
  volatile unsigned char sink = 0;
  for (size_t i = 0; i < nbytes; i++) sink ^= ((const unsigned char *)view.data)[i];
  (void)sink;
  rq_npy_destroy(npy);
  return 0;
}

#ifdef RQ_FUZZ_REPLAY
#include <dirent.h>
#include <sys/stat.h>

static int replay_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    perror(path);
    return 1;
  }
  size_t cap = 1 << 16, size = 0, n;
  unsigned char *buf = malloc(cap);
  while (buf != NULL && (n = fread(buf + size, 1, cap - size, f)) > 0) {
    size += n;
    if (size == cap) buf = realloc(buf, cap *= 2);
  }
  fclose(f);
  if (buf == NULL) return 1;
  LLVMFuzzerTestOneInput(buf, size);
  free(buf);
  return 0;
}

int main(int argc, char **argv) {
  int failures = 0, files = 0;
  for (int i = 1; i < argc; i++) {
    struct stat st;
    if (stat(argv[i], &st) != 0) {
      perror(argv[i]);
      return 1;
    }
    if (!S_ISDIR(st.st_mode)) {
      failures += replay_file(argv[i]);
      files++;
      continue;
    }
    DIR *dir = opendir(argv[i]);
    struct dirent *e;
    while (dir != NULL && (e = readdir(dir)) != NULL) {
      if (e->d_name[0] == '.') continue;
      char path[4096];
      snprintf(path, sizeof path, "%s/%s", argv[i], e->d_name);
      failures += replay_file(path);
      files++;
    }
    if (dir != NULL) closedir(dir);
  }
  printf("replayed %d inputs\n", files);
  /* An empty corpus would make this test pass without testing anything. */
  return failures != 0 || files == 0;
}
#endif

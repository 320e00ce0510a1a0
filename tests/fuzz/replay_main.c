/* SPDX-License-Identifier: Apache-2.0 */
/* Replays files (or every file in directories) named on the command line
 * through LLVMFuzzerTestOneInput, so a fuzz target's corpus runs as an
 * ordinary test with any compiler (zstd's regression_driver.c idea). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
    if (size == cap) {
      unsigned char *grown = realloc(buf, cap *= 2);
      if (grown == NULL) free(buf);
      buf = grown;
    }
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

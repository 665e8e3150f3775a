#include <errno.h>
#include <stdatomic.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "error.h"
#include "file.h"
#include "limits.h"

static int open_regular(const char *path, size_t max_size, int *fd_out, size_t *size_out)
{
  struct stat st;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return prism__error(errno == ENOENT ? PRISM_ERR_NOT_FOUND : PRISM_ERR_IO, "%s: cannot open: %s",
                        path, strerror(errno));
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return prism__error(PRISM_ERR_IO, "%s: not a regular file", path);
  }
  max_size = (size_t)prism__cap(max_size, prism__limits().max_file_bytes);
  if (max_size && (unsigned long long)st.st_size > max_size) {
    close(fd);
    return prism__error(PRISM_ERR_LIMIT, "%s: file is %lld bytes, above the limit of %zu", path,
                        (long long)st.st_size, max_size);
  }
  *fd_out = fd;
  *size_out = (size_t)st.st_size;
  return PRISM_OK;
}

int prism__file_map(const char *path, size_t max_size, prism__file *out)
{
  int fd = -1, rc;
  size_t size = 0;
  void *base;

  memset(out, 0, sizeof *out);
  if ((rc = open_regular(path, max_size, &fd, &size)) != PRISM_OK)
    return rc;
  if (size == 0) {
    close(fd);
    out->data = (const unsigned char *)"";
    return PRISM_OK;
  }
  base = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (base == MAP_FAILED)
    return prism__error(PRISM_ERR_IO, "%s: cannot map: %s", path, strerror(errno));
  out->data = base;
  out->size = size;
  out->map_base = base;
  out->map_size = size;
  return PRISM_OK;
}

int prism__file_read(const char *path, size_t max_size, prism__file *out)
{
  int fd = -1, rc;
  size_t size = 0, got = 0;
  unsigned char *buf;

  memset(out, 0, sizeof *out);
  if ((rc = open_regular(path, max_size, &fd, &size)) != PRISM_OK)
    return rc;
  if (!(buf = prism__malloc(size + 1))) {
    close(fd);
    return prism__error_prefix("%s: ", path);
  }
  while (got < size) {
    ssize_t n = read(fd, buf + got, size - got);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      rc = prism__error(PRISM_ERR_IO, "%s: read failed after %zu of %zu bytes%s%s", path, got, size,
                        n < 0 ? ": " : "", n < 0 ? strerror(errno) : "");
      close(fd);
      prism__free(buf);
      return rc;
    }
    got += (size_t)n;
  }
  close(fd);
  buf[size] = '\0';
  out->data = buf;
  out->size = size;
  out->owned = buf;
  return PRISM_OK;
}

void prism__file_close(prism__file *f)
{
  if (!f)
    return;
  if (f->map_base)
    munmap(f->map_base, f->map_size);
  prism__free(f->owned);
  memset(f, 0, sizeof *f);
}

char *prism__path_join(const char *dir, const char *name)
{
  size_t a = strlen(dir), b = strlen(name);
  int slash = a > 0 && dir[a - 1] != '/';
  char *p = prism__malloc(a + slash + b + 1);
  if (!p)
    return NULL;
  memcpy(p, dir, a);
  if (slash)
    p[a] = '/';
  memcpy(p + a + slash, name, b + 1);
  return p;
}

int prism__file_exists(const char *path)
{
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* A target that exists must be a regular file: renaming over a symlink, FIFO or device would
 * replace the link itself or surprise whoever reads from it. */
static int check_target(const char *path)
{
  struct stat st;
  if (lstat(path, &st) != 0)
    return errno == ENOENT
               ? PRISM_OK
               : prism__error(PRISM_ERR_IO, "%s: cannot inspect: %s", path, strerror(errno));
  if (!S_ISREG(st.st_mode))
    return prism__error(PRISM_ERR_IO,
                        "%s: exists and is not a regular file (a symlink, directory, FIFO or "
                        "device); refusing to replace it",
                        path);
  return PRISM_OK;
}

/*
 * Create "path.tmp.XXXXXXXX" with O_EXCL and mode 0666, so the kernel applies
 * the umask as for any new file (mkstemp would force 0600).
 */
static int create_temp(const char *path, char **tmp_out, int *fd_out)
{
  static atomic_uint counter;
  size_t len = strlen(path) + 32;
  char *tmp = prism__malloc(len);
  struct timespec ts;

  if (!tmp)
    return prism__error_prefix("%s: ", path);
  for (int attempt = 0; attempt < 100; attempt++) {
    clock_gettime(CLOCK_MONOTONIC, &ts);
    unsigned x = (unsigned)getpid() * 2654435761u ^ (unsigned)ts.tv_nsec ^
                 atomic_fetch_add(&counter, 1) * 40503u;
    snprintf(tmp, len, "%s.tmp.%08x", path, x);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd >= 0) {
      *tmp_out = tmp;
      *fd_out = fd;
      return PRISM_OK;
    }
    if (errno != EEXIST)
      break;
  }
  int rc = prism__error(PRISM_ERR_IO, "%s: cannot create a temporary file beside it: %s", path,
                        strerror(errno));
  prism__free(tmp);
  return rc;
}

int prism__file_write_temp(const char *path, const void *data, size_t size, char **tmp_out)
{
  const unsigned char *p = data;
  char *tmp = NULL;
  int fd = -1, rc;
  size_t done = 0;

  *tmp_out = NULL;
  if ((rc = check_target(path)) != PRISM_OK || (rc = create_temp(path, &tmp, &fd)) != PRISM_OK)
    return rc;
  while (done < size) {
    ssize_t n = write(fd, p + done, size - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      rc = prism__error(PRISM_ERR_IO, "%s: write failed: %s", path, strerror(errno));
      break;
    }
    done += (size_t)n;
  }
  if (rc == PRISM_OK && fsync(fd) != 0)
    rc = prism__error(PRISM_ERR_IO, "%s: fsync failed: %s", path, strerror(errno));
  if (close(fd) != 0 && rc == PRISM_OK)
    rc = prism__error(PRISM_ERR_IO, "%s: close failed: %s", path, strerror(errno));
  if (rc != PRISM_OK) {
    unlink(tmp);
    prism__free(tmp);
    return rc;
  }
  *tmp_out = tmp;
  return PRISM_OK;
}

int prism__file_commit(char *tmp, const char *path)
{
  int rc = PRISM_OK;
  if (!tmp)
    return PRISM_OK;
  if ((rc = check_target(path)) == PRISM_OK && rename(tmp, path) != 0)
    rc = prism__error(PRISM_ERR_IO, "%s: rename failed: %s", path, strerror(errno));
  if (rc != PRISM_OK)
    unlink(tmp);
  prism__free(tmp);
  return rc;
}

void prism__file_discard(char *tmp)
{
  if (!tmp)
    return;
  unlink(tmp);
  prism__free(tmp);
}

int prism__file_write_atomic(const char *path, const void *data, size_t size)
{
  char *tmp;
  int rc = prism__file_write_temp(path, data, size, &tmp);
  return rc == PRISM_OK ? prism__file_commit(tmp, path) : rc;
}

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

/* What a non-regular file is, for messages. */
static const char *file_kind(mode_t mode)
{
  if (S_ISDIR(mode))
    return "a directory";
  if (S_ISFIFO(mode))
    return "a FIFO or pipe";
  if (S_ISCHR(mode))
    return "a character device";
  if (S_ISBLK(mode))
    return "a block device";
  if (S_ISSOCK(mode))
    return "a socket";
  if (S_ISLNK(mode))
    return "a symbolic link";
  return "an unknown kind of file";
}

static int refuse(const char *path, mode_t mode)
{
  return prism__error(PRISM_ERR_IO,
                      "%s: is %s, not a regular file; files are only written to regular files "
                      "(it was left alone)",
                      path, file_kind(mode));
}

/*
 * The file a write to `path` replaces: `path` itself, or the regular file a
 * symbolic link (chain) names, so the link survives. *existing receives the
 * target's stat, or st_mode 0 when there is no file yet.
 */
static int write_target(const char *path, char **target, struct stat *existing)
{
  struct stat st, lst;
  const char *name = path;
  char *real = NULL;
  memset(existing, 0, sizeof *existing);
  if (stat(path, &st) != 0) {
    if (errno == ENOENT && lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode))
      return prism__error(PRISM_ERR_IO,
                          "%s: is a symbolic link to a missing file, not a regular file; not "
                          "written",
                          path);
    if (errno != ENOENT)
      return prism__error(PRISM_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
  } else if (!S_ISREG(st.st_mode)) {
    return refuse(path, st.st_mode);
  } else {
    *existing = st;
    if (lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode) && !(name = real = realpath(path, NULL)))
      return prism__error(PRISM_ERR_IO, "%s: cannot resolve the symbolic link: %s", path,
                          strerror(errno));
  }
  *target = prism__strdup(name);
  free(real);
  return *target ? PRISM_OK : prism__error_prefix("%s: ", path);
}

/*
 * Create "target.tmp.XXXXXXXX" next to the target with O_EXCL: a new file gets
 * mode 0666 less the umask (the kernel applies it, as for any new file); a
 * replaced file's owner (when permitted) and mode carry over.
 */
static int create_temp(const char *path, const char *target, const struct stat *existing,
                       char **tmp_out, int *fd_out)
{
  static atomic_uint counter;
  size_t len = strlen(target) + 32;
  char *tmp = prism__malloc(len);
  struct timespec ts;

  if (!tmp)
    return prism__error_prefix("%s: ", path);
  for (int attempt = 0; attempt < 100; attempt++) {
    clock_gettime(CLOCK_MONOTONIC, &ts);
    unsigned x = (unsigned)getpid() * 2654435761u ^ (unsigned)ts.tv_nsec ^
                 atomic_fetch_add(&counter, 1) * 40503u;
    snprintf(tmp, len, "%s.tmp.%08x", target, x);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
                  existing->st_mode ? 0600 : 0666);
    if (fd >= 0) {
      if (existing->st_mode) {
        if (existing->st_uid != geteuid() || existing->st_gid != getegid())
          (void)!fchown(fd, existing->st_uid, existing->st_gid);
        (void)fchmod(fd, existing->st_mode & 07777);
      }
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
  struct stat existing;
  char *tmp = NULL, *target = NULL;
  int fd = -1, rc;
  size_t done = 0;

  *tmp_out = NULL;
  if ((rc = write_target(path, &target, &existing)) != PRISM_OK)
    return rc;
  rc = create_temp(path, target, &existing, &tmp, &fd);
  prism__free(target);
  if (rc != PRISM_OK)
    return rc;
  while (done < size) {
    ssize_t n = write(fd, p + done, size - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      rc = prism__error(PRISM_ERR_IO, "%s: write failed: %s", path,
                        n < 0 ? strerror(errno) : "no progress");
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

/* The rename is durable once the directory holding it is synced (best effort). */
static void sync_parent(const char *target)
{
  const char *slash = strrchr(target, '/');
  char *dir = slash == target ? prism__strdup("/")
              : slash         ? prism__strndup(target, (size_t)(slash - target))
                              : prism__strdup(".");
  int fd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
  if (fd >= 0) {
    (void)fsync(fd);
    close(fd);
  }
  prism__free(dir);
}

int prism__file_commit(char *tmp, const char *path)
{
  struct stat st;
  int rc = PRISM_OK;
  if (!tmp)
    return PRISM_OK;
  /* The temporary is "<resolved target>.tmp.XXXXXXXX": rename onto that target, which must
     still be a regular file or absent (never a link or FIFO planted since). */
  char *target = prism__strndup(tmp, strlen(tmp) - strlen(".tmp.00000000"));
  if (!target)
    rc = prism__error_prefix("%s: ", path);
  else if (lstat(target, &st) == 0 && !S_ISREG(st.st_mode))
    rc = refuse(path, st.st_mode);
  else if (rename(tmp, target) != 0)
    rc = prism__error(PRISM_ERR_IO, "%s: rename failed: %s", path, strerror(errno));
  if (rc != PRISM_OK)
    unlink(tmp);
  else
    sync_parent(target);
  prism__free(target);
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

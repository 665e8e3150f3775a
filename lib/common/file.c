#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
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

void prism__file_release(const prism__file *f, const void *p, size_t n)
{
  uintptr_t base = (uintptr_t)f->map_base, begin = (uintptr_t)p, end = begin + n, page;
  long size = sysconf(_SC_PAGESIZE);
  if (!f->map_base || begin < base || end > base + f->map_size || end < begin || size <= 0)
    return;
  page = (uintptr_t)size;
  begin = (begin + page - 1) / page * page;
  end = end / page * page;
  if (end > begin)
    (void)madvise((void *)begin, end - begin, MADV_DONTNEED);
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

static int write_all(int fd, const char *path, const void *data, size_t size)
{
  const unsigned char *p = data;
  size_t done = 0;
  while (done < size) {
    ssize_t n = write(fd, p + done, size - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return prism__error(PRISM_ERR_IO, "%s: write failed: %s", path,
                          n < 0 ? strerror(errno) : "no progress");
    done += (size_t)n;
  }
  return PRISM_OK;
}

/* A temporary beside the target of `path`, open for writing (prism__file_write_temp's first half). */
static int open_temp(const char *path, char **tmp, int *fd)
{
  struct stat existing;
  char *target = NULL;
  int rc = write_target(path, &target, &existing);
  if (rc != PRISM_OK)
    return rc;
  rc = create_temp(path, target, &existing, tmp, fd);
  prism__free(target);
  return rc;
}

/* fsync and close the temporary after `rc`; on failure it is removed and *tmp freed. */
static int close_temp(const char *path, int fd, int rc, char **tmp)
{
  if (rc == PRISM_OK && fsync(fd) != 0)
    rc = prism__error(PRISM_ERR_IO, "%s: fsync failed: %s", path, strerror(errno));
  if (close(fd) != 0 && rc == PRISM_OK)
    rc = prism__error(PRISM_ERR_IO, "%s: close failed: %s", path, strerror(errno));
  if (rc != PRISM_OK) {
    unlink(*tmp);
    prism__free(*tmp);
    *tmp = NULL;
  }
  return rc;
}

static int write_temp_parts(const char *path, const prism__file_part *parts, size_t n_parts,
                            char **tmp_out)
{
  char *tmp = NULL;
  int fd = -1, rc;
  *tmp_out = NULL;
  if ((rc = open_temp(path, &tmp, &fd)) != PRISM_OK)
    return rc;
  for (size_t i = 0; i < n_parts && rc == PRISM_OK; i++)
    rc = write_all(fd, path, parts[i].data, parts[i].size);
  if ((rc = close_temp(path, fd, rc, &tmp)) == PRISM_OK)
    *tmp_out = tmp;
  return rc;
}

int prism__file_write_temp(const char *path, const void *data, size_t size, char **tmp_out)
{
  prism__file_part part = { data, size };
  return write_temp_parts(path, &part, 1, tmp_out);
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

int prism__file_write_parts(const char *path, const prism__file_part *parts, size_t n_parts)
{
  char *tmp;
  int rc = write_temp_parts(path, parts, n_parts, &tmp);
  return rc == PRISM_OK ? prism__file_commit(tmp, path) : rc;
}

int prism__file_copy_atomic(const char *from, const char *to)
{
  enum { CHUNK = 1 << 20 };
  unsigned char *buf = prism__malloc(CHUNK);
  char *tmp = NULL;
  int in = -1, out = -1, rc = buf ? PRISM_OK : PRISM_ERR_NO_MEMORY;
  if (rc == PRISM_OK && (in = open(from, O_RDONLY | O_CLOEXEC)) < 0)
    rc = prism__error(PRISM_ERR_IO, "%s: cannot open: %s", from, strerror(errno));
  if (rc == PRISM_OK)
    rc = open_temp(to, &tmp, &out);
  /* Through a small buffer: a mapping of a large file would count in the process's memory. */
  while (rc == PRISM_OK) {
    ssize_t n = read(in, buf, CHUNK);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      rc = prism__error(PRISM_ERR_IO, "%s: read failed: %s", from, strerror(errno));
    if (n <= 0)
      break;
    rc = write_all(out, to, buf, (size_t)n);
  }
  if (out >= 0)
    rc = close_temp(to, out, rc, &tmp);
  if (rc == PRISM_OK)
    rc = prism__file_commit(tmp, to);
  if (in >= 0)
    close(in);
  prism__free(buf);
  return rc;
}

/* ---- directories ------------------------------------------------------------------------ */

int prism__dir_fsync(const char *dir)
{
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = PRISM_OK;
  if (fd < 0)
    return prism__error(PRISM_ERR_IO, "%s: cannot open: %s", dir, strerror(errno));
  if (fsync(fd) != 0 && errno != EINVAL)
    rc = prism__error(PRISM_ERR_IO, "%s: fsync failed: %s", dir, strerror(errno));
  close(fd);
  return rc;
}

/* The folder that holds `path` ("." for a bare name), in a new allocation. */
static char *parent_of(const char *path)
{
  size_t len = strlen(path);
  while (len > 1 && path[len - 1] == '/')
    len--;
  while (len > 0 && path[len - 1] != '/')
    len--;
  while (len > 1 && path[len - 1] == '/')
    len--;
  return len ? prism__strndup(path, len) : prism__strdup(".");
}

int prism__dir_state(const char *path)
{
  struct stat st;
  if (lstat(path, &st) != 0)
    return errno == ENOENT ? PRISM__DIR_ABSENT : PRISM__DIR_OTHER;
  if (S_ISLNK(st.st_mode))
    return PRISM__DIR_SYMLINK;
  return S_ISDIR(st.st_mode) ? PRISM__DIR_DIRECTORY : PRISM__DIR_OTHER;
}

int prism__dir_temp(const char *target, char **tmp_out)
{
  char *tmp = prism__malloc(strlen(target) + 16);
  if (!tmp)
    return prism__error_prefix("%s: ", target);
  sprintf(tmp, "%s.tmp-XXXXXX", target);
  if (!mkdtemp(tmp)) {
    int rc = prism__error(PRISM_ERR_IO, "%s: cannot create a temporary folder beside it: %s",
                          target, strerror(errno));
    prism__free(tmp);
    return rc;
  }
  *tmp_out = tmp;
  return PRISM_OK;
}

int prism__dir_remove(const char *dir)
{
  DIR *d = opendir(dir);
  struct dirent *e;
  int rc = PRISM_OK;
  if (!d)
    return errno == ENOENT
               ? PRISM_OK
               : prism__error(PRISM_ERR_IO, "%s: cannot open: %s", dir, strerror(errno));
  while ((e = readdir(d)) != NULL) {
    char *path;
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    if (!(path = prism__path_join(dir, e->d_name))) {
      rc = prism__error_prefix("%s: ", dir);
      break;
    }
    /* Only files: a folder inside is not something this library wrote. */
    if (unlink(path) != 0 && rc == PRISM_OK)
      rc = prism__error(PRISM_ERR_IO, "%s: cannot remove: %s", path, strerror(errno));
    prism__free(path);
  }
  closedir(d);
  if (rc == PRISM_OK && rmdir(dir) != 0)
    rc = prism__error(PRISM_ERR_IO, "%s: cannot remove: %s", dir, strerror(errno));
  return rc;
}

static int is_empty_dir(const char *path)
{
  DIR *d = opendir(path);
  struct dirent *e;
  int empty = 1;
  if (!d)
    return 0;
  while (empty && (e = readdir(d)) != NULL)
    empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
  closedir(d);
  return empty;
}

int prism__dir_check_target(const char *target, int (*is_ours)(const char *dir))
{
  switch (prism__dir_state(target)) {
  case PRISM__DIR_ABSENT:
    return PRISM_OK;
  case PRISM__DIR_SYMLINK:
    return prism__error(PRISM_ERR_IO, "%s: is a symbolic link; refusing to replace it", target);
  case PRISM__DIR_OTHER:
    return prism__error(PRISM_ERR_IO, "%s: exists and is not a folder; refusing to replace it",
                        target);
  default:
    if (is_empty_dir(target) || (is_ours && is_ours(target)))
      return PRISM_OK;
    return prism__error(
        PRISM_ERR_IO, "%s: is a folder this library did not write; refusing to replace it", target);
  }
}

/* Swap two paths in one step where the kernel can (renameat2 RENAME_EXCHANGE). */
static int exchange(const char *a, const char *b)
{
#if defined(__linux__) && defined(SYS_renameat2)
  return (int)syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, 1 /* RENAME_EXCHANGE */);
#else
  (void)a;
  (void)b;
  errno = EINVAL;
  return -1;
#endif
}

int prism__dir_publish(const char *tmp, const char *target, int (*is_ours)(const char *dir))
{
  char *parent = parent_of(target);
  int rc = parent ? prism__dir_check_target(target, is_ours) : prism__error_prefix("%s: ", target);
  if (rc == PRISM_OK)
    rc = prism__dir_fsync(tmp);
  if (rc == PRISM_OK && prism__dir_state(target) == PRISM__DIR_ABSENT) {
    if (rename(tmp, target) != 0)
      rc = prism__error(PRISM_ERR_IO, "%s: rename failed: %s", target, strerror(errno));
  } else if (rc == PRISM_OK && exchange(tmp, target) == 0) {
    rc = prism__dir_remove(tmp); /* now the old folder */
  } else if (rc == PRISM_OK) {
    /* No atomic exchange: the old folder steps aside first, so one of the two always exists. */
    char *old = prism__malloc(strlen(target) + 16);
    if (!old)
      rc = prism__error_prefix("%s: ", target);
    else {
      sprintf(old, "%s.old-XXXXXX", target);
      if (!mkdtemp(old) || rename(target, old) != 0)
        rc = prism__error(PRISM_ERR_IO, "%s: cannot move aside: %s", target, strerror(errno));
      else if (rename(tmp, target) != 0) {
        rc = prism__error(PRISM_ERR_IO, "%s: rename failed: %s", target, strerror(errno));
        rename(old, target);
      } else
        rc = prism__dir_remove(old);
      prism__free(old);
    }
  }
  if (rc == PRISM_OK)
    rc = prism__dir_fsync(parent);
  prism__free(parent);
  return rc;
}

/* Internal: reading and mapping files with errors that name the file. */
#ifndef PRISM__COMMON_FILE_H
#define PRISM__COMMON_FILE_H

#include <stddef.h>

/* A read-only view of a file: memory-mapped when possible. */
typedef struct prism__file {
  const unsigned char *data;
  size_t size;
  void *map_base; /* non-NULL when mapped */
  size_t map_size;
  unsigned char *owned; /* non-NULL when read into memory */
} prism__file;

/* Map `path` read-only; refuses non-regular files and files above `max_size` (0 = no cap). */
int prism__file_map(const char *path, size_t max_size, prism__file *out);

/* Read `path` whole into memory, NUL-terminated (size excludes the NUL). */
int prism__file_read(const char *path, size_t max_size, prism__file *out);

void prism__file_close(prism__file *f);

/*
 * Give back the memory of the pages of a mapped file that lie wholly inside
 * [p, p + n) (madvise MADV_DONTNEED): they leave the process's resident set
 * and read again from the file if touched. Does nothing when f is not mapped
 * or the range is not inside its mapping.
 */
void prism__file_release(const prism__file *f, const void *p, size_t n);

/* "dir/name" in a new allocation. */
char *prism__path_join(const char *dir, const char *name);

/* 1 when `path` names an existing regular file. */
int prism__file_exists(const char *path);

/*
 * Write `size` bytes atomically: to a temporary file next to the target,
 * fsync, then rename over it. The target is `path`, or, when `path` is a
 * symbolic link to a regular file, the file it names (the link is kept).
 * Directories, FIFOs, devices, sockets and dangling links are refused
 * (PRISM_ERR_IO) without touching them. A new file gets mode 0666 less the
 * umask; a replaced file keeps its mode (and its owner when permitted). On
 * failure nothing is left behind and the target is untouched.
 */
int prism__file_write_atomic(const char *path, const void *data, size_t size);

/*
 * The same in two steps, for writing several files that must appear together:
 * write_temp leaves the data in a temporary beside the target (*tmp, owned);
 * commit renames it over the target (still a regular file or absent) and frees
 * it, discard removes it. Both take NULL as a no-op. The target and the rules
 * are those of prism__file_write_atomic.
 */
int prism__file_write_temp(const char *path, const void *data, size_t size, char **tmp);
int prism__file_commit(char *tmp, const char *path);
void prism__file_discard(char *tmp);

/* Copy a file to `to` atomically, as prism__file_write_atomic writes (a small buffer, no mapping). */
int prism__file_copy_atomic(const char *from, const char *to);

/* One piece of a file written by prism__file_write_parts. */
typedef struct prism__file_part {
  const void *data;
  size_t size;
} prism__file_part;

/* prism__file_write_atomic from pieces written in order (no image of the whole file in memory). */
int prism__file_write_parts(const char *path, const prism__file_part *parts, size_t n_parts);

/*
 * Folders written whole: build one with prism__dir_temp (an empty folder
 * "target.tmp-XXXXXX" beside the target), write its files, then
 * prism__dir_publish puts it in place in one step (renameat2 RENAME_EXCHANGE
 * where the kernel has it, then the old folder is removed), fsyncing the
 * folder and its parent. A target is replaced only if it is absent, an empty
 * folder, or a folder `is_ours` recognises; never a symbolic link or a file.
 * On failure the target is untouched; the caller removes its temporary folder.
 */
enum { PRISM__DIR_ABSENT, PRISM__DIR_DIRECTORY, PRISM__DIR_SYMLINK, PRISM__DIR_OTHER };

int prism__dir_state(const char *path); /* lstat: one of PRISM__DIR_* */
int prism__dir_temp(const char *target, char **tmp_out);
int prism__dir_check_target(const char *target, int (*is_ours)(const char *dir));
int prism__dir_publish(const char *tmp, const char *target, int (*is_ours)(const char *dir));
int prism__dir_fsync(const char *dir);

/* Remove a folder of files this library wrote (its files, then the folder; no recursion). */
int prism__dir_remove(const char *dir);

#endif

/* Internal: UTF-8 scanning shared by the tokenizer and the prompt builder. */
#ifndef PRISM__COMMON_UTF8_H
#define PRISM__COMMON_UTF8_H

#include <stddef.h>
#include <stdint.h>

/*
 * Decode one UTF-8 sequence at s[0..len): returns its length and sets *cp, or
 * returns the length of the maximal ill-formed subpart (>= 1) and sets *cp to
 * UINT32_MAX — the unit that Python's and Rust's lossy decoders replace with
 * one U+FFFD.
 */
size_t prism__utf8_next(const unsigned char *s, size_t len, uint32_t *cp);

/* Byte offset of the first invalid sequence, or `len` when all is valid. */
size_t prism__utf8_check(const unsigned char *s, size_t len);

/*
 * Copy s to out with each maximal ill-formed subpart replaced by U+FFFD (out
 * needs 3 bytes per input byte); returns the bytes written.
 */
size_t prism__utf8_lossy(unsigned char *out, const unsigned char *s, size_t len);

/* Append the UTF-8 encoding of cp (<= 0x10FFFF) to out; returns the byte count. */
size_t prism__utf8_put(unsigned char *out, uint32_t cp);

#endif

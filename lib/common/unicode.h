/*
 * Internal: Unicode character properties and case mappings, for the
 * tokenizer's pre-tokenizer and for modules that compare words (metrics).
 * unicode.c is the one file that uses utf8proc, so every module sees the same
 * Unicode version (prism__unicode_version).
 *
 * The transforms take valid UTF-8 (check it with prism__utf8_check first) and
 * write into a growable buffer: *buf (capacity *cap, grown with prism__realloc)
 * receives the result NUL-terminated, *out_len its length.
 */
#ifndef PRISM__COMMON_UNICODE_H
#define PRISM__COMMON_UNICODE_H

#include <stddef.h>
#include <stdint.h>

/* General category classes of the GPT-2 pre-tokenizer: \p{L}, \p{N}, anything else. */
enum { PRISM__UNICODE_OTHER = 0, PRISM__UNICODE_LETTER = 1, PRISM__UNICODE_NUMBER = 2 };
int prism__unicode_class(uint32_t cp);

/* The Unicode version of the character tables in use ("15.0.0"; static). */
const char *prism__unicode_version(void);

/* Python's str.isspace(): the separators of str.split(). */
int prism__unicode_is_space(uint32_t cp);

/* A word character: a letter, mark, number or connector punctuation (L*, M*, N*, Pc). */
int prism__unicode_is_word(uint32_t cp);

/*
 * Python's str.lower(): the simple lowercase mapping, plus U+0130 to "i" U+0307
 * and capital sigma to final sigma at the end of a word.
 */
int prism__unicode_lower(char **buf, size_t *cap, size_t *out_len, const char *s, size_t len);

/*
 * Caseless form for matching: full case folding, NFC, each run of white space
 * as one space, none at either end.
 */
int prism__unicode_fold(char **buf, size_t *cap, size_t *out_len, const char *s, size_t len);

#endif

/*
 * Internal: Unicode character properties and case mappings for modules that
 * compare words (metrics). unicode.c and the tokenizer's encode.c are the two
 * files that use utf8proc.
 *
 * The transforms take valid UTF-8 (check it with prism__utf8_check first) and
 * write into a growable buffer: *buf (capacity *cap, grown with prism__realloc)
 * receives the result NUL-terminated, *out_len its length.
 */
#ifndef PRISM_COMMON_UNICODE_H
#define PRISM_COMMON_UNICODE_H

#include <stddef.h>
#include <stdint.h>

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

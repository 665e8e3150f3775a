/*
 * Faithfulness: which catalog titles an explanation names (overlapping titles,
 * case, punctuation and word boundaries, non-ASCII titles), grounded shares,
 * the catalog TSV loader and its errors.
 */
#include <math.h>
#include <stdio.h>

#include "../testutil.h"
#include "common/alloc.h"
#include "prism/metrics.h"

static const char *const catalog[] = {
  "The Glass",
  "The Glass Road",
  "Road",
  "Winter Hours",
  "Orchard in August",
  "Caf\xc3\xa9 Noir",                                 /* Café Noir */
  "Stra\303\237e der Zeit",                           /* Straße der Zeit */
  "\xce\x9f\xce\xb4\xcf\x8c\xcf\x82",                 /* Οδός */
  "\xe6\x9d\xb1\xe4\xba\xac\xe7\x89\xa9\xe8\xaa\x9e", /* 東京物語 */
  "Help!",
  "Se7en",
};
enum { CATALOG = sizeof catalog / sizeof catalog[0] };

static prism_faithfulness *make(void)
{
  prism_faithfulness *f = NULL;
  assert_ok(prism_faithfulness_create(&f, catalog, CATALOG));
  assert_int_equal(prism_faithfulness_title_count(f), CATALOG);
  return f;
}

/* The titles `text` names, as "title|title", recommending `item` with nothing shown. */
static const char *named(prism_faithfulness *f, const char *text)
{
  static char out[512];
  size_t titles[16];
  prism_faithfulness_sample s = { .struct_size = sizeof s };
  assert_ok(prism_faithfulness_add(&s, titles, 16, f, text, "Road", NULL, 0));
  out[0] = 0;
  for (size_t i = 0; i < s.titles_named; i++) {
    if (i)
      strcat(out, "|");
    strcat(out, prism_faithfulness_title(f, titles[i]));
  }
  return out;
}

static void test_longest_title_first(void **state)
{
  prism_faithfulness *f = make();
  (void)state;
  assert_string_equal(named(f, "Try The Glass Road next."), "The Glass Road");
  assert_string_equal(named(f, "The Glass, then The Glass Road"), "The Glass|The Glass Road");
  assert_string_equal(named(f, "the road to The Glass"), "Road|The Glass");
  /* a longer title that does not end on a word boundary falls back to the shorter one */
  assert_string_equal(named(f, "The Glass Roads"), "The Glass");
  /* repeats count once, in order of first mention */
  assert_string_equal(named(f, "Road, Winter Hours, road, ROAD"), "Road|Winter Hours");
  prism_faithfulness_free(f);
}

static void test_case_and_boundaries(void **state)
{
  prism_faithfulness *f = make();
  (void)state;
  assert_string_equal(named(f, "THE GLASS ROAD"), "The Glass Road");
  assert_string_equal(named(f, "(the glass road)"), "The Glass Road");
  assert_string_equal(named(f, "The Glass Road's ending"), "The Glass Road");
  assert_string_equal(named(f, "\"Winter Hours\"; orchard IN august."),
                      "Winter Hours|Orchard in August");
  assert_string_equal(named(f, "The  Glass\n Road"), "The Glass Road"); /* white space runs */
  assert_string_equal(named(f, "Crossroad Roadhouse roads _road road_"), "");
  assert_string_equal(named(f, "Winter Hoursx Winter Hours2"), "");
  assert_string_equal(named(f, "Help!! and help! and Se7en."), "Help!|Se7en");
  assert_string_equal(named(f, "Se7enth"), "");
  prism_faithfulness_free(f);
}

static void test_non_ascii_titles(void **state)
{
  prism_faithfulness *f = make();
  (void)state;
  assert_string_equal(named(f, "CAF\xc3\x89 NOIR"), "Caf\xc3\xa9 Noir");
  assert_string_equal(named(f, "cafe\xcc\x81 noir"), "Caf\xc3\xa9 Noir"); /* NFD input */
  assert_string_equal(named(f, "Caf\xc3\xa9 Noirs"), "");
  assert_string_equal(named(f, "STRASSE DER ZEIT"), "Stra\xc3\x9f"
                                                    "e der Zeit");                /* full folding */
  assert_string_equal(named(f, "\xce\x9f\xce\x94\xce\x8c\xce\xa3!"), catalog[7]); /* ΟΔΌΣ */
  assert_string_equal(named(f, "\xe3\x80\x8c\xe6\x9d\xb1\xe4\xba\xac\xe7\x89\xa9\xe8\xaa\x9e"
                               "\xe3\x80\x8d"),
                      catalog[8]); /* 「東京物語」 */
  /* inside a run of letters there is no word boundary (scripts without spaces) */
  assert_string_equal(named(f, "\xe5\x96\x9c\xe6\xac\xa2\xe6\x9d\xb1\xe4\xba\xac\xe7\x89\xa9"
                               "\xe8\xaa\x9e"),
                      "");
  prism_faithfulness_free(f);
}

static void test_grounding(void **state)
{
  prism_faithfulness *f = make();
  prism_faithfulness_sample s = { .struct_size = sizeof s };
  prism_faithfulness_result r = { .struct_size = sizeof r };
  const char *shown[] = { "winter hours", "The Glass" };
  size_t titles[4];
  (void)state;
  assert_status(prism_faithfulness_finish(&r, f), PRISM_ERR_INVALID_ARGUMENT);

  /* names the item and a shown title: grounded */
  assert_ok(prism_faithfulness_add(&s, NULL, 0, f, "Like Winter Hours, the glass road is calm.",
                                   "The Glass Road", shown, 2));
  assert_int_equal(s.titles_named, 2);
  assert_int_equal(s.titles_grounded, 2);
  assert_true(s.names_item && !s.hallucinated);

  /* names a title the prompt did not show */
  assert_ok(prism_faithfulness_add(&s, titles, 4, f, "Orchard in August and Winter Hours",
                                   "The Glass Road", shown, 2));
  assert_int_equal(s.titles_named, 2);
  assert_int_equal(s.titles_grounded, 1);
  assert_true(!s.names_item && s.hallucinated);

  /* too small a buffer: the count comes back, nothing is added */
  assert_status(prism_faithfulness_add(&s, titles, 1, f, "Orchard in August and Winter Hours",
                                       "The Glass Road", shown, 2),
                PRISM_ERR_BUFFER_TOO_SMALL);
  assert_int_equal(s.titles_named, 2);

  /* names nothing */
  assert_ok(prism_faithfulness_add(NULL, NULL, 0, f, "A calm read.", "Road", NULL, 0));

  assert_status(prism_faithfulness_add(&s, NULL, 0, f, "x", "No Such Book", NULL, 0),
                PRISM_ERR_NOT_FOUND);
  assert_error_mentions("prism_faithfulness_add: the item \"No Such Book\" is not a catalog title");
  assert_status(prism_faithfulness_add(&s, NULL, 0, f, "\xff", "Road", NULL, 0),
                PRISM_ERR_INVALID_UTF8);

  assert_ok(prism_faithfulness_finish(&r, f));
  assert_int_equal(r.count, 3);
  assert_int_equal(r.titles_named, 4);
  assert_int_equal(r.titles_grounded, 3);
  assert_int_equal(r.items_named, 1);
  assert_int_equal(r.hallucinated, 1);
  assert_true(r.grounded_share == 0.75);
  assert_true(r.hallucination_rate == 1.0 / 3 && r.item_named_rate == 1.0 / 3);
  assert_true(r.titles_per_explanation == 4.0 / 3);
  prism_faithfulness_free(f);

  f = make();
  assert_ok(prism_faithfulness_add(NULL, NULL, 0, f, "nothing here", "Road", NULL, 0));
  assert_ok(prism_faithfulness_finish(&r, f));
  assert_true(isnan(r.grounded_share) && r.hallucination_rate == 0);
  prism_faithfulness_free(f);
}

static void test_create_errors(void **state)
{
  prism_faithfulness *f = NULL;
  const char *with_null[] = { "A", NULL }, *with_empty[] = { "A", " \t " };
  const char *dupes[] = { "The Road", "the  ROAD", "Other" };
  (void)state;
  assert_status(prism_faithfulness_create(&f, with_null, 2), PRISM_ERR_INVALID_ARGUMENT);
  assert_error_mentions("titles[1] is NULL");
  assert_status(prism_faithfulness_create(&f, with_empty, 2), PRISM_ERR_INVALID_ARGUMENT);
  assert_error_mentions("prism_faithfulness_create: titles[1] is empty");
  assert_null(f);
  assert_ok(prism_faithfulness_create(&f, dupes, 3));
  assert_int_equal(prism_faithfulness_title_count(f), 2);
  assert_string_equal(prism_faithfulness_title(f, 0), "The Road");
  assert_null(prism_faithfulness_title(f, 2));
  prism_faithfulness_free(f);
  prism_faithfulness_free(NULL);
}

static const char *write_file(const char *name, const char *text)
{
  static char path[512];
  FILE *fp;
  snprintf(path, sizeof path, "%s/%s", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", name);
  fp = fopen(path, "wb");
  assert_non_null(fp);
  fputs(text, fp);
  fclose(fp);
  return path;
}

static void test_catalog_tsv(void **state)
{
  char path[1024];
  prism_faithfulness *f = NULL;
  prism_faithfulness_sample s = { .struct_size = sizeof s };
  (void)state;
  snprintf(path, sizeof path, "%s/../../examples/demo/catalog.tsv", PRISM_FIXTURES);
  assert_ok(prism_faithfulness_load_catalog(&f, path));
  assert_int_equal(prism_faithfulness_title_count(f), 80);
  assert_string_equal(prism_faithfulness_title(f, 0), "Winter Hours");
  assert_ok(prism_faithfulness_add(&s, NULL, 0, f,
                                   "Unlike The Glass Letters, The Glass Road is new",
                                   "The Glass Road", NULL, 0));
  assert_int_equal(s.titles_named, 2);
  assert_true(s.hallucinated);
  prism_faithfulness_free(f);

  f = NULL;
  assert_ok(prism_faithfulness_load_catalog(
      &f,
      write_file("prism-cat-ok.tsv", "id\ttitle\r\n1\tA Book\r\n\r\n2\ta  book\n3\tOther\tx\n")));
  assert_int_equal(prism_faithfulness_title_count(f), 2);
  prism_faithfulness_free(f);

  f = NULL;
  assert_ok(prism_faithfulness_load_catalog(
      &f, write_file("prism-cat-bom.tsv", "\xEF\xBB\xBFtitle\tid\nThe Road\t1\n")));
  assert_string_equal(prism_faithfulness_title(f, 0), "The Road");
  prism_faithfulness_free(f);

  f = NULL;
  assert_status(prism_faithfulness_load_catalog(&f, write_file("prism-cat-1.tsv", "id\tname\n")),
                PRISM_ERR_FORMAT);
  assert_error_mentions("prism-cat-1.tsv:1: the header line has no \"title\" column");
  assert_status(prism_faithfulness_load_catalog(&f, write_file("prism-cat-2.tsv", "")),
                PRISM_ERR_FORMAT);
  assert_status(
      prism_faithfulness_load_catalog(&f, write_file("prism-cat-3.tsv", "id\ttitle\n1\tok\n2\n")),
      PRISM_ERR_FORMAT);
  assert_error_mentions("prism-cat-3.tsv:3: no field 2");
  assert_status(
      prism_faithfulness_load_catalog(&f, write_file("prism-cat-4.tsv", "title\nok\n\t\n")),
      PRISM_ERR_FORMAT);
  assert_error_mentions("prism-cat-4.tsv:3: the title is empty");
  assert_status(
      prism_faithfulness_load_catalog(&f, write_file("prism-cat-5.tsv", "title\nb\xc3(d\n")),
      PRISM_ERR_FORMAT);
  assert_error_mentions("prism-cat-5.tsv:2: not valid UTF-8");
  assert_status(prism_faithfulness_load_catalog(&f, "/nonexistent/catalog.tsv"),
                PRISM_ERR_NOT_FOUND);
  assert_null(f);
}

static void test_allocation_failures(void **state)
{
  const char *shown[] = { "Winter Hours" };
  (void)state;
  for (long n = 1;; n++) {
    prism_faithfulness *f = NULL;
    prism_faithfulness_sample s = { .struct_size = sizeof s };
    size_t titles[8];
    prism__alloc_fail_at(n);
    int rc = prism_faithfulness_create(&f, catalog, CATALOG);
    if (rc == PRISM_OK)
      rc = prism_faithfulness_add(&s, titles, 8, f, "The Glass Road, like Winter Hours",
                                  "The Glass Road", shown, 1);
    prism__alloc_fail_at(0);
    prism_faithfulness_free(f);
    if (rc == PRISM_OK) {
      assert_int_equal(s.titles_named, 2);
      break;
    }
    assert_int_equal(rc, PRISM_ERR_NO_MEMORY);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_longest_title_first), cmocka_unit_test(test_case_and_boundaries),
    cmocka_unit_test(test_non_ascii_titles),    cmocka_unit_test(test_grounding),
    cmocka_unit_test(test_create_errors),       cmocka_unit_test(test_catalog_tsv),
    cmocka_unit_test(test_allocation_failures),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The prompt builder against the demo student's documented format (docs/explain.md). */
#include "../testutil.h"
#include "prism/explain.h"

static char *render(const prism_prompt_format *f, const prism_prompt_item *h, size_t nh,
                    const prism_prompt_item *item, const prism_prompt_item *e, size_t ne)
{
  size_t len = 0;
  char *buf;
  assert_ok(prism_prompt_render(NULL, 0, &len, f, h, nh, item, e, ne));
  buf = malloc(len + 1);
  assert_ok(prism_prompt_render(buf, len + 1, &len, f, h, nh, item, e, ne));
  assert_int_equal(strlen(buf), len);
  return buf;
}

static void test_documented_examples(void **state)
{
  prism_prompt_item history[] = {
    { "The Glass Letters", "literary drama" },
    { "Witness at Ashby Hall", "mystery" },
    { "Winter Hours", "literary drama" },
  };
  prism_prompt_item evidence[] = { history[2], history[0] };
  prism_prompt_item item = { "Orchard in August", "literary drama" };
  prism_prompt_item bare = { "The Last\nEngine", "" };
  char *s;
  (void)state;
  s = render(NULL, history, 3, &item, evidence, 2);
  assert_string_equal(s, "history: The Glass Letters (literary drama); Witness at Ashby Hall "
                         "(mystery); Winter Hours (literary drama) | item: Orchard in August "
                         "(literary drama) | evidence: Winter Hours (literary drama); The Glass "
                         "Letters (literary drama)");
  free(s);
  s = render(NULL, NULL, 0, &bare, NULL, 0);
  assert_string_equal(s, "history: none | item: The Last Engine (unknown) | evidence: none");
  free(s);
}

static void test_value_cuts(void **state)
{
  prism_prompt_item long_title = { "A Very Long Title That Keeps Going Past The Limit Of The Field",
                                   "  spaced \t\r\n out  " };
  char accented[64] = "a", want[64] = "a";
  prism_prompt_item acc = { accented, NULL };
  char *s;
  (void)state;
  s = render(NULL, NULL, 0, &long_title, NULL, 0);
  assert_string_equal(s, "history: none | item: A Very Long Title That Keeps Going Past The Limi "
                         "(spaced out) | evidence: none");
  free(s);
  for (int i = 0; i < 30; i++)
    strcat(accented, "\xc3\xa9");
  for (int i = 0; i < 23; i++)
    strcat(want, "\xc3\xa9");
  s = render(NULL, NULL, 0, &acc, NULL, 0);
  assert_non_null(strstr(s, want));
  assert_null(strstr(s, "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                        "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"
                        "\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9"));
  free(s);
}

static void test_list_limits(void **state)
{
  prism_prompt_item h[10], item = { "X", "g" };
  char titles[10][16];
  char *s;
  (void)state;
  for (int i = 0; i < 10; i++) {
    snprintf(titles[i], sizeof titles[i], "T%d", i);
    h[i].title = titles[i];
    h[i].features = "g";
  }
  s = render(NULL, h, 10, &item, h, 10);
  /* last 8 of history, first 3 of evidence */
  assert_string_equal(s, "history: T2 (g); T3 (g); T4 (g); T5 (g); T6 (g); T7 (g); T8 (g); T9 (g)"
                         " | item: X (g) | evidence: T0 (g); T1 (g); T2 (g)");
  free(s);
}

static void test_custom_format(void **state)
{
  prism_prompt_format f;
  prism_prompt_item h[] = { { "A", "x" }, { "B", "y" } }, item = { "C", "z" };
  char *s;
  (void)state;
  assert_ok(prism_prompt_format_init(&f, sizeof f));
  f.template_text = "{{user}} liked {history}; explain {item}";
  f.entry_template = "\"{title}\"";
  f.separator = ", ";
  f.max_history = 0;
  s = render(&f, h, 2, &item, NULL, 0);
  assert_string_equal(s, "{user} liked \"A\", \"B\"; explain C");
  free(s);
}

static void test_errors(void **state)
{
  prism_prompt_format f;
  prism_prompt_item item = { "ok", "g" }, bad = { "fine", "bad \xff byte" };
  char small[8];
  size_t len = 0;
  (void)state;
  assert_ok(prism_prompt_format_init(&f, sizeof f));
  f.template_text = "x {nope} y";
  assert_status(prism_prompt_render(NULL, 0, &len, &f, NULL, 0, &item, NULL, 0), PRISM_ERR_FORMAT);
  assert_error_mentions("unknown field \"nope\" at byte 2");
  f.template_text = "{history}";
  f.entry_template = "{title";
  assert_status(prism_prompt_render(NULL, 0, &len, &f, NULL, 0, &item, NULL, 0), PRISM_ERR_FORMAT);
  assert_error_mentions("entry template");
  f.entry_template = "}";
  assert_status(prism_prompt_render(NULL, 0, &len, &f, NULL, 0, &item, NULL, 0), PRISM_ERR_FORMAT);
  assert_status(prism_prompt_render(NULL, 0, &len, NULL, &bad, 1, &item, NULL, 0),
                PRISM_ERR_INVALID_UTF8);
  assert_error_mentions("history[0].features");
  assert_error_mentions("byte 4");
  assert_status(prism_prompt_render(small, sizeof small, &len, NULL, NULL, 0, &item, NULL, 0),
                PRISM_ERR_BUFFER_TOO_SMALL);
  assert_int_equal(len, strlen("history: none | item: ok (g) | evidence: none"));
  assert_status(prism_prompt_render(NULL, 0, NULL, NULL, NULL, 0, &item, NULL, 0),
                PRISM_ERR_INVALID_ARGUMENT);
  assert_status(prism_prompt_render(NULL, 0, &len, NULL, NULL, 3, &item, NULL, 0),
                PRISM_ERR_INVALID_ARGUMENT);
  assert_status(prism_prompt_format_init(&f, 4), PRISM_ERR_INVALID_ARGUMENT);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_documented_examples),
    cmocka_unit_test(test_value_cuts),
    cmocka_unit_test(test_list_limits),
    cmocka_unit_test(test_custom_format),
    cmocka_unit_test(test_errors),
  };
  return cmocka_run_group_tests_name("prompt", tests, NULL, NULL);
}

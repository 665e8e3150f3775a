/*
 * The teacher side of distillation: the teacher's prompt, requests rendered
 * beside the student's prompt from the same entries, their JSON Lines (written,
 * read back, bad lines named by number), requests from a pipeline result,
 * sampling; answers made into pairs with every verdict counted, the noise
 * filter, all-or-nothing files, and allocation failures.
 */
#include <stddef.h>
#include <unistd.h>

#include "../testutil.h"
#include "common/alloc.h"

static const prism_prompt_item H[] = {
  { "The Glass Letters", "literary drama" },
  { "Witness at Ashby Hall", "mystery" },
  { "Winter Hours", "literary drama" },
  { "Red Asset", "thriller" },
  { "Paper Letters", "literary drama" },
  { "The Silver Tower", "fantasy" },
  { "Awkward Uncle", "comedy" },
  { "Lost Waltz", "romance" },
  { "Tiny Holiday", "comedy" },
  { "Bright Archive", "science fiction" },
};
static const prism_prompt_item ITEM = { "Orchard in August", "literary drama" };
static const prism_prompt_item EV[] = {
  { "Winter Hours", "literary drama" },
  { "The Glass Letters", "literary drama" },
  { "Paper Letters", "literary drama" },
  { "Lost Waltz", "romance" },
};

static char *render(const prism_prompt_format *f, const prism_prompt_item *h, size_t nh,
                    const prism_prompt_item *item, const prism_prompt_item *ev, size_t ne)
{
  size_t len;
  char *buf;
  assert_ok(prism_prompt_render(NULL, 0, &len, f, h, nh, item, ev, ne));
  buf = malloc(len + 1);
  assert_ok(prism_prompt_render(buf, len + 1, &len, f, h, nh, item, ev, ne));
  return buf;
}

static char *line_of(const prism_teacher_requests *r, size_t i)
{
  size_t len;
  char *buf;
  assert_ok(prism_teacher_requests_line(NULL, 0, &len, r, i));
  buf = malloc(len + 1);
  assert_ok(prism_teacher_requests_line(buf, len + 1, &len, r, i));
  assert_int_equal(strlen(buf), len);
  return buf;
}

static prism_teacher_requests *new_requests(void)
{
  prism_teacher_requests *r = NULL;
  assert_ok(prism_teacher_requests_create(&r, NULL));
  return r;
}

static void test_teacher_format(void **state)
{
  prism_prompt_format f, student;
  char *text;
  (void)state;
  assert_ok(prism_teacher_format_init(&f, sizeof f));
  assert_ok(prism_prompt_format_init(&student, sizeof student));
  /* The paper's constraint: explain solely from the history, linking the item's features. */
  assert_non_null(strstr(f.template_text, "solely on the user's interaction history"));
  assert_non_null(strstr(f.template_text, "link features of the recommended item"));
  assert_non_null(strstr(f.template_text, "Mention only items listed"));
  assert_int_equal(f.max_history, student.max_history);
  assert_int_equal(f.max_evidence, student.max_evidence);
  assert_string_equal(f.entry_template, student.entry_template);
  text = render(&f, H, 2, &ITEM, EV, 1);
  assert_non_null(strstr(text, "History, oldest first: The Glass Letters (literary drama); "
                               "Witness at Ashby Hall (mystery)\n"));
  assert_non_null(strstr(text, "Recommended item: Orchard in August (literary drama)\n"));
  assert_non_null(strstr(text, "led to the recommendation: Winter Hours (literary drama)\n"));
  free(text);
  assert_status(prism_teacher_format_init(&f, 4), PRISM_ERR_INVALID_ARGUMENT);
}

static void test_add_renders_both_prompts(void **state)
{
  prism_teacher_requests *r = new_requests();
  prism_teacher_request q = { .struct_size = sizeof q };
  prism_prompt_format teacher, student;
  prism_prompt_item e;
  char *want;
  (void)state;
  prism_teacher_format_init(&teacher, sizeof teacher);
  prism_prompt_format_init(&student, sizeof student);
  assert_ok(prism_teacher_requests_add(r, NULL, H, 10, &ITEM, EV, 4));
  assert_int_equal(prism_teacher_requests_count(r), 1);
  assert_ok(prism_teacher_requests_get(&q, r, 0));
  assert_string_equal(q.id, "1");
  assert_null(q.user);
  assert_null(q.item_id);
  assert_string_equal(q.item.title, ITEM.title);
  /* The student's window: its last 8 history entries, its first 3 evidence entries. */
  assert_int_equal(q.history_count, 8);
  assert_int_equal(q.evidence_count, 3);
  assert_ok(prism_teacher_requests_history(&e, r, 0, 0));
  assert_string_equal(e.title, H[2].title);
  assert_ok(prism_teacher_requests_evidence(&e, r, 0, 2));
  assert_string_equal(e.title, EV[2].title);
  assert_status(prism_teacher_requests_evidence(&e, r, 0, 3), PRISM_ERR_OUT_OF_RANGE);
  assert_status(prism_teacher_requests_get(&q, r, 1), PRISM_ERR_OUT_OF_RANGE);
  want = render(&student, H, 10, &ITEM, EV, 4);
  assert_string_equal(q.source, want);
  free(want);
  want = render(&teacher, H + 2, 8, &ITEM, EV, 3);
  assert_string_equal(q.prompt, want);
  free(want);

  /* Ids: given, unique, non-empty, UTF-8; the item needs a title. */
  assert_ok(prism_teacher_requests_add(r, "u1/b2", H, 1, &ITEM, NULL, 0));
  assert_status(prism_teacher_requests_add(r, "u1/b2", H, 1, &ITEM, NULL, 0),
                PRISM_ERR_INVALID_ARGUMENT);
  assert_error_begins("prism_teacher_requests_add: ");
  assert_error_mentions("already in the set");
  assert_status(prism_teacher_requests_add(r, "", H, 1, &ITEM, NULL, 0),
                PRISM_ERR_INVALID_ARGUMENT);
  assert_status(prism_teacher_requests_add(r, "bad\xff", H, 1, &ITEM, NULL, 0),
                PRISM_ERR_INVALID_UTF8);
  {
    prism_prompt_item untitled = { NULL, "x" }, bad = { "Bad\xc3", "x" };
    assert_status(prism_teacher_requests_add(r, "x", H, 1, &untitled, NULL, 0),
                  PRISM_ERR_INVALID_ARGUMENT);
    assert_error_mentions("no title");
    assert_status(prism_teacher_requests_add(r, "x", &bad, 1, &ITEM, NULL, 0),
                  PRISM_ERR_INVALID_UTF8);
  }
  assert_int_equal(prism_teacher_requests_count(r), 2);
  /* A number as the default id counts the set, from 1. */
  assert_ok(prism_teacher_requests_add(r, NULL, NULL, 0, &ITEM, NULL, 0));
  assert_ok(prism_teacher_requests_get(&q, r, 2));
  assert_string_equal(q.id, "3");
  assert_non_null(strstr(q.source, "history: none"));
  prism_teacher_requests_free(r);
}

static void test_formats_in_params(void **state)
{
  prism_teacher_params p;
  prism_prompt_format t, s;
  prism_teacher_requests *r = NULL;
  prism_teacher_request q = { .struct_size = sizeof q };
  (void)state;
  assert_ok(prism_teacher_params_init(&p, sizeof p));
  prism_teacher_format_init(&t, sizeof t);
  prism_prompt_format_init(&s, sizeof s);
  t.template_text = "Explain {item} to a reader of {history}.";
  s.max_history = 2;
  p.teacher_format = &t;
  p.student_format = &s;
  assert_ok(prism_teacher_requests_create(&r, &p));
  t.template_text = "changed after create";
  assert_ok(prism_teacher_requests_add(r, "a", H, 5, &ITEM, NULL, 0));
  assert_ok(prism_teacher_requests_get(&q, r, 0));
  assert_string_equal(q.prompt, "Explain Orchard in August to a reader of Red Asset (thriller); "
                                "Paper Letters (literary drama).");
  assert_int_equal(q.history_count, 2);
  prism_teacher_requests_free(r);
  t.template_text = "Explain {nothing}";
  assert_status(prism_teacher_requests_create(&r, &p), PRISM_ERR_FORMAT);
  assert_error_mentions("teacher_format");
  assert_null(r);
}

static void test_lines_round_trip(void **state)
{
  prism_teacher_requests *r = new_requests(), *back = new_requests();
  char *text = NULL, small[8];
  size_t size = 0, len;
  FILE *mem = open_memstream(&text, &size);
  (void)state;
  assert_ok(prism_teacher_requests_add(r, "é/1", H, 10, &ITEM, EV, 4));
  assert_ok(prism_teacher_requests_add(r, NULL, NULL, 0, &ITEM, NULL, 0));
  for (size_t i = 0; i < 2; i++) {
    char *line = line_of(r, i);
    fprintf(mem, "%s\n\n", line);
    free(line);
  }
  fclose(mem);
  assert_non_null(strstr(text, "\"prompt\":"));
  assert_non_null(strstr(text, "\"source\":\"history: "));
  assert_status(prism_teacher_requests_line(small, sizeof small, &len, r, 0),
                PRISM_ERR_BUFFER_TOO_SMALL);
  assert_true(len > sizeof small);
  assert_ok(prism_teacher_requests_parse(back, text, size, "requests.jsonl"));
  assert_int_equal(prism_teacher_requests_count(back), 2);
  for (size_t i = 0; i < 2; i++) {
    char *a = line_of(r, i), *b = line_of(back, i);
    assert_string_equal(a, b);
    free(a);
    free(b);
  }
  /* The same ids again: refused with the line, nothing added. */
  assert_status(prism_teacher_requests_parse(back, text, size, "again.jsonl"),
                PRISM_ERR_INVALID_ARGUMENT);
  assert_error_mentions("again.jsonl line 1: ");
  assert_int_equal(prism_teacher_requests_count(back), 2);
  free(text);
  prism_teacher_requests_free(r);
  prism_teacher_requests_free(back);
}

static void bad_requests(const char *text, int status, const char *needle)
{
  prism_teacher_requests *r = new_requests();
  assert_status(prism_teacher_requests_parse(r, text, strlen(text), NULL), status);
  assert_error_begins("prism_teacher_requests_parse: requests line ");
  assert_error_mentions(needle);
  assert_int_equal(prism_teacher_requests_count(r), 0);
  prism_teacher_requests_free(r);
}

static void test_request_lines_errors(void **state)
{
  static const char good[] =
      "{\"id\":\"a\",\"prompt\":\"P\",\"source\":\"S\",\"item\":[\"T\",\"f\"],\"history\":[]}\n";
  char buf[512];
  (void)state;
  snprintf(buf, sizeof buf, "%s{not json\n", good);
  bad_requests(buf, PRISM_ERR_FORMAT, "line 2: invalid JSON");
  snprintf(buf, sizeof buf, "%s\n\n[1]\n", good);
  bad_requests(buf, PRISM_ERR_FORMAT, "line 4: expected a JSON object");
  snprintf(buf, sizeof buf, "%s{\"id\":\"b\",\"source\":\"S\",\"item\":[\"T\",\"f\"]}\n", good);
  bad_requests(buf, PRISM_ERR_FORMAT, "line 2: \"prompt\" is missing");
  bad_requests("{\"id\":\"b\",\"prompt\":\"P\",\"source\":\"S\",\"item\":\"T\"}", PRISM_ERR_FORMAT,
               "line 1: item[0] must be [title, features]");
  bad_requests("{\"id\":\"b\",\"prompt\":\"P\",\"source\":\"S\",\"item\":[\"T\",\"f\"],"
               "\"history\":[[\"a\"]]}",
               PRISM_ERR_FORMAT, "line 1: history[0] must be [title, features]");
  bad_requests("{\"id\":7,\"prompt\":\"P\",\"source\":\"S\",\"item\":[\"T\",\"f\"]}",
               PRISM_ERR_FORMAT, "line 1: \"id\" must be a non-empty string");
  bad_requests("\n{\"error\":{\"code\":\"PRISM_ERR_FORMAT\",\"message\":\"line 2: x\"}}",
               PRISM_ERR_FORMAT, "line 2: an error line");
  bad_requests("{\"id\":\"a\",\"id\":\"b\"}", PRISM_ERR_FORMAT, "line 1: invalid JSON");
  snprintf(buf, sizeof buf, "%s%s", good, good);
  bad_requests(buf, PRISM_ERR_INVALID_ARGUMENT, "line 2: the id \"a\" is already in the set");
  {
    prism_teacher_requests *r = new_requests();
    assert_status(prism_teacher_requests_load(r, "/nonexistent/requests.jsonl"),
                  PRISM_ERR_NOT_FOUND);
    assert_error_begins("prism_teacher_requests_load: ");
    prism_teacher_requests_free(r);
  }
}

/* ---- from a pipeline result ---- */

static prism_interactions *data;
static prism_ranker *ranker;
static prism_catalog *catalog;

static int setup(void **state)
{
  char path[1100];
  prism_ranker_params rp;
  (void)state;
  prism_ranker_params_init(&rp, sizeof rp);
  rp.factors = 8;
  rp.iterations = 10;
  rp.seed = 7;
  snprintf(path, sizeof path, "%s/../../examples/demo/interactions.tsv", PRISM_FIXTURES);
  if (prism_interactions_load_tsv(&data, path) != PRISM_OK ||
      prism_ranker_train(&ranker, data, &rp) != PRISM_OK)
    return -1;
  snprintf(path, sizeof path, "%s/../../examples/demo/catalog.tsv", PRISM_FIXTURES);
  return prism_catalog_load_tsv(&catalog, path, NULL) == PRISM_OK ? 0 : -1;
}

static int teardown(void **state)
{
  (void)state;
  prism_catalog_free(catalog);
  prism_ranker_free(ranker);
  prism_interactions_free(data);
  return 0;
}

static prism_pipeline_result *run_users(const char *const *users, size_t n, int k)
{
  prism_pipeline *p = NULL;
  prism_pipeline_result *res = NULL;
  prism_pipeline_params pp;
  assert_ok(prism_pipeline_create(&p, ranker, catalog, data, NULL, NULL));
  prism_pipeline_params_init(&pp, sizeof pp);
  pp.k = k;
  assert_ok(prism_pipeline_run(&res, p, users, n, &pp));
  prism_pipeline_free(p);
  return res;
}

static void test_add_result(void **state)
{
  static const char *const users[] = { "u001", "nobody", "u002", "u003" };
  prism_pipeline_result *res = run_users(users, 4, 2);
  prism_teacher_requests *r = new_requests();
  size_t at = 0;
  (void)state;
  assert_ok(prism_teacher_requests_add_result(r, res));
  assert_int_equal(prism_teacher_requests_count(r), 6); /* 3 known users x 2 */
  for (size_t u = 0; u < 4; u++) {
    prism_pipeline_user pu = { .struct_size = sizeof pu };
    assert_ok(prism_pipeline_result_user(&pu, res, u));
    for (size_t j = 0; j < pu.item_count; j++, at++) {
      prism_pipeline_item it = { .struct_size = sizeof it };
      prism_teacher_request q = { .struct_size = sizeof q };
      prism_pipeline_entry last = { .struct_size = sizeof last };
      prism_prompt_item e;
      char id[64];
      assert_ok(prism_pipeline_result_item(&it, res, u, j));
      assert_ok(prism_teacher_requests_get(&q, r, at));
      snprintf(id, sizeof id, "%s/%s", pu.user, it.item);
      assert_string_equal(q.id, id);
      assert_string_equal(q.user, pu.user);
      assert_string_equal(q.item_id, it.item);
      /* The student's prompt is the one the pipeline serves. */
      assert_string_equal(q.source, it.prompt);
      assert_string_equal(q.item.title, it.title);
      assert_int_equal(q.evidence_count, it.evidence_count);
      assert_int_equal(q.history_count, pu.history_count < 8 ? pu.history_count : 8);
      assert_ok(prism_pipeline_result_history(&last, res, u, pu.history_count - 1));
      assert_ok(prism_teacher_requests_history(&e, r, at, q.history_count - 1));
      assert_string_equal(e.title, last.title);
    }
  }
  /* The same result again: every id is taken, and nothing of it is added. */
  assert_status(prism_teacher_requests_add_result(r, res), PRISM_ERR_INVALID_ARGUMENT);
  assert_error_begins("prism_teacher_requests_add_result: ");
  assert_int_equal(prism_teacher_requests_count(r), 6);
  prism_pipeline_result_free(res);
  prism_teacher_requests_free(r);
}

static char *ids_of(const prism_teacher_requests *r)
{
  static char buf[1024];
  size_t n = 0;
  buf[0] = 0;
  for (size_t i = 0; i < prism_teacher_requests_count(r); i++) {
    prism_teacher_request q = { .struct_size = sizeof q };
    assert_ok(prism_teacher_requests_get(&q, r, i));
    n += (size_t)snprintf(buf + n, sizeof buf - n, "%s,", q.id);
  }
  return buf;
}

static void test_sample(void **state)
{
  prism_teacher_requests *a = new_requests(), *b = new_requests();
  char first[1024];
  (void)state;
  for (int i = 0; i < 40; i++) {
    assert_ok(prism_teacher_requests_add(a, NULL, H, (size_t)(i % 10), &ITEM, EV, (size_t)(i % 4)));
    assert_ok(prism_teacher_requests_add(b, NULL, H, (size_t)(i % 10), &ITEM, EV, (size_t)(i % 4)));
  }
  assert_ok(prism_teacher_requests_sample(a, 50, 1)); /* more than there are: all kept */
  assert_int_equal(prism_teacher_requests_count(a), 40);
  assert_ok(prism_teacher_requests_sample(a, 7, 3));
  assert_ok(prism_teacher_requests_sample(b, 7, 3));
  assert_int_equal(prism_teacher_requests_count(a), 7);
  snprintf(first, sizeof first, "%s", ids_of(a));
  assert_string_equal(first, ids_of(b)); /* the same seed keeps the same ones */
  {
    long prev = 0;
    for (const char *p = first; *p; p = strchr(p, ',') + 1) {
      long id = strtol(p, NULL, 10);
      assert_true(id > prev); /* in their order */
      prev = id;
    }
  }
  /* Entries moved with their requests: each line still reads back the same. */
  for (size_t i = 0; i < 7; i++) {
    prism_teacher_request q = { .struct_size = sizeof q };
    char *want;
    long n;
    assert_ok(prism_teacher_requests_get(&q, a, i));
    n = strtol(q.id, NULL, 10) - 1;
    want = render(NULL, H, (size_t)(n % 10), &ITEM, EV, (size_t)(n % 4));
    assert_string_equal(q.source, want);
    free(want);
  }
  /* The id map follows: a kept id is taken, a dropped one can come back. */
  {
    char kept[32], dropped[32];
    long k = strtol(first, NULL, 10), d = 1;
    snprintf(kept, sizeof kept, "%ld", k);
    while (d == k || strstr(first, (snprintf(dropped, sizeof dropped, ",%ld,", d), dropped)))
      d++;
    snprintf(dropped, sizeof dropped, "%ld", d);
    assert_status(prism_teacher_requests_add(a, kept, H, 1, &ITEM, NULL, 0),
                  PRISM_ERR_INVALID_ARGUMENT);
    assert_ok(prism_teacher_requests_add(a, dropped, H, 1, &ITEM, NULL, 0));
  }
  prism_teacher_requests_free(b);
  b = new_requests();
  for (int i = 0; i < 40; i++)
    assert_ok(prism_teacher_requests_add(b, NULL, H, 1, &ITEM, NULL, 0));
  assert_ok(prism_teacher_requests_sample(b, 7, 4));
  assert_string_not_equal(first, ids_of(b));
  prism_teacher_requests_free(a);
  prism_teacher_requests_free(b);
}

/* ---- answers ---- */

/* Three requests: 1 (history Winter Hours, The Glass Letters), 2 and 3 (about Red Asset). */
static prism_teacher_requests *three_requests(void)
{
  static const prism_prompt_item red = { "Red Asset", "thriller" };
  prism_teacher_requests *r = new_requests();
  assert_ok(prism_teacher_requests_add(r, NULL, H, 1, &ITEM, EV, 1));
  assert_ok(prism_teacher_requests_add(r, NULL, H + 3, 1, &red, NULL, 0));
  assert_ok(prism_teacher_requests_add(r, "x", H + 3, 1, &red, NULL, 0));
  return r;
}

static prism_teacher_import *new_import(const prism_teacher_requests *r, int drop)
{
  prism_teacher_import_params p;
  prism_teacher_import *m = NULL;
  prism_teacher_import_params_init(&p, sizeof p);
  p.drop_hallucinated = drop;
  assert_ok(prism_teacher_import_create(&m, r, &p));
  return m;
}

static void test_import_verdicts(void **state)
{
  prism_teacher_requests *r = three_requests();
  prism_teacher_import *m = new_import(r, 0);
  prism_teacher_import_stats s = { .struct_size = sizeof s };
  prism_teacher_pair p = { .struct_size = sizeof p };
  prism_teacher_drop d = { .struct_size = sizeof d };
  int v = -1;
  (void)state;
  /* Answers in reverse order; pairs come out in the order of the requests. */
  assert_ok(prism_teacher_import_add(&v, m, "x", "  Red Asset is a tense thriller.\n"));
  assert_int_equal(v, PRISM_TEACHER_KEPT);
  assert_ok(prism_teacher_import_add(&v, m, "2", NULL));
  assert_int_equal(v, PRISM_TEACHER_FAILED);
  assert_ok(prism_teacher_import_add(&v, m, "2", " \t\n"));
  assert_int_equal(v, PRISM_TEACHER_EMPTY);
  assert_ok(prism_teacher_import_add(&v, m, "2", "Red Asset, after Red Asset.")); /* a retry */
  assert_int_equal(v, PRISM_TEACHER_KEPT);
  assert_ok(prism_teacher_import_add(&v, m, "2", "Again."));
  assert_int_equal(v, PRISM_TEACHER_DUPLICATE);
  assert_ok(prism_teacher_import_add(&v, m, "99", "Who?"));
  assert_int_equal(v, PRISM_TEACHER_UNKNOWN_ID);
  /* Names Red Asset, a title request 1's prompt did not show: kept (no drop), flagged. */
  assert_ok(prism_teacher_import_add(&v, m, "1", "Like Winter Hours and Red Asset."));
  assert_int_equal(v, PRISM_TEACHER_KEPT);
  assert_ok(prism_teacher_import_get_stats(&s, m));
  assert_int_equal(s.requests, 3);
  assert_int_equal(s.answers, 7);
  assert_int_equal(s.pairs, 3);
  assert_int_equal(s.unanswered, 0);
  assert_int_equal(s.failed, 1);
  assert_int_equal(s.empty, 1);
  assert_int_equal(s.duplicate, 1);
  assert_int_equal(s.unknown_id, 1);
  assert_int_equal(s.hallucinated, 1);
  assert_int_equal(s.dropped, 4);
  assert_int_equal(prism_teacher_import_count(m), 3);
  assert_ok(prism_teacher_import_pair(&p, m, 0));
  assert_string_equal(p.id, "1");
  assert_string_equal(p.target, "Like Winter Hours and Red Asset.");
  assert_int_equal(p.hallucinated, 1);
  assert_non_null(strstr(p.source, "item: Orchard in August (literary drama)"));
  assert_ok(prism_teacher_import_pair(&p, m, 2));
  assert_string_equal(p.id, "x");
  assert_string_equal(p.target, "Red Asset is a tense thriller."); /* trimmed */
  assert_int_equal(p.hallucinated, 0);
  assert_status(prism_teacher_import_pair(&p, m, 3), PRISM_ERR_OUT_OF_RANGE);
  assert_int_equal(prism_teacher_import_drop_count(m), 4);
  assert_ok(prism_teacher_import_drop(&d, m, 0));
  assert_int_equal(d.verdict, PRISM_TEACHER_FAILED);
  assert_null(d.text);
  assert_ok(prism_teacher_import_drop(&d, m, 3));
  assert_int_equal(d.verdict, PRISM_TEACHER_UNKNOWN_ID);
  assert_string_equal(d.id, "99");
  assert_string_equal(d.text, "Who?");
  assert_string_equal(prism_teacher_verdict_name(PRISM_TEACHER_UNKNOWN_ID), "unknown_id");
  assert_string_equal(prism_teacher_verdict_name(42), "unknown");
  {
    char buf[512];
    size_t len;
    assert_ok(prism_teacher_import_pair_line(buf, sizeof buf, &len, m, 2));
    assert_non_null(strstr(buf, "{\"id\":\"x\",\"source\":\"history: Red Asset (thriller) | "));
    assert_non_null(strstr(buf, "\"target\":\"Red Asset is a tense thriller.\"}"));
  }
  prism_teacher_import_free(m);

  /* With the filter, the same answer is dropped as hallucinated. */
  m = new_import(r, 1);
  assert_ok(prism_teacher_import_add(&v, m, "1", "Like Winter Hours and Red Asset."));
  assert_int_equal(v, PRISM_TEACHER_HALLUCINATED);
  assert_ok(prism_teacher_import_add(&v, m, "1", "Like Winter Hours, Orchard in August."));
  assert_int_equal(v, PRISM_TEACHER_KEPT);
  assert_ok(prism_teacher_import_get_stats(&s, m));
  assert_int_equal(s.hallucinated, 1);
  assert_int_equal(s.dropped, 1);
  assert_int_equal(s.pairs, 1);
  assert_int_equal(s.unanswered, 2);
  prism_teacher_import_free(m);
  prism_teacher_requests_free(r);
}

static void test_import_catalog_titles(void **state)
{
  static const char *const titles[] = { "Bright Archive", "", "Winter Hours" };
  prism_teacher_requests *r = three_requests();
  prism_teacher_import_params p;
  prism_teacher_import *m = NULL;
  int v;
  (void)state;
  /* A title no request shows is unknown to the filter unless the catalog is given. */
  m = new_import(r, 1);
  assert_ok(prism_teacher_import_add(&v, m, "x", "Red Asset, like Bright Archive."));
  assert_int_equal(v, PRISM_TEACHER_KEPT);
  prism_teacher_import_free(m);
  prism_teacher_import_params_init(&p, sizeof p);
  p.drop_hallucinated = 1;
  p.titles = titles;
  p.n_titles = 3;
  assert_ok(prism_teacher_import_create(&m, r, &p));
  assert_ok(prism_teacher_import_add(&v, m, "x", "Red Asset, like Bright Archive."));
  assert_int_equal(v, PRISM_TEACHER_HALLUCINATED);
  assert_ok(prism_teacher_import_add(&v, m, "x", "RED ASSET is for you.")); /* caseless */
  assert_int_equal(v, PRISM_TEACHER_KEPT);
  prism_teacher_import_free(m);
  p.titles = NULL;
  assert_status(prism_teacher_import_create(&m, r, &p), PRISM_ERR_INVALID_ARGUMENT);
  p.n_titles = 0;
  p.answer_key = "";
  assert_status(prism_teacher_import_create(&m, r, &p), PRISM_ERR_INVALID_ARGUMENT);
  assert_null(m);
  prism_teacher_requests_free(r);
}

static void bad_answers(const char *text, const char *needle)
{
  prism_teacher_requests *r = three_requests();
  prism_teacher_import *m = new_import(r, 0);
  prism_teacher_import_stats s = { .struct_size = sizeof s };
  assert_status(prism_teacher_import_parse(m, text, strlen(text), "answers.jsonl"),
                PRISM_ERR_FORMAT);
  assert_error_begins("prism_teacher_import_parse: answers.jsonl line ");
  assert_error_mentions(needle);
  assert_ok(prism_teacher_import_get_stats(&s, m));
  assert_int_equal(s.answers, 0); /* all or nothing */
  assert_int_equal(prism_teacher_import_drop_count(m), 0);
  prism_teacher_import_free(m);
  prism_teacher_requests_free(r);
}

static void test_answer_lines(void **state)
{
  static const char text[] = "{\"id\": 1, \"explanation\": \"Orchard in August, for you.\"}\n"
                             "\r\n"
                             "{\"id\": \"2\", \"error\": {\"message\": \"rate limited\"}}\n"
                             "{\"id\": \"2\", \"explanation\": null, \"error\": \"x\"}\n"
                             "{\"id\": \"x\", \"explanation\": \"Red Asset.\", \"prompt\": 3}";
  prism_teacher_requests *r = three_requests();
  prism_teacher_import *m = new_import(r, 0);
  prism_teacher_import_stats s = { .struct_size = sizeof s };
  prism_teacher_drop d = { .struct_size = sizeof d };
  (void)state;
  assert_ok(prism_teacher_import_parse(m, text, strlen(text), NULL));
  assert_ok(prism_teacher_import_get_stats(&s, m));
  assert_int_equal(s.answers, 4);
  assert_int_equal(s.pairs, 2);
  assert_int_equal(s.failed, 2);
  assert_ok(prism_teacher_import_drop(&d, m, 1));
  assert_int_equal(d.line, 4); /* blank lines count */
  prism_teacher_import_free(m);
  prism_teacher_requests_free(r);

  bad_answers("{\"id\": \"1\", \"explanation\": \"ok\"}\nnot json", "line 2: invalid JSON");
  bad_answers("{\"explanation\": \"no id\"}", "line 1: \"id\" must be a non-empty string");
  bad_answers("{\"id\": \"\", \"explanation\": \"x\"}", "line 1: \"id\" must be");
  bad_answers("{\"id\": [1], \"explanation\": \"x\"}", "line 1: \"id\" must be");
  bad_answers("{\"id\": \"1\", \"explanation\": 5}", "line 1: \"explanation\" must be a string");
  bad_answers("\n\n{\"id\": \"1\", \"text\": \"x\"}", "line 3: neither \"explanation\" nor");
  bad_answers("{\"id\": \"1\", \"explanation\": \"a\", \"explanation\": \"b\"}",
              "line 1: invalid JSON at column");

  /* Another key for the answer. */
  {
    prism_teacher_import_params p;
    static const char other[] = "{\"id\": \"x\", \"response\": \"Red Asset.\"}";
    r = three_requests();
    prism_teacher_import_params_init(&p, sizeof p);
    p.answer_key = "response";
    assert_ok(prism_teacher_import_create(&m, r, &p));
    assert_ok(prism_teacher_import_parse(m, other, strlen(other), NULL));
    assert_int_equal(prism_teacher_import_count(m), 1);
    assert_status(prism_teacher_import_load(m, "/nonexistent/answers.jsonl"), PRISM_ERR_NOT_FOUND);
    prism_teacher_import_free(m);
    prism_teacher_requests_free(r);
  }
}

static void test_allocation_failures(void **state)
{
  static const char answers[] = "{\"id\": \"1\", \"explanation\": \"Orchard in August.\"}\n"
                                "{\"id\": \"2\", \"error\": 1}\n"
                                "{\"id\": \"x\", \"explanation\": \"Red Asset.\"}\n"
                                "{\"id\": \"y\", \"explanation\": \"Who?\"}\n";
  prism_teacher_requests *src = three_requests();
  char *text = NULL;
  size_t size = 0;
  FILE *mem = open_memstream(&text, &size);
  (void)state;
  for (size_t i = 0; i < 3; i++) {
    char *line = line_of(src, i);
    fprintf(mem, "%s\n", line);
    free(line);
  }
  fclose(mem);
  for (long n = 1;; n++) {
    prism_teacher_requests *r = NULL;
    prism_teacher_import *m = NULL;
    prism_teacher_import_stats s = { .struct_size = sizeof s };
    int rc, stage = 0;
    prism__alloc_fail_at(n);
    rc = prism_teacher_requests_create(&r, NULL);
    if (rc == PRISM_OK && ++stage)
      rc = prism_teacher_requests_parse(r, text, size, NULL);
    if (rc == PRISM_OK && ++stage)
      rc = prism_teacher_requests_add(r, "z", H, 10, &ITEM, EV, 4);
    if (rc == PRISM_OK && ++stage)
      rc = prism_teacher_requests_sample(r, 2, 9);
    if (rc == PRISM_OK && ++stage)
      rc = prism_teacher_import_create(&m, r, NULL);
    if (rc == PRISM_OK && ++stage)
      rc = prism_teacher_import_parse(m, answers, strlen(answers), NULL);
    prism__alloc_fail_at(0);
    if (rc != PRISM_OK) {
      assert_int_equal(rc, PRISM_ERR_NO_MEMORY);
      /* A failed call leaves what was there before it. */
      if (stage == 1)
        assert_int_equal(prism_teacher_requests_count(r), 0);
      if (stage == 2)
        assert_int_equal(prism_teacher_requests_count(r), 3);
      if (stage == 3)
        assert_int_equal(prism_teacher_requests_count(r), 4);
      if (stage == 5) {
        assert_ok(prism_teacher_import_get_stats(&s, m));
        assert_int_equal(s.answers, 0);
        assert_int_equal(prism_teacher_import_count(m), 0);
        assert_int_equal(prism_teacher_import_drop_count(m), 0);
      }
    }
    prism_teacher_import_free(m);
    prism_teacher_requests_free(r);
    if (rc == PRISM_OK)
      break;
  }
  free(text);
  prism_teacher_requests_free(src);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_teacher_format),
    cmocka_unit_test(test_add_renders_both_prompts),
    cmocka_unit_test(test_formats_in_params),
    cmocka_unit_test(test_lines_round_trip),
    cmocka_unit_test(test_request_lines_errors),
    cmocka_unit_test(test_add_result),
    cmocka_unit_test(test_sample),
    cmocka_unit_test(test_import_verdicts),
    cmocka_unit_test(test_import_catalog_titles),
    cmocka_unit_test(test_answer_lines),
    cmocka_unit_test(test_allocation_failures),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}

// The C++ wrapper against the reference fixtures and the demo model: every class,
// the sized-output retry, error translation and callback exceptions.
#include <prism/prism.hpp>

#include <jansson.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

namespace
{

int failures = 0;

#define CHECK(cond) \
  do { \
    if (!(cond)) { \
      std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      failures++; \
    } \
  } while (0)

// Run `fn` and check that it throws prism::Error with `status`.
template <typename Fn> void check_throws(int status, Fn fn, int line)
{
  try {
    fn();
    std::fprintf(stderr, "%s:%d: expected %s, nothing thrown\n", __FILE__, line,
                 prism_status_name(status));
    failures++;
  } catch (const prism::Error &e) {
    if (e.status() != status || e.message().empty()) {
      std::fprintf(stderr, "%s:%d: expected %s, got %s\n", __FILE__, line,
                   prism_status_name(status), e.what());
      failures++;
    }
  }
}
#define CHECK_THROWS(status, body) \
  check_throws( \
      status, [&]() { body; }, __LINE__)

std::string env_or(const char *name, const char *fallback)
{
  const char *v = std::getenv(name);
  return v ? v : fallback;
}

const std::string fixtures = env_or("PRISM_FIXTURES", PRISM_FIXTURES);
const std::string demo = env_or("PRISM_DEMO_DIR", PRISM_DEMO_DIR);

std::vector<int32_t> ints(const json_t *array)
{
  std::vector<int32_t> out;
  size_t i;
  json_t *v;
  json_array_foreach(array, i, v) out.push_back(static_cast<int32_t>(json_integer_value(v)));
  return out;
}

std::vector<float> floats(const json_t *array)
{
  std::vector<float> out;
  size_t i;
  json_t *v;
  json_array_foreach(array, i, v) out.push_back(static_cast<float>(json_number_value(v)));
  return out;
}

// Rows of a [[int]] array, concatenated.
std::vector<int32_t> matrix(const json_t *rows, size_t *n_rows)
{
  std::vector<int32_t> out;
  size_t i;
  json_t *row;
  json_array_foreach(rows, i, row)
  {
    std::vector<int32_t> r = ints(row);
    out.insert(out.end(), r.begin(), r.end());
  }
  *n_rows = json_array_size(rows);
  return out;
}

std::string slurp(const std::string &path)
{
  std::ifstream in(path.c_str(), std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string str(const json_t *s)
{
  return std::string(json_string_value(s), json_string_length(s));
}

float max_abs_diff(const std::vector<float> &a, const std::vector<float> &b)
{
  if (a.size() != b.size())
    return INFINITY;
  float m = 0.0f;
  for (size_t i = 0; i < a.size(); i++)
    m = std::fmax(m, std::fabs(a[i] - b[i]));
  return m;
}

void test_tokenizer()
{
  prism::Tokenizer tok = prism::Tokenizer::load(fixtures + "/bart-vocab");
  CHECK(tok.vocab_size() == 50265);
  CHECK(tok.encode("Hello world") == (std::vector<int32_t>{ 0, 31414, 232, 2 }));
  CHECK(tok.encode(" Hello world") == (std::vector<int32_t>{ 0, 20920, 232, 2 }));
  CHECK(tok.encode("Hello world", PRISM_TOKENIZER_NO_SPECIAL) ==
        (std::vector<int32_t>{ 31414, 232 }));
  CHECK(tok.decode(tok.encode("Hello world"), PRISM_TOKENIZER_SKIP_SPECIAL) == "Hello world");
  CHECK(tok.decode(tok.encode("Hello world")) == "<s>Hello world</s>");
  CHECK(tok.token_to_id("\xc4\xa0world") == 232);
  CHECK(tok.id_to_token(232) == "\xc4\xa0world");
  CHECK(tok.special_id(PRISM_TOKENIZER_MASK) == 50264);
  CHECK(tok.encode_pair("Hello", "world") == (std::vector<int32_t>{ 0, 31414, 2, 2, 8331, 2 }));

  // Id 50195 decodes to 128 bytes, more than the wrapper's first guess per id:
  // decode must grow its buffer and retry.
  std::string long_token = tok.decode(std::vector<int32_t>{ 50195 });
  CHECK(long_token.size() == 128);
  std::vector<int32_t> repeated(10, 50195);
  CHECK(tok.decode(repeated).size() == 1280);

  std::vector<std::string> texts{ "Hello world", "", " Hello world" };
  std::vector<std::vector<int32_t>> batch = tok.encode_batch(texts);
  CHECK(batch.size() == 3);
  CHECK(batch[0] == tok.encode(texts[0]));
  CHECK(batch[1] == (std::vector<int32_t>{ 0, 2 }));
  CHECK(batch[2] == tok.encode(texts[2]));

  // The reference cases, ids and decoded text.
  std::FILE *f = std::fopen((fixtures + "/tokenizer_cases.jsonl").c_str(), "r");
  CHECK(f != nullptr);
  size_t cases = 0, same = 0;
  json_error_t err;
  json_t *c;
  // Texts may hold NUL bytes: read them with their length.
  while (f && (c = json_loadf(f, JSON_DISABLE_EOF_CHECK | JSON_ALLOW_NUL, &err)) != nullptr) {
    std::string text = str(json_object_get(c, "text"));
    std::vector<int32_t> expect = ints(json_object_get(c, "ids"));
    std::vector<int32_t> got = tok.encode(text);
    std::string decoded = tok.decode(got);
    same +=
        got == expect && decoded == str(json_object_get(c, "decoded")) &&
        tok.encode(text, PRISM_TOKENIZER_NO_SPECIAL) == ints(json_object_get(c, "ids_no_special"));
    cases++;
    json_decref(c);
  }
  if (f)
    std::fclose(f);
  CHECK(cases == 384 && same == cases);
  std::printf("tokenizer: %zu/%zu reference cases match\n", same, cases);

  CHECK_THROWS(PRISM_ERR_INVALID_UTF8, tok.encode(std::string("a\xff", 2)));
  CHECK(tok.encode(std::string("a\xff", 2), PRISM_TOKENIZER_REPLACE_INVALID).size() > 2);
  CHECK_THROWS(PRISM_ERR_NOT_FOUND, tok.token_to_id("no such token"));
  CHECK_THROWS(PRISM_ERR_OUT_OF_RANGE, tok.id_to_token(50265));
  CHECK_THROWS(PRISM_ERR_OUT_OF_RANGE, tok.decode(std::vector<int32_t>{ 0, 99999 }));
  CHECK_THROWS(PRISM_ERR_NOT_FOUND, prism::Tokenizer::load(fixtures + "/no-such-folder"));

  prism::Tokenizer files = prism::Tokenizer::load_files(fixtures + "/bart-vocab/vocab.json",
                                                        fixtures + "/bart-vocab/merges.txt");
  CHECK(files.encode("Hello world") == tok.encode("Hello world"));
  prism::TokenizerParams prefix;
  prefix.add_prefix_space = 1;
  CHECK(prism::Tokenizer::load(fixtures + "/bart-vocab", &prefix).encode("Hello world") ==
        tok.encode(" Hello world"));
  prism::Tokenizer json = prism::Tokenizer::load_json_memory(
      "{\"model\": {\"type\": \"BPE\", \"vocab\": {\"<s>\": 0, \"</s>\": 1, \"a\": 2, \"b\": 3, "
      "\"ab\": 4}, \"merges\": [\"a b\"]}, \"pre_tokenizer\": {\"type\": \"ByteLevel\"}}");
  CHECK(json.encode("ab") == (std::vector<int32_t>{ 0, 4, 1 }));
  CHECK_THROWS(PRISM_ERR_FORMAT, prism::Tokenizer::load_json_memory("{"));

  // Memory loading gives the same tokenizer; moving transfers ownership.
  prism::Tokenizer mem =
      prism::Tokenizer::load_memory("{\"<s>\": 0, \"</s>\": 1, \"a\": 2}", "#version: 0.2\n");
  CHECK(mem.vocab_size() == 3);
  prism::Tokenizer moved(std::move(mem));
  CHECK(moved.get() != nullptr && mem.get() == nullptr);
  CHECK(moved.encode("a") == (std::vector<int32_t>{ 0, 2, 1 }));
}

// A vocabulary trained from strings loads as a Tokenizer; a callback cancels or its exception is
// rethrown after the C call.
void test_tokenizer_trainer()
{
  char dir[] = "/tmp/prism_cpp_bpe_XXXXXX";
  CHECK(mkdtemp(dir) != nullptr);
  prism::TokenizerTrainerParams p;
  p.vocab_size = 270;
  prism::TokenizerTrainer trainer(&p);
  trainer.feed({ "hello hello world", "hello world" });
  CHECK_THROWS(PRISM_ERR_INVALID_UTF8, trainer.feed({ std::string("a\xff", 2) }));
  CHECK_THROWS(PRISM_ERR_CANCELLED,
               trainer.train(dir, [](int, uint64_t, uint64_t) { return false; }));
  CHECK_THROWS(PRISM_ERR_INTERNAL, trainer.train(dir, [](int, uint64_t, uint64_t) -> bool {
    throw prism::Error(PRISM_ERR_INTERNAL, "rethrown after the C call");
  }));
  prism_tokenizer_trainer_stats stats = trainer.train(dir);
  CHECK(stats.vocab_size > 261 && stats.merges == stats.vocab_size - 261);
  prism::Tokenizer tok = prism::Tokenizer::load(dir);
  CHECK(tok.decode(tok.encode("hello world", PRISM_TOKENIZER_NO_SPECIAL)) == "hello world");
  CHECK(tok.special_id(PRISM_TOKENIZER_MASK) == 4);
  std::remove((std::string(dir) + "/vocab.json").c_str());
  std::remove((std::string(dir) + "/merges.txt").c_str());
  std::remove(dir);
}

// Forward pass and every generate case of one tiny-bart fixture.
void test_bart_fixture(const std::string &name, float tolerance)
{
  std::string dir = fixtures + "/" + name;
  json_error_t err;
  json_t *expected = json_load_file((dir + "/expected.json").c_str(), 0, &err);
  CHECK(expected != nullptr);
  if (!expected)
    return;

  prism::Bart model = prism::Bart::load(dir);
  prism_bart_info info = model.info();
  CHECK(info.vocab_size == 1000 && info.d_model == 64);
  CHECK(model.generation_params().forced_bos_token_id == 0);

  prism::IdBatch input;
  input.input_ids = matrix(json_object_get(expected, "input_ids"), &input.batch);
  input.attention_mask = matrix(json_object_get(expected, "attention_mask"), &input.batch);
  input.src_len = input.input_ids.size() / input.batch;

  prism::Session session(model);
  std::vector<float> hidden;
  session.encode(input, &hidden);
  json_t *enc = json_object_get(expected, "encoder_last_hidden_state");
  CHECK(max_abs_diff(hidden, floats(json_object_get(enc, "data"))) < tolerance);

  size_t rows = 0;
  std::vector<int32_t> dec = matrix(json_object_get(expected, "decoder_input_ids"), &rows);
  std::vector<float> logits = session.forward(dec, dec.size() / rows);
  json_t *ref_logits = json_object_get(expected, "logits");
  CHECK(max_abs_diff(logits, floats(json_object_get(ref_logits, "data"))) < tolerance);

  // The step-by-step decoder agrees with teacher forcing on the first position.
  session.encode(input);
  session.decoder_start(1);
  std::vector<int32_t> first(input.batch);
  for (size_t b = 0; b < input.batch; b++)
    first[b] = dec[b * (dec.size() / rows)];
  const float *step = session.decoder_step(first);
  size_t tgt = dec.size() / rows;
  float worst = 0.0f;
  for (size_t b = 0; b < input.batch; b++)
    for (size_t v = 0; v < 1000; v++)
      worst = std::fmax(worst, std::fabs(step[b * 1000 + v] - logits[(b * tgt) * 1000 + v]));
  CHECK(worst < tolerance);
  session.decoder_reorder(std::vector<int32_t>{ 1, 0 });
  CHECK_THROWS(PRISM_ERR_INVALID_ARGUMENT, session.decoder_step(std::vector<int32_t>{ 2 }));
  CHECK_THROWS(PRISM_ERR_INVALID_ARGUMENT, session.forward(dec, dec.size() / rows + 1));

  prism_bart_session_params sp = prism::SessionParams();
  sp.max_rows = 64;
  prism::Session big(model, &sp);
  size_t i, exact = 0;
  json_t *g;
  json_t *cases = json_object_get(expected, "generate");
  std::vector<int32_t> beam4;
  json_array_foreach(cases, i, g)
  {
    size_t n_beam4 = 0;
    if (std::string(json_string_value(json_object_get(g, "name"))) == "beam4")
      beam4 = matrix(json_object_get(g, "sequences"), &n_beam4);
    char *params_json = json_dumps(json_object_get(g, "params"), 0);
    prism::GenerateParams params;
    params.parse(params_json);
    std::free(params_json);
    prism::GenerateResult r = big.generate(input, &params);
    size_t n = 0;
    std::vector<int32_t> want = matrix(json_object_get(g, "sequences"), &n);
    bool ok = r.count == n && r.sequences == want;
    json_t *scores = json_object_get(g, "sequences_scores");
    if (scores)
      ok = ok && max_abs_diff(r.scores, floats(scores)) < 1e-4f;
    else
      ok = ok && r.scores.empty();
    if (!ok)
      std::fprintf(stderr, "%s: generate case %s differs\n", name.c_str(),
                   json_string_value(json_object_get(g, "name")));
    exact += ok;
    CHECK(r.stats.steps > 0 && r.stats.rows > 0);
  }
  CHECK(exact == json_array_size(cases));
  std::printf("%s: %zu/%zu generate cases identical\n", name.c_str(), exact,
              json_array_size(cases));
  json_decref(expected);

  // The same checkpoint from memory gives the same logits.
  std::string config = slurp(dir + "/config.json");
  std::string weights = slurp(dir + "/model.safetensors");
  prism::Bart mem = prism::Bart::load_memory(config, weights.data(), weights.size(),
                                             slurp(dir + "/generation_config.json"));
  prism::Session mem_session(mem);
  mem_session.encode(input);
  CHECK(mem_session.forward(dec, dec.size() / rows) == logits);

  // A model whose generation_config.json asks for 4 beams runs them from a default request.
  if (!beam4.empty()) {
    prism::Bart four = prism::Bart::load_memory(
        config, weights.data(), weights.size(),
        "{\"num_beams\": 4, \"early_stopping\": true, \"forced_bos_token_id\": 0}");
    CHECK(four.generation_params().num_beams == 4);
    CHECK(prism::generate(four, input).sequences == beam4);
  }

  // The trimmed sequence stops at its length.
  prism::GenerateResult greedy = big.generate(input);
  CHECK(greedy.sequence(0).size() == static_cast<size_t>(greedy.lengths[0]));
  CHECK_THROWS(PRISM_ERR_OUT_OF_RANGE, greedy.sequence(greedy.count));
}

void test_streaming()
{
  prism::Bart model = prism::Bart::load(fixtures + "/tiny-bart-copy");
  prism::Session session(model);
  prism::IdBatch input = prism::IdBatch::pad(
      { { 0, 17, 42, 99, 5, 2 }, { 0, 120, 64, 33, 8, 77, 101, 2 } }, model.info().pad_token_id);
  CHECK(input.batch == 2 && input.src_len == 8 && input.attention_mask[7] == 0);

  // The copy model repeats its input after the start token.
  size_t steps = 0;
  prism::GenerateResult r = session.generate(input, nullptr, [&](const prism_generate_event &ev) {
    steps = ev.step;
    return ev.num_rows == 2;
  });
  CHECK(steps > 0 && static_cast<int32_t>(steps) == r.stats.steps);
  CHECK(r.sequence(0) == (std::vector<int32_t>{ 2, 0, 17, 42, 99, 5, 2 }));
  CHECK(r.sequence(1) == (std::vector<int32_t>{ 2, 0, 120, 64, 33, 8, 77, 101, 2 }));

  // Returning false cancels; a thrown exception cancels and comes back unchanged.
  CHECK_THROWS(
      PRISM_ERR_CANCELLED,
      session.generate(input, nullptr, [](const prism_generate_event &) { return false; }));
  bool caught = false;
  try {
    session.generate(input, nullptr, [](const prism_generate_event &ev) -> bool {
      if (ev.step == 2)
        throw std::runtime_error("stop at step 2");
      return true;
    });
  } catch (const prism::Error &) {
    caught = false;
  } catch (const std::runtime_error &e) {
    caught = std::string(e.what()) == "stop at step 2";
  }
  CHECK(caught);
  // The session stays usable.
  CHECK(session.generate(input).sequences == r.sequences);

  prism::IdBatch bad = input;
  bad.src_len = 7;
  CHECK_THROWS(PRISM_ERR_INVALID_ARGUMENT, session.generate(bad));
  prism::GenerateParams p;
  CHECK_THROWS(PRISM_ERR_FORMAT, p.parse("{\"num_beams\": \"four\"}"));
  CHECK_THROWS(PRISM_ERR_INVALID_ARGUMENT, p.parse("{\"no_such_key\": 1}"));
}

void test_ranker()
{
  prism::Interactions data = prism::Interactions::load_tsv(demo + "/interactions.tsv");
  CHECK(data.count() > 100 && data.num_users() > 10 && data.num_items() > 10);
  prism::Interaction first = data.at(0);
  CHECK(data.user_id(first.user) == "u001");
  CHECK(data.find_user("u001") == first.user);
  CHECK(data.find_item(data.item_id(first.item)) == first.item);
  CHECK_THROWS(PRISM_ERR_NOT_FOUND, data.find_user("nobody"));
  CHECK_THROWS(PRISM_ERR_OUT_OF_RANGE, data.user_id(data.num_users()));
  prism::Interactions same = prism::Interactions::load(demo + "/interactions.tsv");
  CHECK(same.count() == data.count() && same.timestamp(0) == 1702978878.0);
  prism_interactions_load_params lp;
  prism_interactions_load_params_init(&lp, sizeof lp);
  lp.separator = ",";
  CHECK_THROWS(PRISM_ERR_FORMAT, prism::Interactions::load(demo + "/interactions.tsv", &lp));

  prism::RankerParams params;
  params.factors = 8;
  params.iterations = 5;
  params.seed = 7;
  std::vector<double> losses;
  prism::Ranker ranker = prism::Ranker::train(data, &params, [&](int it, int total, double loss) {
    losses.push_back(loss);
    return it <= total;
  });
  CHECK(losses.size() == 5);
  CHECK(ranker.algorithm() == PRISM_RANKER_ALS && ranker.num_factors() == 8);
  CHECK(ranker.num_users() == data.num_users() && ranker.num_items() == data.num_items());

  int32_t user = ranker.find_user("u001");
  prism::ScoredItems top = ranker.recommend(user, 5);
  CHECK(top.size() == 5);
  for (size_t i = 1; i < top.size(); i++)
    CHECK(top.scores[i - 1] >= top.scores[i]);
  CHECK(std::fabs(ranker.predict(user, top.items[0]) - top.scores[0]) < 1e-4f);

  // Seen items are excluded by default; a candidate list restricts the choice.
  prism::ScoredItems only = ranker.recommend(user, 5, prism::Filter().candidates({ top.items[2] }));
  CHECK(only.size() == 1 && only.items[0] == top.items[2]);
  CHECK(ranker.recommend(user, 5, prism::Filter().candidates({})).size() == 0);
  prism::ScoredItems without = ranker.recommend(user, 5, prism::Filter().exclude({ top.items[0] }));
  CHECK(without.items[0] == top.items[1]);

  std::vector<prism::ScoredItems> batch = ranker.recommend_batch({ user, user + 1 }, 5);
  CHECK(batch.size() == 2 && batch[0].items == top.items);

  // A k beyond the item count asks for every eligible item, in buffers of the item count.
  const int huge = std::numeric_limits<int>::max();
  prism::ScoredItems every = ranker.recommend(user, ranker.num_items());
  CHECK(ranker.recommend(user, huge).items == every.items);
  CHECK(ranker.recommend_batch({ user }, huge)[0].items == every.items);
  CHECK(ranker.similar_items(top.items[0], huge).size() ==
        static_cast<size_t>(ranker.num_items() - 1));
  CHECK(ranker.explain(user, top.items[0], huge).size() > 3);

  prism::ScoredItems evidence = ranker.explain(user, top.items[0], 3);
  CHECK(evidence.size() == 3);
  for (size_t i = 1; i < evidence.size(); i++)
    CHECK(evidence.scores[i - 1] >= evidence.scores[i]);

  std::vector<float> factors = ranker.fold_in({ top.items[0], top.items[1] });
  CHECK(factors.size() == 8);
  CHECK(ranker.recommend_history({ top.items[0] }, {}, 3).size() == 3);
  CHECK(ranker.similar_items(top.items[0], 4).size() == 4);
  CHECK(ranker.user_factors() != nullptr && ranker.item_factors() != nullptr);

  prism_ranker_metrics m = ranker.evaluate(data, 5, prism::Filter().exclude_seen(false));
  CHECK(m.users == static_cast<size_t>(data.num_users()) && m.precision > 0.0);
  prism_ranker_metrics one = prism::Ranker::metrics_list({ 1, 2, 3 }, { 2 }, 3);
  CHECK(std::fabs(one.precision - 1.0 / 3.0) < 1e-12 && one.recall == 1.0);
  CHECK(ranker.evaluate_ratings(data).pairs == data.count());

  // Save and load round-trip ids and scores.
  std::string path = env_or("MESON_BUILD_ROOT", ".") + "/test_cpp_ranker.safetensors";
  ranker.save(path);
  prism::Ranker loaded = prism::Ranker::load(path);
  std::remove(path.c_str());
  CHECK(loaded.user_id(user) == "u001");
  CHECK(loaded.recommend(user, 5).items == top.items);

  // Arrays in, and the error paths.
  prism::Ranker coo = prism::Ranker::train_coo(2, 3, { 0, 0, 1 }, { 0, 1, 2 });
  CHECK(coo.num_users() == 2 && coo.num_items() == 3);
  CHECK_THROWS(PRISM_ERR_OUT_OF_RANGE, coo.user_id(0));
  prism::Ranker csr =
      prism::Ranker::train_csr(2, 3, { 0, 2, 3 }, { 0, 1, 2 }, { 1.0f, 2.0f, 1.0f });
  CHECK(csr.num_users() == 2);
  CHECK_THROWS(PRISM_ERR_INVALID_ARGUMENT, prism::Ranker::train_coo(2, 3, { 0 }, { 0, 1 }));
  CHECK_THROWS(PRISM_ERR_INVALID_ARGUMENT, ranker.recommend(user, 0));
  try {
    ranker.predict(user, ranker.num_items());
    CHECK(false);
  } catch (const prism::Error &e) {
    CHECK(std::string(e.what()).find("prism_ranker_predict: item ") != std::string::npos);
  }
  CHECK_THROWS(PRISM_ERR_CANCELLED,
               prism::Ranker::train(data, &params, [](int, int, double) { return false; }));
  bool caught = false;
  try {
    prism::Ranker::train(data, &params, [](int, int, double) -> bool { throw 42; });
  } catch (int v) {
    caught = v == 42;
  }
  CHECK(caught);

  prism::Interactions added;
  added.add("alice", "book", 2.0f);
  CHECK(added.count() == 1 && added.at(0).value == 2.0f);
  CHECK_THROWS(PRISM_ERR_INVALID_ARGUMENT, added.add("a\tb", "book"));
}

void test_explain()
{
  std::string prompt =
      prism::render_prompt({ prism::PromptItem("The Glass Letters", "literary drama"),
                             prism::PromptItem("Witness at Ashby Hall", "mystery"),
                             prism::PromptItem("Winter Hours", "literary drama") },
                           prism::PromptItem("Orchard in August", "literary drama"),
                           { prism::PromptItem("Winter Hours", "literary drama"),
                             prism::PromptItem("The Glass Letters", "literary drama") });
  CHECK(prompt == "history: The Glass Letters (literary drama); Witness at Ashby Hall (mystery); "
                  "Winter Hours (literary drama) | item: Orchard in August (literary drama) | "
                  "evidence: Winter Hours (literary drama); The Glass Letters (literary drama)");
  CHECK(prism::render_prompt({}, prism::PromptItem("The Last\nEngine", ""), {}) ==
        "history: none | item: The Last Engine (unknown) | evidence: none");

  // A prompt longer than the first buffer guess.
  std::vector<prism::PromptItem> many(40, prism::PromptItem("A Title Of Some Length", "genre"));
  prism::PromptFormat all;
  all.max_history = 0;
  CHECK(prism::render_prompt(many, many[0], {}, &all).size() > 1000);
  prism::PromptFormat custom;
  custom.template_text = "{item} because {evidence}";
  CHECK(prism::render_prompt({}, prism::PromptItem("X", "y"), {}, &custom) == "X because none");
  custom.template_text = "{nonsense}";
  CHECK_THROWS(PRISM_ERR_FORMAT,
               prism::render_prompt({}, prism::PromptItem("X", "y"), {}, &custom));
  CHECK_THROWS(PRISM_ERR_INVALID_UTF8,
               prism::render_prompt({}, prism::PromptItem("bad \xff", "y"), {}));

  // The demo student explains through a loaded explainer and through borrowed handles alike.
  prism::Explainer owned = prism::Explainer::load(demo + "/model");
  std::vector<std::string> a = owned.run({ prompt, prompt });
  CHECK(a.size() == 2 && !a[0].empty() && a[0] == a[1]);
  CHECK(owned.tokenizer() != nullptr && owned.model() != nullptr);

  prism::Tokenizer tok = prism::Tokenizer::load(demo + "/model");
  prism::Bart model = prism::Bart::load(demo + "/model");
  prism::ExplainerParams ep;
  ep.max_batch = 1;
  prism::Explainer borrowed = prism::Explainer::create(tok, model, &ep);
  size_t events = 0;
  std::vector<std::string> b = borrowed.run({ prompt }, nullptr, [&](const prism_generate_event &) {
    events++;
    return true;
  });
  CHECK(b == std::vector<std::string>{ a[0] });
  CHECK(events > 0);

  prism::GenerateParams beams;
  beams.parse("{\"num_beams\": 2, \"num_return_sequences\": 2}");
  CHECK(borrowed.run({ prompt }, &beams).size() == 2);
  CHECK_THROWS(
      PRISM_ERR_CANCELLED,
      borrowed.run({ prompt }, nullptr, [](const prism_generate_event &) { return false; }));
  std::printf("explanation: %s\n", a[0].c_str());
}

void test_pipeline()
{
  prism::Interactions data = prism::Interactions::load_tsv(demo + "/interactions.tsv");
  prism::RankerParams params;
  params.factors = 8;
  params.seed = 3;
  prism::Ranker ranker = prism::Ranker::train(data, &params);
  prism::Catalog catalog = prism::Catalog::load_tsv(demo + "/catalog.tsv");
  prism::PromptItem entry;
  CHECK(catalog.count() == 80 && catalog.find("b01", &entry) && entry.title == "Winter Hours");
  CHECK(!catalog.find("nope", &entry));
  prism::Explainer explainer = prism::Explainer::load(demo + "/model");
  prism::Pipeline pipeline = prism::Pipeline::create(ranker, catalog, &data, &explainer);
  prism::PipelineParams pp;
  pp.k = 2;
  std::vector<prism::PipelineUser> users = pipeline.run({ "u001", "nobody" }, &pp);
  CHECK(users.size() == 2 && users[0].status == PRISM_OK && users[0].items.size() == 2);
  CHECK(users[1].status == PRISM_ERR_NOT_FOUND && !users[1].error.empty());
  const prism::PipelineItem &top = users[0].items[0];
  CHECK(top.in_catalog && !top.title.empty() && top.evidence.size() == 3);
  CHECK(top.prompt.find(" | item: " + top.title + " (") != std::string::npos);
  // The pipeline's explanation is the explainer's for the same prompt.
  CHECK(explainer.run({ top.prompt }) == std::vector<std::string>{ top.explanation });
  CHECK(!users[0].history.empty() && users[0].missing.empty());

  // A catalog filled by hand that lacks the top item: no prompt, reported missing.
  prism::Catalog partial;
  partial.add("b01", "Winter Hours", "literary drama");
  CHECK_THROWS(PRISM_ERR_INVALID_ARGUMENT, partial.add("b01", "Again"));
  prism::Pipeline prompts_only = prism::Pipeline::create(ranker, partial, nullptr, nullptr);
  std::vector<prism::PipelineUser> p = prompts_only.run({ "u001" }, &pp);
  CHECK(p[0].items[0].item == top.item && !p[0].items[0].in_catalog &&
        p[0].items[0].prompt.empty());
  CHECK(!p[0].missing.empty() && p[0].history.empty());
  CHECK_THROWS(PRISM_ERR_NOT_FOUND, prism::Catalog::load_tsv(demo + "/no-such-catalog.tsv"));
}

} // namespace

void test_metrics()
{
  prism::TextMetrics text({ "food", "staff" });
  text.add("the food was great", "the food was good", "food");
  text.add("friendly staff", "great staff", "staff");
  prism_metrics_result r = text.finish();
  CHECK(r.count == 2 && r.usn == 2 && r.fmr == 1.0 && r.fcr == 1.0 && r.div == 0.0);
  CHECK(r.bleu1 > 0.0 && r.rouge_l_f_score > 0.0);
  CHECK_THROWS(PRISM_ERR_INVALID_ARGUMENT, prism::TextMetrics().finish());
  CHECK_THROWS(PRISM_ERR_INVALID_UTF8, text.add("a", std::string("\xff", 1)));

  prism::Faithfulness faith({ "The Glass", "The Glass Road", "Winter Hours" });
  CHECK(faith.title_count() == 3 && faith.title(1) == "The Glass Road");
  prism::FaithfulnessSample s =
      faith.add("Like winter hours, THE GLASS ROAD is calm.", "The Glass Road", { "Winter Hours" });
  CHECK(s.titles.size() == 2 && s.titles[0] == 2 && s.titles[1] == 1);
  CHECK(s.counts.titles_grounded == 2 && s.counts.names_item && !s.counts.hallucinated);
  CHECK_THROWS(PRISM_ERR_NOT_FOUND, faith.add("x", "No Such Title"));
  prism_faithfulness_result fr = faith.finish();
  CHECK(fr.count == 1 && fr.hallucination_rate == 0.0);
  CHECK(prism::Faithfulness::load_catalog(demo + "/catalog.tsv").title_count() == 80);
  prism::Faithfulness none({ "A" });
  CHECK(none.add("nothing named here", "A").titles.empty());
  CHECK(std::isnan(none.finish().grounded_share));
}

int main()
{
  prism::set_num_threads(1);
  try {
    test_tokenizer();
    test_tokenizer_trainer();
    test_bart_fixture("tiny-bart", 1e-4f);
    test_bart_fixture("tiny-bart-f16", 1e-4f);
    test_bart_fixture("tiny-bart-bf16", 1e-4f);
    test_bart_fixture("tiny-bart-copy", 1e-4f);
    test_streaming();
    test_ranker();
    test_explain();
    test_pipeline();
    test_metrics();
  } catch (const std::exception &e) {
    std::fprintf(stderr, "unexpected exception: %s\n", e.what());
    return 1;
  }
  CHECK_THROWS(PRISM_ERR_FORMAT, prism::check(PRISM_ERR_FORMAT));

  // Failures are logged at debug level; a throwing handler does not disturb the library.
  std::vector<std::string> logged;
  prism::set_log_level(PRISM_LOG_DEBUG);
  prism::set_log_handler([&](int level, const std::string &message) {
    logged.push_back(message);
    if (level == PRISM_LOG_DEBUG)
      throw std::runtime_error("handler failure");
  });
  CHECK_THROWS(PRISM_ERR_NOT_FOUND, prism::Bart::load(fixtures + "/no-such-model"));
  prism::set_log_handler(prism::LogFn());
  CHECK_THROWS(PRISM_ERR_NOT_FOUND, prism::Bart::load(fixtures + "/no-such-model"));
  CHECK(logged.size() == 1 && logged[0].find("no-such-model") != std::string::npos);
  CHECK(prism::check(3) == 3);
  CHECK(!prism::version().empty() && prism::get_num_threads() == 1);
  CHECK(prism::unicode_version().find('.') != std::string::npos);
  if (failures)
    std::fprintf(stderr, "%d checks failed\n", failures);
  return failures ? 1 : 0;
}

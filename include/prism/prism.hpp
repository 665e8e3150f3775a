/*
 * libprism — header-only C++ wrapper (C++11) over the C API.
 *
 * Handles are move-only RAII objects; a failing call throws prism::Error,
 * carrying the status code and the library's message. Outputs come back as
 * std::string and std::vector; the wrapper sizes every buffer itself.
 *
 * Thread safety: that of the C API (see prism.h). Tokenizer, Bart and a
 * trained Ranker may be shared by threads; a Session, an Explainer, a
 * TokenizerTrainer, a Pipeline and an Interactions set or Catalog being filled
 * belong to one thread at a time. Callbacks run
 * on the calling thread. An exception thrown by a callback cancels the C call
 * and is rethrown once the C call has returned: it never unwinds C frames.
 *
 * Ownership: every object owns its C handle and releases it when destroyed.
 * Some handles borrow others, as in C: a Session must not outlive its Bart,
 * and an Explainer made from a Tokenizer and a Bart must not outlive them.
 * Params structs such as PromptFormat hold `const char *` fields that point to
 * strings the caller keeps alive while the params are used.
 */
#ifndef PRISM_HPP
#define PRISM_HPP

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <functional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "prism.h"

namespace prism
{

/* A failed libprism call: status() is the prism_status, what() "NAME: message". */
class Error : public std::runtime_error
{
public:
  Error(int status, const std::string &message)
      : std::runtime_error(std::string(prism_status_name(status)) + ": " + message),
        status_(status), message_(message)
  {
  }
  int status() const noexcept
  {
    return status_;
  }
  /* The library's message alone (prism_last_error() at the time of the failure). */
  const std::string &message() const noexcept
  {
    return message_;
  }

private:
  int status_;
  std::string message_;
};

/* Throw Error for a negative status; return it otherwise. */
inline int check(int status)
{
  if (status < 0)
    throw Error(status, prism_last_error());
  return status;
}

inline std::string version()
{
  return prism_version_string();
}
inline int set_num_threads(int n)
{
  return prism_set_num_threads(n);
}
inline int get_num_threads()
{
  return prism_get_num_threads();
}
inline std::string cpu_features()
{
  return prism_cpu_features();
}
/* The Unicode version of the tokenizer's character tables (the system utf8proc's). */
inline std::string unicode_version()
{
  return prism_tokenizer_unicode_version();
}

/* Process-wide log handler: (prism_log_level, message without newline). */
typedef std::function<void(int level, const std::string &message)> LogFn;

namespace detail
{
inline LogFn &log_handler()
{
  static LogFn fn;
  return fn;
}

/* Logging cannot be cancelled: what the handler throws is dropped, never sent through C. */
inline void log_trampoline(int level, const char *message, void *)
{
  try {
    log_handler()(level, message);
  } catch (...) {
  }
}
} // namespace detail

/*
 * Install (or, with an empty function, remove) the log handler. Like
 * prism_log_set(), call it before other threads use the library.
 */
inline void set_log_handler(LogFn fn)
{
  prism_log_set(nullptr, nullptr);
  detail::log_handler() = std::move(fn);
  if (detail::log_handler())
    prism_log_set(detail::log_trampoline, nullptr);
}

inline void set_log_level(int max_level)
{
  prism_log_set_level(max_level);
}

namespace detail
{

/* A move-only owner of a C handle released by Free. */
template <typename T, void (*Free)(T *)> class Handle
{
public:
  Handle() noexcept : p_(nullptr)
  {
  }
  explicit Handle(T *p) noexcept : p_(p)
  {
  }
  Handle(Handle &&o) noexcept : p_(o.p_)
  {
    o.p_ = nullptr;
  }
  Handle &operator=(Handle &&o) noexcept
  {
    if (this != &o) {
      reset();
      p_ = o.p_;
      o.p_ = nullptr;
    }
    return *this;
  }
  Handle(const Handle &) = delete;
  Handle &operator=(const Handle &) = delete;
  ~Handle()
  {
    reset();
  }
  void reset() noexcept
  {
    if (p_)
      Free(p_);
    p_ = nullptr;
  }
  T *get() const noexcept
  {
    return p_;
  }
  explicit operator bool() const noexcept
  {
    return p_ != nullptr;
  }

private:
  T *p_;
};

/* Argument errors found by the wrapper itself read like the library's. */
inline void require(bool ok, const char *message)
{
  if (!ok)
    throw Error(PRISM_ERR_INVALID_ARGUMENT, message);
}

/*
 * Run a sized-output call `call(buffer, capacity, &needed)` with a first
 * guess, and once more with the size the library asked for. `extra` is room
 * the output needs beyond the count (1 for a NUL terminator).
 */
template <typename T, typename Call> std::vector<T> sized(size_t guess, size_t extra, Call call)
{
  std::vector<T> buf(guess + extra);
  size_t needed = 0;
  int rc = call(buf.data(), buf.size(), &needed);
  if (rc == PRISM_ERR_BUFFER_TOO_SMALL) {
    buf.resize(needed + extra);
    rc = call(buf.data(), buf.size(), &needed);
  }
  check(rc);
  buf.resize(needed);
  return buf;
}

/* A string id the C API answered with NULL (no such index) becomes an exception. */
inline std::string id_or_throw(const char *id, const char *what)
{
  if (!id)
    throw Error(PRISM_ERR_OUT_OF_RANGE, what);
  return id;
}

inline std::string to_string(const std::vector<char> &chars)
{
  return std::string(chars.begin(), chars.end());
}

/*
 * Carries a std::function across a C callback: the trampoline catches what
 * the function throws, asks the library to stop, and finish() rethrows it
 * after the C call has returned.
 */
template <typename Fn> struct Callback {
  const Fn *fn;
  std::exception_ptr error;

  explicit Callback(const Fn *f) : fn(f), error()
  {
  }

  template <typename... Args> int invoke(Args... args) noexcept
  {
    try {
      return (*fn)(args...) ? 1 : 0;
    } catch (...) {
      error = std::current_exception();
      return 0;
    }
  }

  int finish(int status)
  {
    if (error)
      std::rethrow_exception(error);
    return check(status);
  }
};

} // namespace detail

/* ---- params structs: the C structs, initialised to their defaults on construction ---- */

struct TokenizerParams : prism_tokenizer_params {
  TokenizerParams()
  {
    check(prism_tokenizer_params_init(this, sizeof(prism_tokenizer_params)));
  }
};

struct BartLoadParams : prism_bart_load_params {
  BartLoadParams()
  {
    check(prism_bart_load_params_init(this, sizeof(prism_bart_load_params)));
  }
};

struct SessionParams : prism_bart_session_params {
  SessionParams()
  {
    check(prism_bart_session_params_init(this, sizeof(prism_bart_session_params)));
  }
};

/* HF generate() keywords; unset fields take the model's defaults. */
struct GenerateParams : prism_generate_params {
  GenerateParams()
  {
    check(prism_generate_params_init(this, sizeof(prism_generate_params)));
  }

  /* Set the fields named in a JSON object, e.g. {"num_beams": 4}; throws on an unknown key. */
  GenerateParams &parse(const std::string &json)
  {
    check(prism_generate_params_parse(this, json.data(), json.size()));
    return *this;
  }
};

struct ExplainerParams : prism_explainer_params {
  ExplainerParams()
  {
    check(prism_explainer_params_init(this, sizeof(prism_explainer_params)));
  }
};

/* The prompt template and limits; the strings it points to must outlive its use. */
struct PromptFormat : prism_prompt_format {
  PromptFormat()
  {
    check(prism_prompt_format_init(this, sizeof(prism_prompt_format)));
  }
};

/* The training callback sees (iteration, total, loss); returning false cancels. */
typedef std::function<bool(int iteration, int total, double loss)> ProgressFn;

/* Training options; `progress` and `progress_payload` are set by Ranker::train from its argument. */
struct RankerParams : prism_ranker_params {
  RankerParams()
  {
    check(prism_ranker_params_init(this, sizeof(prism_ranker_params)));
  }
};

/* ---- tokenizer ---- */

class Tokenizer
{
public:
  /* vocab.json + merges.txt of a folder, or its tokenizer.json. */
  static Tokenizer load(const std::string &dir, const prism_tokenizer_params *params = nullptr)
  {
    prism_tokenizer *t = nullptr;
    check(prism_tokenizer_load(&t, dir.c_str(), params));
    return Tokenizer(t);
  }

  static Tokenizer load_files(const std::string &vocab_path, const std::string &merges_path,
                              const prism_tokenizer_params *params = nullptr)
  {
    prism_tokenizer *t = nullptr;
    check(prism_tokenizer_load_files(&t, vocab_path.c_str(), merges_path.c_str(), params));
    return Tokenizer(t);
  }

  /* From vocab.json and merges.txt contents (copied). */
  static Tokenizer load_memory(const std::string &vocab_json, const std::string &merges_txt,
                               const prism_tokenizer_params *params = nullptr)
  {
    prism_tokenizer *t = nullptr;
    check(prism_tokenizer_load_memory(&t, vocab_json.data(), vocab_json.size(), merges_txt.data(),
                                      merges_txt.size(), params));
    return Tokenizer(t);
  }

  static Tokenizer load_json(const std::string &path,
                             const prism_tokenizer_params *params = nullptr)
  {
    prism_tokenizer *t = nullptr;
    check(prism_tokenizer_load_json(&t, path.c_str(), params));
    return Tokenizer(t);
  }

  static Tokenizer load_json_memory(const std::string &json,
                                    const prism_tokenizer_params *params = nullptr)
  {
    prism_tokenizer *t = nullptr;
    check(prism_tokenizer_load_json_memory(&t, json.data(), json.size(), params));
    return Tokenizer(t);
  }

  /* `flags`: prism_tokenizer_encode_flags. */
  std::vector<int32_t> encode(const std::string &text, unsigned flags = 0) const
  {
    const prism_tokenizer *tok = get();
    return detail::sized<int32_t>(text.size() + 2, 0, [&](int32_t *ids, size_t cap, size_t *n) {
      return prism_tokenizer_encode(ids, cap, n, tok, text.data(), text.size(), flags);
    });
  }

  std::vector<int32_t> encode_pair(const std::string &a, const std::string &b,
                                   unsigned flags = 0) const
  {
    const prism_tokenizer *tok = get();
    return detail::sized<int32_t>(
        a.size() + b.size() + 4, 0, [&](int32_t *ids, size_t cap, size_t *n) {
          return prism_tokenizer_encode_pair(ids, cap, n, tok, a.data(), a.size(), b.data(),
                                             b.size(), flags);
        });
  }

  /* One id list per text. */
  std::vector<std::vector<int32_t>> encode_batch(const std::vector<std::string> &texts,
                                                 unsigned flags = 0) const
  {
    std::vector<const char *> ptrs;
    std::vector<size_t> lens;
    size_t guess = 0;
    for (size_t i = 0; i < texts.size(); i++) {
      ptrs.push_back(texts[i].data());
      lens.push_back(texts[i].size());
      guess += texts[i].size() + 2;
    }
    std::vector<size_t> offsets(texts.size() + 1);
    const prism_tokenizer *tok = get();
    std::vector<int32_t> ids =
        detail::sized<int32_t>(guess, 0, [&](int32_t *buf, size_t cap, size_t *n) {
          return prism_tokenizer_encode_batch(buf, cap, n, offsets.data(), tok, ptrs.data(),
                                              lens.data(), texts.size(), flags);
        });
    std::vector<std::vector<int32_t>> out;
    for (size_t i = 0; i < texts.size(); i++)
      out.push_back(std::vector<int32_t>(ids.begin() + offsets[i], ids.begin() + offsets[i + 1]));
    return out;
  }

  /* `flags`: prism_tokenizer_decode_flags. */
  std::string decode(const int32_t *ids, size_t n_ids, unsigned flags = 0) const
  {
    const prism_tokenizer *tok = get();
    return detail::to_string(
        detail::sized<char>(n_ids * 4, 1, [&](char *text, size_t cap, size_t *len) {
          return prism_tokenizer_decode(text, cap, len, tok, ids, n_ids, flags);
        }));
  }

  std::string decode(const std::vector<int32_t> &ids, unsigned flags = 0) const
  {
    return decode(ids.data(), ids.size(), flags);
  }

  /* The id of a vocabulary spelling ("Ġworld"); throws PRISM_ERR_NOT_FOUND. */
  int32_t token_to_id(const std::string &token) const
  {
    int32_t id = 0;
    check(prism_tokenizer_token_to_id(&id, get(), token.data(), token.size()));
    return id;
  }

  std::string id_to_token(int32_t id) const
  {
    const char *token = nullptr;
    size_t len = 0;
    check(prism_tokenizer_id_to_token(&token, &len, get(), id));
    return std::string(token, len);
  }

  int32_t vocab_size() const
  {
    return prism_tokenizer_vocab_size(get());
  }

  /* `which`: prism_tokenizer_special; -1 when the vocabulary has no such token. */
  int32_t special_id(int which) const
  {
    return prism_tokenizer_special_id(get(), which);
  }

  const prism_tokenizer *get() const noexcept
  {
    return h_.get();
  }

private:
  explicit Tokenizer(prism_tokenizer *t) : h_(t)
  {
  }
  detail::Handle<prism_tokenizer, prism_tokenizer_free> h_;
};

/* ---- training a BPE vocabulary ---- */

/* Trainer options with their defaults; special_tokens points to strings the caller keeps. */
struct TokenizerTrainerParams : prism_tokenizer_trainer_params {
  TokenizerTrainerParams()
  {
    check(prism_tokenizer_trainer_params_init(this, sizeof(prism_tokenizer_trainer_params)));
  }
};

/* The trainer callback sees (prism_tokenizer_trainer_stage, done, total); false cancels. */
typedef std::function<bool(int stage, uint64_t done, uint64_t total)> TrainerProgressFn;

/* Counts words of texts and files, then writes vocab.json + merges.txt. One thread at a time. */
class TokenizerTrainer
{
public:
  explicit TokenizerTrainer(const prism_tokenizer_trainer_params *params = nullptr)
  {
    prism_tokenizer_trainer *t = nullptr;
    check(prism_tokenizer_trainer_create(&t, params));
    h_ = Owner(t);
  }

  void feed(const std::vector<std::string> &texts)
  {
    std::vector<const char *> ptrs;
    std::vector<size_t> lens;
    for (const std::string &t : texts) {
      ptrs.push_back(t.data());
      lens.push_back(t.size());
    }
    check(prism_tokenizer_trainer_feed(h_.get(), ptrs.data(), lens.data(), texts.size()));
  }

  /* Plain text (one text per line) without fields, else JSON Lines with those string fields. */
  void feed_file(const std::string &path, const std::vector<std::string> &fields = {})
  {
    std::vector<const char *> names;
    for (const std::string &f : fields)
      names.push_back(f.c_str());
    check(prism_tokenizer_trainer_feed_file(h_.get(), path.c_str(), names.data(), names.size()));
  }

  /* Learn the merges and write out_dir/vocab.json and out_dir/merges.txt (out_dir must exist). */
  prism_tokenizer_trainer_stats train(const std::string &out_dir,
                                      const TrainerProgressFn &progress = TrainerProgressFn())
  {
    prism_tokenizer_trainer_stats stats;
    stats.struct_size = sizeof stats;
    ProgressCallback cb(&progress);
    int rc = prism_tokenizer_trainer_train(&stats, h_.get(), out_dir.c_str(),
                                           progress ? trampoline : nullptr, &cb);
    cb.finish(rc);
    return stats;
  }

  prism_tokenizer_trainer *get() const noexcept
  {
    return h_.get();
  }

private:
  typedef detail::Handle<prism_tokenizer_trainer, prism_tokenizer_trainer_free> Owner;
  typedef detail::Callback<TrainerProgressFn> ProgressCallback;

  static int trampoline(int stage, uint64_t done, uint64_t total, void *payload)
  {
    return static_cast<ProgressCallback *>(payload)->invoke(stage, done, total);
  }

  Owner h_;
};

/* ---- BART model and sessions ---- */

class Bart
{
public:
  static Bart load(const std::string &model_dir, const prism_bart_load_params *params = nullptr)
  {
    prism_bart *m = nullptr;
    check(prism_bart_load(&m, model_dir.c_str(), params));
    return Bart(m);
  }

  /* `safetensors` is used in place: it must outlive the model. */
  static Bart load_memory(const std::string &config_json, const void *safetensors,
                          size_t safetensors_len,
                          const std::string &generation_config_json = std::string(),
                          const prism_bart_load_params *params = nullptr)
  {
    prism_bart *m = nullptr;
    const char *gen = generation_config_json.empty() ? nullptr : generation_config_json.data();
    check(prism_bart_load_memory(&m, config_json.data(), config_json.size(), safetensors,
                                 safetensors_len, gen, generation_config_json.size(), params));
    return Bart(m);
  }

  prism_bart_info info() const
  {
    prism_bart_info i;
    i.struct_size = sizeof i;
    check(prism_bart_get_info(&i, get()));
    return i;
  }

  /* What a request runs with: the model's generation defaults under `request` (nullptr: none). */
  GenerateParams generation_params(const prism_generate_params *request = nullptr) const
  {
    GenerateParams p;
    check(prism_generate_params_from_model(&p, get(), request));
    return p;
  }

  const prism_bart *get() const noexcept
  {
    return h_.get();
  }

private:
  explicit Bart(prism_bart *m) : h_(m)
  {
  }
  detail::Handle<prism_bart, prism_bart_free> h_;
};

/* A padded [batch x src_len] encoder input. */
struct IdBatch {
  std::vector<int32_t> input_ids;
  std::vector<int32_t> attention_mask; /* empty: ids != pad_token_id */
  size_t batch;
  size_t src_len;

  IdBatch() : batch(0), src_len(0)
  {
  }

  /* Pad rows of different lengths on the right with `pad_id`, masking the padding. */
  static IdBatch pad(const std::vector<std::vector<int32_t>> &rows, int32_t pad_id)
  {
    IdBatch b;
    b.batch = rows.size();
    for (size_t i = 0; i < rows.size(); i++)
      b.src_len = rows[i].size() > b.src_len ? rows[i].size() : b.src_len;
    b.input_ids.assign(b.batch * b.src_len, pad_id);
    b.attention_mask.assign(b.batch * b.src_len, 0);
    for (size_t i = 0; i < rows.size(); i++)
      for (size_t j = 0; j < rows[i].size(); j++) {
        b.input_ids[i * b.src_len + j] = rows[i][j];
        b.attention_mask[i * b.src_len + j] = 1;
      }
    return b;
  }

  const int32_t *mask_or_null() const
  {
    return attention_mask.empty() ? nullptr : attention_mask.data();
  }

  void validate() const
  {
    detail::require(input_ids.size() == batch * src_len,
                    "IdBatch: input_ids must hold batch x src_len ids");
    detail::require(attention_mask.empty() || attention_mask.size() == input_ids.size(),
                    "IdBatch: attention_mask must be empty or match input_ids");
  }
};

/* Generate output, copied out of the C result. */
struct GenerateResult {
  size_t count;                   /* batch x num_return_sequences */
  size_t width;                   /* padded length of every sequence */
  std::vector<int32_t> sequences; /* [count x width], HF layout (start token first, padded) */
  std::vector<int32_t> lengths;   /* [count] tokens before the padding */
  std::vector<float> scores;      /* [count] beam sequences_scores; empty otherwise */
  prism_generate_stats stats;

  GenerateResult() : count(0), width(0), stats()
  {
  }

  /* Sequence i without its padding. */
  std::vector<int32_t> sequence(size_t i) const
  {
    if (i >= count)
      throw Error(PRISM_ERR_OUT_OF_RANGE, "GenerateResult: sequence index out of range");
    const int32_t *row = sequences.data() + i * width;
    return std::vector<int32_t>(row, row + lengths[i]);
  }
};

/* The stream callback sees each decoder step; returning false cancels the run. */
typedef std::function<bool(const prism_generate_event &event)> StreamFn;

namespace detail
{
typedef Callback<StreamFn> StreamCallback;

inline int stream_trampoline(const prism_generate_event *event, void *payload)
{
  return static_cast<StreamCallback *>(payload)->invoke<const prism_generate_event &>(*event);
}

inline GenerateResult copy_result(const prism_generate_result *r)
{
  GenerateResult out;
  out.count = prism_generate_result_count(r);
  out.width = prism_generate_result_width(r);
  const int32_t *seq = prism_generate_result_sequences(r);
  const int32_t *len = prism_generate_result_lengths(r);
  const float *scores = prism_generate_result_scores(r);
  out.sequences.assign(seq, seq + out.count * out.width);
  out.lengths.assign(len, len + out.count);
  if (scores)
    out.scores.assign(scores, scores + out.count);
  out.stats.struct_size = sizeof out.stats;
  check(prism_generate_result_stats(&out.stats, r));
  return out;
}
} // namespace detail

/* Encoder states, KV caches and scratch for one request at a time. Borrows its Bart. */
class Session
{
public:
  explicit Session(const Bart &model, const prism_bart_session_params *params = nullptr)
  {
    prism_bart_session *s = nullptr;
    check(prism_bart_session_create(&s, model.get(), params));
    h_ = Handle(s);
    prism_bart_info info = model.info();
    vocab_size_ = static_cast<size_t>(info.vocab_size);
    d_model_ = static_cast<size_t>(info.d_model);
  }

  /* Run the encoder; the last hidden state [batch, src_len, d_model] when `hidden` is given. */
  void encode(const IdBatch &input, std::vector<float> *hidden = nullptr)
  {
    input.validate();
    float *out = nullptr;
    if (hidden) {
      hidden->assign(input.batch * input.src_len * d_model_, 0.0f);
      out = hidden->data();
    }
    encoded_batch_ = 0; /* a failed encode leaves nothing to decode from */
    rows_ = 0;
    check(prism_bart_session_encode(get(), input.input_ids.data(), input.mask_or_null(),
                                    input.batch, input.src_len, out));
    encoded_batch_ = input.batch;
  }

  void decoder_start(size_t rows_per_input)
  {
    check(prism_bart_session_decoder_start(get(), rows_per_input));
    rows_ = encoded_batch_ * rows_per_input;
  }

  /* One step; returns [rows x vocab_size] logits owned by the session until its next call. */
  const float *decoder_step(const std::vector<int32_t> &tokens)
  {
    detail::require(rows_ > 0 && tokens.size() == rows_,
                    "Session::decoder_step: one token per decoder row, after decoder_start");
    const float *logits = nullptr;
    check(prism_bart_session_decoder_step(get(), tokens.data(), &logits));
    return logits;
  }

  void decoder_reorder(const std::vector<int32_t> &src_rows)
  {
    detail::require(rows_ > 0 && src_rows.size() == rows_,
                    "Session::decoder_reorder: one source row per decoder row");
    check(prism_bart_session_decoder_reorder(get(), src_rows.data()));
  }

  /* Teacher-forced logits [batch, tgt_len, vocab_size] over the last encoded batch. */
  std::vector<float> forward(const std::vector<int32_t> &decoder_input_ids, size_t tgt_len)
  {
    detail::require(
        encoded_batch_ > 0 && tgt_len > 0 && decoder_input_ids.size() == encoded_batch_ * tgt_len,
        "Session::forward: decoder_input_ids must hold batch x tgt_len ids, after encode");
    std::vector<float> logits(decoder_input_ids.size() * vocab_size_);
    check(prism_bart_session_forward(get(), decoder_input_ids.data(), tgt_len, logits.data()));
    return logits;
  }

  /* prism_generate_run; `params` nullptr takes the model's defaults. */
  GenerateResult generate(const IdBatch &input, const prism_generate_params *params = nullptr,
                          const StreamFn &stream = StreamFn())
  {
    input.validate();
    detail::StreamCallback cb(&stream);
    prism_generate_result *r = nullptr;
    int rc = prism_generate_run(&r, get(), input.input_ids.data(), input.mask_or_null(),
                                input.batch, input.src_len, params,
                                stream ? detail::stream_trampoline : nullptr, &cb);
    detail::Handle<prism_generate_result, prism_generate_result_free> owned(r);
    encoded_batch_ = 0; /* generate ran its own encode and decoder loop */
    rows_ = 0;
    cb.finish(rc);
    encoded_batch_ = input.batch;
    return detail::copy_result(r);
  }

  prism_bart_session *get() const noexcept
  {
    return h_.get();
  }

private:
  typedef detail::Handle<prism_bart_session, prism_bart_session_free> Handle;
  Handle h_;
  size_t vocab_size_ = 0;
  size_t d_model_ = 0;
  size_t encoded_batch_ = 0; /* rows of the last encode */
  size_t rows_ = 0;          /* decoder rows since decoder_start */
};

/* One request on a session of its own (it grows to what the request needs). */
inline GenerateResult generate(const Bart &model, const IdBatch &input,
                               const prism_generate_params *params = nullptr,
                               const StreamFn &stream = StreamFn())
{
  Session session(model);
  return session.generate(input, params, stream);
}

/* ---- ranker ---- */

struct Interaction {
  int32_t user;
  int32_t item;
  float value;
};

class Interactions
{
public:
  /* An empty set to fill with add(). */
  Interactions()
  {
    prism_interactions *d = nullptr;
    check(prism_interactions_create(&d));
    h_ = Handle(d);
  }

  /* `user<TAB>item[<TAB>value[<TAB>timestamp]]` lines. */
  static Interactions load_tsv(const std::string &path)
  {
    prism_interactions *d = nullptr;
    check(prism_interactions_load_tsv(&d, path.c_str()));
    return Interactions(d);
  }

  /* Any interactions file (TSV, CSV, a header, gzip); params nullptr: the defaults. */
  static Interactions load(const std::string &path,
                           const prism_interactions_load_params *params = nullptr)
  {
    prism_interactions *d = nullptr;
    check(prism_interactions_load(&d, path.c_str(), params));
    return Interactions(d);
  }

  /* Seconds since 1970-01-01 UTC of the i-th interaction; NaN when it has none. */
  double timestamp(size_t i) const
  {
    return prism_interactions_timestamp(get(), i);
  }

  void add(const std::string &user, const std::string &item, float value = 1.0f)
  {
    check(prism_interactions_add(get(), user.c_str(), item.c_str(), value));
  }

  size_t count() const
  {
    return prism_interactions_count(get());
  }
  int32_t num_users() const
  {
    return prism_interactions_num_users(get());
  }
  int32_t num_items() const
  {
    return prism_interactions_num_items(get());
  }

  Interaction at(size_t i) const
  {
    Interaction x;
    check(prism_interactions_get(&x.user, &x.item, &x.value, get(), i));
    return x;
  }

  std::string user_id(int32_t user) const
  {
    return detail::id_or_throw(prism_interactions_user_id(get(), user), "user index out of range");
  }
  std::string item_id(int32_t item) const
  {
    return detail::id_or_throw(prism_interactions_item_id(get(), item), "item index out of range");
  }

  /* Index of a string id; throws PRISM_ERR_NOT_FOUND. */
  int32_t find_user(const std::string &id) const
  {
    int32_t i = 0;
    check(prism_interactions_find_user(&i, get(), id.c_str()));
    return i;
  }
  int32_t find_item(const std::string &id) const
  {
    int32_t i = 0;
    check(prism_interactions_find_item(&i, get(), id.c_str()));
    return i;
  }

  prism_interactions *get() const noexcept
  {
    return h_.get();
  }

private:
  typedef detail::Handle<prism_interactions, prism_interactions_free> Handle;
  explicit Interactions(prism_interactions *d) : h_(d)
  {
  }
  Handle h_;
};

/* Which items a recommendation may return; owns its item lists. */
class Filter
{
public:
  Filter() : exclude_seen_(true), has_candidates_(false)
  {
  }

  Filter &exclude_seen(bool on)
  {
    exclude_seen_ = on;
    return *this;
  }
  Filter &exclude(std::vector<int32_t> items)
  {
    exclude_ = std::move(items);
    return *this;
  }
  /* Only these items may be returned (an empty list allows none). */
  Filter &candidates(std::vector<int32_t> items)
  {
    candidates_ = std::move(items);
    has_candidates_ = true;
    return *this;
  }

  /* The C view; valid while this Filter is alive and unchanged. */
  prism_ranker_filter c_filter() const
  {
    static const int32_t none = 0;
    prism_ranker_filter f;
    check(prism_ranker_filter_init(&f, sizeof f));
    f.exclude_seen = exclude_seen_ ? 1 : 0;
    f.exclude = exclude_.empty() ? nullptr : exclude_.data();
    f.exclude_count = exclude_.size();
    if (has_candidates_) {
      f.candidates = candidates_.empty() ? &none : candidates_.data();
      f.candidate_count = candidates_.size();
    }
    return f;
  }

private:
  bool exclude_seen_;
  bool has_candidates_;
  std::vector<int32_t> exclude_;
  std::vector<int32_t> candidates_;
};

/* Ranked items with their scores (or, from explain(), their contributions). */
struct ScoredItems {
  std::vector<int32_t> items;
  std::vector<float> scores;

  size_t size() const
  {
    return items.size();
  }
};

struct RatingMetrics {
  double rmse;
  double mae;
  size_t pairs;
};

class Ranker
{
public:
  /* Train on an interactions set; `progress` (optional) may return false to cancel. */
  static Ranker train(const Interactions &data, const prism_ranker_params *params = nullptr,
                      const ProgressFn &progress = ProgressFn())
  {
    return train_with(params, progress, [&](prism_ranker **out, const prism_ranker_params *p) {
      return prism_ranker_train(out, data.get(), p);
    });
  }

  /* Row u of the CSR matrix holds indices[indptr[u] .. indptr[u+1]); values empty: all 1. */
  static Ranker train_csr(int32_t num_users, int32_t num_items, const std::vector<int64_t> &indptr,
                          const std::vector<int32_t> &indices,
                          const std::vector<float> &values = std::vector<float>(),
                          const prism_ranker_params *params = nullptr,
                          const ProgressFn &progress = ProgressFn())
  {
    detail::require(indptr.size() == static_cast<size_t>(num_users) + 1,
                    "Ranker::train_csr: indptr must hold num_users + 1 entries");
    detail::require(values.empty() || values.size() == indices.size(),
                    "Ranker::train_csr: values must be empty or match indices");
    return train_with(params, progress, [&](prism_ranker **out, const prism_ranker_params *p) {
      return prism_ranker_train_csr(out, num_users, num_items, indptr.data(), indices.data(),
                                    values.empty() ? nullptr : values.data(), p);
    });
  }

  static Ranker train_coo(int32_t num_users, int32_t num_items, const std::vector<int32_t> &users,
                          const std::vector<int32_t> &items,
                          const std::vector<float> &values = std::vector<float>(),
                          const prism_ranker_params *params = nullptr,
                          const ProgressFn &progress = ProgressFn())
  {
    detail::require(users.size() == items.size(),
                    "Ranker::train_coo: users and items must have the same length");
    detail::require(values.empty() || values.size() == users.size(),
                    "Ranker::train_coo: values must be empty or match users");
    return train_with(params, progress, [&](prism_ranker **out, const prism_ranker_params *p) {
      return prism_ranker_train_coo(out, num_users, num_items, users.size(), users.data(),
                                    items.data(), values.empty() ? nullptr : values.data(), p);
    });
  }

  static Ranker load(const std::string &path)
  {
    prism_ranker *r = nullptr;
    check(prism_ranker_load(&r, path.c_str()));
    return Ranker(r);
  }

  /* Atomic: on failure `path` is untouched. */
  void save(const std::string &path) const
  {
    check(prism_ranker_save(get(), path.c_str()));
  }

  int algorithm() const
  {
    return check(prism_ranker_algorithm_of(get()));
  }
  int32_t num_users() const
  {
    return prism_ranker_num_users(get());
  }
  int32_t num_items() const
  {
    return prism_ranker_num_items(get());
  }
  int num_factors() const
  {
    return prism_ranker_num_factors(get());
  }

  /* String ids; throw PRISM_ERR_OUT_OF_RANGE for an index outside the model or without id map. */
  std::string user_id(int32_t user) const
  {
    return detail::id_or_throw(prism_ranker_user_id(get(), user), "no such user id");
  }
  std::string item_id(int32_t item) const
  {
    return detail::id_or_throw(prism_ranker_item_id(get(), item), "no such item id");
  }
  int32_t find_user(const std::string &id) const
  {
    int32_t i = 0;
    check(prism_ranker_find_user(&i, get(), id.c_str()));
    return i;
  }
  int32_t find_item(const std::string &id) const
  {
    int32_t i = 0;
    check(prism_ranker_find_item(&i, get(), id.c_str()));
    return i;
  }

  /* Borrowed row-major factors, valid while the ranker lives. */
  const float *user_factors() const
  {
    return prism_ranker_user_factors(get());
  }
  const float *item_factors() const
  {
    return prism_ranker_item_factors(get());
  }

  ScoredItems recommend(int32_t user, int k, const Filter &filter = Filter()) const
  {
    prism_ranker_filter f = filter.c_filter();
    ScoredItems out = room(k);
    size_t n = 0;
    check(prism_ranker_recommend(out.items.data(), out.scores.data(), &n, get(), user, k, &f));
    return trimmed(out, n);
  }

  /* One ScoredItems per user, equal to recommend()'s. */
  std::vector<ScoredItems> recommend_batch(const std::vector<int32_t> &users, int k,
                                           const Filter &filter = Filter()) const
  {
    detail::require(k > 0, "Ranker::recommend_batch: k must be positive");
    prism_ranker_filter f = filter.c_filter();
    int width = room_for(k);
    size_t kk = static_cast<size_t>(width);
    std::vector<int32_t> items(users.size() * kk);
    std::vector<float> scores(users.size() * kk);
    std::vector<size_t> counts(users.size());
    check(prism_ranker_recommend_batch(items.data(), scores.data(), counts.data(), get(),
                                       users.data(), users.size(), width, &f));
    std::vector<ScoredItems> out(users.size());
    for (size_t i = 0; i < users.size(); i++) {
      out[i].items.assign(items.begin() + i * kk, items.begin() + i * kk + counts[i]);
      out[i].scores.assign(scores.begin() + i * kk, scores.begin() + i * kk + counts[i]);
    }
    return out;
  }

  /* Recommend for a history alone (fold-in); values empty: all 1. */
  ScoredItems recommend_history(const std::vector<int32_t> &history,
                                const std::vector<float> &values, int k,
                                const Filter &filter = Filter()) const
  {
    require_values(history, values);
    prism_ranker_filter f = filter.c_filter();
    ScoredItems out = room(k);
    size_t n = 0;
    check(prism_ranker_recommend_history(out.items.data(), out.scores.data(), &n, get(),
                                         history.data(), or_null(values), history.size(), k, &f));
    return trimmed(out, n);
  }

  /* Factors of a user with this history; the MF bias goes to *bias when given. */
  std::vector<float> fold_in(const std::vector<int32_t> &history,
                             const std::vector<float> &values = std::vector<float>(),
                             float *bias = nullptr) const
  {
    require_values(history, values);
    std::vector<float> factors(static_cast<size_t>(num_factors()));
    check(prism_ranker_fold_in(factors.data(), bias, get(), history.data(), or_null(values),
                               history.size()));
    return factors;
  }

  ScoredItems similar_items(int32_t item, int k) const
  {
    ScoredItems out = room(k);
    size_t n = 0;
    check(prism_ranker_similar_items(out.items.data(), out.scores.data(), &n, get(), item, k));
    return trimmed(out, n);
  }

  /* The n history items that drove the score of `item`, largest contribution first. */
  ScoredItems explain(int32_t user, int32_t item, int n) const
  {
    ScoredItems out = room(n);
    size_t got = 0;
    check(prism_ranker_explain(out.items.data(), out.scores.data(), &got, get(), user, item, n));
    return trimmed(out, got);
  }

  float predict(int32_t user, int32_t item) const
  {
    float score = 0.0f;
    check(prism_ranker_predict(&score, get(), user, item));
    return score;
  }

  prism_ranker_metrics evaluate(const Interactions &test, int k, const Filter &filter = Filter(),
                                size_t *skipped_users = nullptr) const
  {
    prism_ranker_filter f = filter.c_filter();
    prism_ranker_metrics m;
    m.struct_size = sizeof m;
    check(prism_ranker_evaluate(&m, skipped_users, get(), test.get(), k, &f));
    return m;
  }

  RatingMetrics evaluate_ratings(const Interactions &test) const
  {
    RatingMetrics m;
    check(prism_ranker_evaluate_ratings(&m.rmse, &m.mae, &m.pairs, get(), test.get()));
    return m;
  }

  /* Metrics of one ranked list against a relevant set. */
  static prism_ranker_metrics metrics_list(const std::vector<int32_t> &recommended,
                                           const std::vector<int32_t> &relevant, int k)
  {
    prism_ranker_metrics m;
    m.struct_size = sizeof m;
    check(prism_ranker_metrics_list(&m, recommended.data(), recommended.size(), relevant.data(),
                                    relevant.size(), k));
    return m;
  }

  const prism_ranker *get() const noexcept
  {
    return h_.get();
  }

private:
  typedef detail::Callback<ProgressFn> ProgressCallback;

  explicit Ranker(prism_ranker *r) : h_(r)
  {
  }

  static int progress_trampoline(int iteration, int total, double loss, void *payload)
  {
    return static_cast<ProgressCallback *>(payload)->invoke(iteration, total, loss);
  }

  /* Every train variant: install the progress trampoline, train, rethrow a callback's error. */
  template <typename Train>
  static Ranker train_with(const prism_ranker_params *params, const ProgressFn &progress,
                           Train train)
  {
    RankerParams p;
    if (params)
      static_cast<prism_ranker_params &>(p) = *params;
    ProgressCallback cb(&progress);
    if (progress) {
      p.progress = progress_trampoline;
      p.progress_payload = &cb;
    }
    prism_ranker *r = nullptr;
    int rc = train(&r, params || progress ? &p : nullptr);
    Ranker out(r);
    cb.finish(rc);
    return out;
  }

  /* No list is longer than the item count: a larger k asks for the same, in less memory. */
  int room_for(int k) const
  {
    return k < num_items() ? k : static_cast<int>(num_items());
  }

  /* Buffers for min(k, num_items) results; k becomes that count, the one passed to C. */
  ScoredItems room(int &k) const
  {
    detail::require(k > 0, "Ranker: k must be positive");
    k = room_for(k);
    ScoredItems s;
    s.items.resize(static_cast<size_t>(k));
    s.scores.resize(static_cast<size_t>(k));
    return s;
  }

  static ScoredItems trimmed(ScoredItems s, size_t n)
  {
    s.items.resize(n);
    s.scores.resize(n);
    return s;
  }

  static void require_values(const std::vector<int32_t> &history, const std::vector<float> &values)
  {
    detail::require(values.empty() || values.size() == history.size(),
                    "Ranker: values must be empty or match the history");
  }

  static const float *or_null(const std::vector<float> &v)
  {
    return v.empty() ? nullptr : v.data();
  }

  detail::Handle<prism_ranker, prism_ranker_free> h_;
};

/* ---- prompts and explanations ---- */

struct PromptItem {
  std::string title;
  std::string features;

  PromptItem()
  {
  }
  PromptItem(std::string t, std::string f) : title(std::move(t)), features(std::move(f))
  {
  }
};

namespace detail
{
inline std::vector<prism_prompt_item> c_items(const std::vector<PromptItem> &items)
{
  std::vector<prism_prompt_item> out(items.size());
  for (size_t i = 0; i < items.size(); i++) {
    out[i].title = items[i].title.c_str();
    out[i].features = items[i].features.c_str();
  }
  return out;
}
} // namespace detail

/* Render the student's prompt; `format` nullptr is the demo student's format. */
inline std::string render_prompt(const std::vector<PromptItem> &history, const PromptItem &item,
                                 const std::vector<PromptItem> &evidence,
                                 const prism_prompt_format *format = nullptr)
{
  std::vector<prism_prompt_item> h = detail::c_items(history);
  std::vector<prism_prompt_item> e = detail::c_items(evidence);
  prism_prompt_item it;
  it.title = item.title.c_str();
  it.features = item.features.c_str();
  return detail::to_string(detail::sized<char>(256, 1, [&](char *buf, size_t cap, size_t *len) {
    return prism_prompt_render(buf, cap, len, format, h.data(), h.size(), &it, e.data(), e.size());
  }));
}

/* Text in, explanations out, over a tokenizer, a model and a session it owns. */
class Explainer
{
public:
  /* Borrows `tokenizer` and `model`: both must outlive the explainer. */
  static Explainer create(const Tokenizer &tokenizer, const Bart &model,
                          const prism_explainer_params *params = nullptr)
  {
    prism_explainer *e = nullptr;
    check(prism_explainer_create(&e, tokenizer.get(), model.get(), params));
    return Explainer(e);
  }

  /* Loads and owns the tokenizer and model of one HuggingFace folder. */
  static Explainer load(const std::string &model_dir,
                        const prism_explainer_params *params = nullptr)
  {
    prism_explainer *e = nullptr;
    check(prism_explainer_load(&e, model_dir.c_str(), params));
    return Explainer(e);
  }

  /* n_prompts x num_return_sequences texts, those of prompt i first. */
  std::vector<std::string> run(const std::vector<std::string> &prompts,
                               const prism_generate_params *params = nullptr,
                               const StreamFn &stream = StreamFn())
  {
    std::vector<const char *> ptrs(prompts.size());
    for (size_t i = 0; i < prompts.size(); i++)
      ptrs[i] = prompts[i].c_str();
    detail::StreamCallback cb(&stream);
    prism_text_batch *b = nullptr;
    int rc = prism_explainer_run(&b, get(), ptrs.data(), ptrs.size(), params,
                                 stream ? detail::stream_trampoline : nullptr, &cb);
    detail::Handle<prism_text_batch, prism_text_batch_free> owned(b);
    cb.finish(rc);
    std::vector<std::string> out(prism_text_batch_count(b));
    for (size_t i = 0; i < out.size(); i++) {
      size_t len = 0;
      const char *text = prism_text_batch_get(b, i, &len);
      out[i].assign(text, len);
    }
    return out;
  }

  /* The explainer's tokenizer and model (borrowed, for direct calls through the C API). */
  const prism_tokenizer *tokenizer() const
  {
    return prism_explainer_tokenizer(get());
  }
  const prism_bart *model() const
  {
    return prism_explainer_model(get());
  }

  prism_explainer *get() const noexcept
  {
    return h_.get();
  }

private:
  explicit Explainer(prism_explainer *e) : h_(e)
  {
  }
  detail::Handle<prism_explainer, prism_explainer_free> h_;
};

/* ---- the pipeline: rank, evidence, prompt and explanation in one call ---- */

struct CatalogParams : prism_catalog_params {
  CatalogParams()
  {
    check(prism_catalog_params_init(this, sizeof(prism_catalog_params)));
  }
};

/* Item id -> title and features; read-only once filled, so it may be shared by threads. */
class Catalog
{
public:
  /* An empty catalog to fill with add(). */
  Catalog()
  {
    prism_catalog *c = nullptr;
    check(prism_catalog_create(&c));
    h_ = Handle(c);
  }

  /* A catalog TSV: a header naming item_id, title and feature columns. */
  static Catalog load_tsv(const std::string &path, const prism_catalog_params *params = nullptr)
  {
    prism_catalog *c = nullptr;
    check(prism_catalog_load_tsv(&c, path.c_str(), params));
    return Catalog(c);
  }

  void add(const std::string &item, const std::string &title, const std::string &features = "")
  {
    check(prism_catalog_add(get(), item.c_str(), title.c_str(), features.c_str()));
  }

  size_t count() const
  {
    return prism_catalog_count(get());
  }

  /* The entry of an item id into *out; false when the catalog lacks it. */
  bool find(const std::string &item, PromptItem *out) const
  {
    prism_prompt_item it;
    int rc = prism_catalog_find(&it, get(), item.c_str());
    if (rc == PRISM_ERR_NOT_FOUND)
      return false;
    check(rc);
    *out = PromptItem(it.title, it.features);
    return true;
  }

  prism_catalog *get() const noexcept
  {
    return h_.get();
  }

private:
  typedef detail::Handle<prism_catalog, prism_catalog_free> Handle;
  explicit Catalog(prism_catalog *c) : h_(c)
  {
  }
  Handle h_;
};

/* Per call: k (3), evidence (3), filter and generation params (nullptr: defaults). */
struct PipelineParams : prism_pipeline_params {
  PipelineParams()
  {
    check(prism_pipeline_params_init(this, sizeof(prism_pipeline_params)));
  }
};

/* A history or evidence item; in_catalog false: no title, and the prompt left it out. */
struct PipelineEntry {
  std::string item;
  bool in_catalog;
  std::string title;
  std::string features;
  float weight;
};

/* One recommendation; without a catalog entry it has no prompt and no explanation. */
struct PipelineItem {
  std::string item;
  bool in_catalog;
  std::string title;
  std::string features;
  float score;
  std::vector<PipelineEntry> evidence;
  std::string prompt;
  std::string explanation;
};

/* One user of a call: status PRISM_OK, or why there are no items (error says more). */
struct PipelineUser {
  std::string user;
  int status;
  std::string error;
  std::vector<PipelineEntry> history; /* oldest first */
  std::vector<PipelineItem> items;    /* best first */
  std::vector<std::string> missing;   /* the item ids the catalog lacked */
};

namespace detail
{
inline std::string str(const char *s)
{
  return s ? std::string(s) : std::string();
}

inline PipelineEntry pipeline_entry(const prism_pipeline_entry &e)
{
  PipelineEntry out;
  out.item = e.item;
  out.in_catalog = e.title != nullptr;
  out.title = str(e.title);
  out.features = str(e.features);
  out.weight = e.weight;
  return out;
}

inline PipelineUser pipeline_user(const prism_pipeline_result *r, size_t u)
{
  PipelineUser out;
  prism_pipeline_user pu;
  pu.struct_size = sizeof pu;
  check(prism_pipeline_result_user(&pu, r, u));
  out.user = pu.user;
  out.status = pu.status;
  out.error = str(pu.error);
  for (size_t j = 0; j < pu.history_count; j++) {
    prism_pipeline_entry e;
    e.struct_size = sizeof e;
    check(prism_pipeline_result_history(&e, r, u, j));
    out.history.push_back(pipeline_entry(e));
  }
  for (size_t j = 0; j < pu.item_count; j++) {
    prism_pipeline_item it;
    it.struct_size = sizeof it;
    check(prism_pipeline_result_item(&it, r, u, j));
    PipelineItem item;
    item.item = it.item;
    item.in_catalog = it.title != nullptr;
    item.title = str(it.title);
    item.features = str(it.features);
    item.score = it.score;
    item.prompt = str(it.prompt);
    item.explanation = str(it.explanation);
    for (size_t k = 0; k < it.evidence_count; k++) {
      prism_pipeline_entry e;
      e.struct_size = sizeof e;
      check(prism_pipeline_result_evidence(&e, r, u, j, k));
      item.evidence.push_back(pipeline_entry(e));
    }
    out.items.push_back(item);
  }
  for (size_t j = 0; j < pu.missing_count; j++)
    out.missing.push_back(prism_pipeline_result_missing(r, u, j));
  return out;
}
} // namespace detail

/*
 * Recommend, take the evidence, render and explain for a batch of users in one
 * call. Borrows the ranker, catalog, histories and explainer (they must
 * outlive it); one thread at a time (it uses the explainer).
 */
class Pipeline
{
public:
  /* `histories` nullptr: empty histories; `explainer` nullptr: prompts only. */
  static Pipeline create(const Ranker &ranker, const Catalog &catalog,
                         const Interactions *histories, Explainer *explainer,
                         const prism_prompt_format *format = nullptr)
  {
    prism_pipeline *p = nullptr;
    check(prism_pipeline_create(&p, ranker.get(), catalog.get(),
                                histories ? histories->get() : nullptr,
                                explainer ? explainer->get() : nullptr, format));
    return Pipeline(p);
  }

  /* One entry per user id, in order; every prompt of the call explained in one batch. */
  std::vector<PipelineUser> run(const std::vector<std::string> &users,
                                const prism_pipeline_params *params = nullptr)
  {
    std::vector<const char *> ids(users.size());
    for (size_t i = 0; i < users.size(); i++)
      ids[i] = users[i].c_str();
    prism_pipeline_result *r = nullptr;
    check(prism_pipeline_run(&r, get(), ids.data(), ids.size(), params));
    detail::Handle<prism_pipeline_result, prism_pipeline_result_free> owned(r);
    std::vector<PipelineUser> out;
    for (size_t u = 0; u < prism_pipeline_result_count(r); u++)
      out.push_back(detail::pipeline_user(r, u));
    return out;
  }

  prism_pipeline *get() const noexcept
  {
    return h_.get();
  }

private:
  explicit Pipeline(prism_pipeline *p) : h_(p)
  {
  }
  detail::Handle<prism_pipeline, prism_pipeline_free> h_;
};

/* ---- explanation quality ---- */

/* The figures of PETER's tables over (reference, hypothesis) pairs, streamed (docs/metrics.md). */
class TextMetrics
{
public:
  /* `feature_set` empty: FMR, FCR and DIV are NaN. `tokenize`: PRISM_METRICS_TOKENIZE_*. */
  explicit TextMetrics(const std::vector<std::string> &feature_set = {},
                       int tokenize = PRISM_METRICS_TOKENIZE_WHITESPACE, bool lowercase = false)
  {
    prism_metrics_params p;
    check(prism_metrics_params_init(&p, sizeof p));
    p.tokenize = tokenize;
    p.lowercase = lowercase ? 1 : 0;
    std::vector<const char *> set(feature_set.size());
    for (size_t i = 0; i < set.size(); i++)
      set[i] = feature_set[i].c_str();
    p.feature_set = set.empty() ? nullptr : set.data();
    p.feature_set_count = set.size();
    prism_metrics *m = nullptr;
    check(prism_metrics_create(&m, &p));
    h_ = Handle(m);
  }

  /* One pair; `feature` (may be NULL) is its ground-truth feature. */
  void add(const std::string &reference, const std::string &hypothesis,
           const char *feature = nullptr)
  {
    check(prism_metrics_add(get(), reference.c_str(), hypothesis.c_str(), feature));
  }

  /* The figures so far; undefined ones are NaN. */
  prism_metrics_result finish() const
  {
    prism_metrics_result r;
    std::memset(&r, 0, sizeof r);
    r.struct_size = sizeof r;
    check(prism_metrics_finish(&r, get()));
    return r;
  }

  prism_metrics *get() const noexcept
  {
    return h_.get();
  }

private:
  typedef detail::Handle<prism_metrics, prism_metrics_free> Handle;
  Handle h_;
};

/* The titles an explanation names, and whether its prompt showed them. */
struct FaithfulnessSample {
  std::vector<size_t> titles; /* catalog indices, in order of first mention */
  prism_faithfulness_sample counts;
};

class Faithfulness
{
public:
  explicit Faithfulness(const std::vector<std::string> &titles)
  {
    std::vector<const char *> t(titles.size());
    for (size_t i = 0; i < t.size(); i++)
      t[i] = titles[i].c_str();
    prism_faithfulness *f = nullptr;
    check(prism_faithfulness_create(&f, t.data(), t.size()));
    h_ = Handle(f);
  }

  /* A TSV catalog whose header line names a `title` column. */
  static Faithfulness load_catalog(const std::string &path)
  {
    prism_faithfulness *f = nullptr;
    check(prism_faithfulness_load_catalog(&f, path.c_str()));
    return Faithfulness(f);
  }

  size_t title_count() const
  {
    return prism_faithfulness_title_count(get());
  }
  std::string title(size_t index) const
  {
    return detail::id_or_throw(prism_faithfulness_title(get(), index), "title index out of range");
  }

  /* Check one explanation against its item and the titles its prompt showed; adds it to the totals. */
  FaithfulnessSample add(const std::string &explanation, const std::string &item,
                         const std::vector<std::string> &grounded = {})
  {
    std::vector<const char *> g(grounded.size());
    for (size_t i = 0; i < g.size(); i++)
      g[i] = grounded[i].c_str();
    FaithfulnessSample out;
    std::memset(&out.counts, 0, sizeof out.counts);
    out.counts.struct_size = sizeof out.counts;
    out.titles.resize(8);
    int rc;
    while ((rc = prism_faithfulness_add(&out.counts, out.titles.data(), out.titles.size(), get(),
                                        explanation.c_str(), item.c_str(), g.data(), g.size())) ==
           PRISM_ERR_BUFFER_TOO_SMALL)
      out.titles.resize(out.counts.titles_named);
    check(rc);
    out.titles.resize(out.counts.titles_named);
    return out;
  }

  /* Totals and rates; undefined rates are NaN. */
  prism_faithfulness_result finish() const
  {
    prism_faithfulness_result r;
    std::memset(&r, 0, sizeof r);
    r.struct_size = sizeof r;
    check(prism_faithfulness_finish(&r, get()));
    return r;
  }

  prism_faithfulness *get() const noexcept
  {
    return h_.get();
  }

private:
  typedef detail::Handle<prism_faithfulness, prism_faithfulness_free> Handle;
  explicit Faithfulness(prism_faithfulness *f) : h_(f)
  {
  }
  Handle h_;
};

} // namespace prism

#endif /* PRISM_HPP */

"""The C API, one prototype per exported function (argtypes and restype always set).

Handles are c_void_p: ctypes' default int return type would truncate pointers.
"""
import ctypes
from ctypes import (CFUNCTYPE, POINTER, c_char_p, c_double, c_float, c_int, c_int32,
                    c_int64, c_size_t, c_uint32, c_uint64, c_void_p)

from . import _lib

lib = _lib.load()
prototypes = {}  # name -> function, for the test that every exported symbol has one


def _fn(name, restype, *argtypes):
    f = getattr(lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)
    prototypes[name] = f
    return f


# common.h
prism_status_str = _fn("prism_status_str", c_char_p, c_int)
prism_status_name = _fn("prism_status_name", c_char_p, c_int)
prism_last_error = _fn("prism_last_error", c_char_p)
prism_last_error_status = _fn("prism_last_error_status", c_int)
prism_version_number = _fn("prism_version_number", c_int)
prism_version_string = _fn("prism_version_string", c_char_p)
prism_log_fn = CFUNCTYPE(None, c_int, c_char_p, c_void_p)
prism_log_set = _fn("prism_log_set", None, prism_log_fn, c_void_p)
prism_log_set_level = _fn("prism_log_set_level", None, c_int)
prism_set_num_threads = _fn("prism_set_num_threads", c_int, c_int)
prism_get_num_threads = _fn("prism_get_num_threads", c_int)
prism_cpu_features = _fn("prism_cpu_features", c_char_p)


class prism_limits(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t), ("max_file_bytes", c_uint64),
                ("max_text_bytes", c_uint64), ("max_batch", c_uint32), ("max_new_tokens", c_uint32),
                ("max_beams", c_uint32), ("max_return_sequences", c_uint32),
                ("max_decoder_rows", c_uint32), ("max_decoder_tokens", c_uint64)]


prism_limits_init = _fn("prism_limits_init", c_int, POINTER(prism_limits), c_size_t)
prism_limits_init_safe = _fn("prism_limits_init_safe", c_int, POINTER(prism_limits), c_size_t)
prism_limits_get = _fn("prism_limits_get", c_int, POINTER(prism_limits), c_size_t)
prism_limits_set = _fn("prism_limits_set", c_int, POINTER(prism_limits))


# bart.h
class prism_bart_load_params(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t), ("max_file_size", c_uint64), ("flags", c_uint32)]


class prism_bart_info(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t)] + [(n, c_int32) for n in (
        "vocab_size", "d_model", "encoder_layers", "decoder_layers", "encoder_attention_heads",
        "decoder_attention_heads", "encoder_ffn_dim", "decoder_ffn_dim", "max_position_embeddings",
        "scale_embedding", "pad_token_id", "bos_token_id", "eos_token_id",
        "decoder_start_token_id")] + [("activation_function", c_char_p)]


class prism_bart_session_params(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t), ("max_batch", c_uint32), ("max_rows", c_uint32),
                ("max_source_len", c_uint32), ("max_target_len", c_uint32)]


P_i32 = POINTER(c_int32)
P_f32 = POINTER(c_float)

prism_bart_load_params_init = _fn("prism_bart_load_params_init", c_int,
                                  POINTER(prism_bart_load_params), c_size_t)
prism_bart_load = _fn("prism_bart_load", c_int, POINTER(c_void_p), c_char_p,
                      POINTER(prism_bart_load_params))
prism_bart_load_memory = _fn("prism_bart_load_memory", c_int, POINTER(c_void_p), c_char_p,
                             c_size_t, c_void_p, c_size_t, c_char_p, c_size_t,
                             POINTER(prism_bart_load_params))
prism_bart_free = _fn("prism_bart_free", None, c_void_p)
prism_bart_get_info = _fn("prism_bart_get_info", c_int, POINTER(prism_bart_info), c_void_p)
prism_bart_config_text = _fn("prism_bart_config_text", c_int, POINTER(ctypes.c_void_p),
                             POINTER(c_size_t), POINTER(c_char_p), c_void_p, c_int)
prism_bart_session_params_init = _fn("prism_bart_session_params_init", c_int,
                                     POINTER(prism_bart_session_params), c_size_t)
prism_bart_session_create = _fn("prism_bart_session_create", c_int, POINTER(c_void_p), c_void_p,
                                POINTER(prism_bart_session_params))
prism_bart_session_free = _fn("prism_bart_session_free", None, c_void_p)
prism_bart_session_model = _fn("prism_bart_session_model", c_void_p, c_void_p)
prism_bart_session_reserve = _fn("prism_bart_session_reserve", c_int, c_void_p, c_size_t,
                                 c_size_t, c_size_t, c_size_t)
prism_bart_session_encode = _fn("prism_bart_session_encode", c_int, c_void_p, P_i32, P_i32,
                                c_size_t, c_size_t, P_f32)
prism_bart_session_decoder_start = _fn("prism_bart_session_decoder_start", c_int, c_void_p,
                                       c_size_t)
prism_bart_session_decoder_step = _fn("prism_bart_session_decoder_step", c_int, c_void_p, P_i32,
                                      POINTER(P_f32))
prism_bart_session_decoder_reorder = _fn("prism_bart_session_decoder_reorder", c_int, c_void_p,
                                         P_i32)
prism_bart_session_forward = _fn("prism_bart_session_forward", c_int, c_void_p, P_i32, c_size_t,
                                 P_f32)


# generate.h
class prism_generate_params(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t)] + [(n, c_int32) for n in (
        "max_length", "max_new_tokens", "min_length", "min_new_tokens", "num_beams",
        "num_return_sequences", "early_stopping", "no_repeat_ngram_size", "forced_bos_token_id",
        "forced_eos_token_id", "do_sample", "top_k", "pad_token_id", "bos_token_id",
        "eos_token_id", "decoder_start_token_id")] + [(n, c_double) for n in (
        "length_penalty", "repetition_penalty", "temperature", "top_p")] + [("seed", c_uint64)]


class prism_generate_event(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t), ("step", c_size_t), ("num_rows", c_size_t),
                ("stride", c_size_t), ("tokens", P_i32), ("sequences", P_i32),
                ("lengths", P_i32), ("finished", P_i32)]


class prism_generate_stats(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t), ("encode_ms", c_double), ("decode_ms", c_double),
                ("steps", c_int32), ("rows", c_int32)]


prism_generate_stream_fn = CFUNCTYPE(c_int, POINTER(prism_generate_event), c_void_p)
prism_generate_params_init = _fn("prism_generate_params_init", c_int,
                                 POINTER(prism_generate_params), c_size_t)
prism_generate_params_parse = _fn("prism_generate_params_parse", c_int,
                                  POINTER(prism_generate_params), c_char_p, c_size_t)
prism_generate_params_from_model = _fn("prism_generate_params_from_model", c_int,
                                       POINTER(prism_generate_params), c_void_p,
                                       POINTER(prism_generate_params))
prism_generate_run = _fn("prism_generate_run", c_int, POINTER(c_void_p), c_void_p, P_i32, P_i32,
                         c_size_t, c_size_t, POINTER(prism_generate_params),
                         prism_generate_stream_fn, c_void_p)
prism_generate_result_free = _fn("prism_generate_result_free", None, c_void_p)
prism_generate_result_count = _fn("prism_generate_result_count", c_size_t, c_void_p)
prism_generate_result_width = _fn("prism_generate_result_width", c_size_t, c_void_p)
prism_generate_result_sequences = _fn("prism_generate_result_sequences", P_i32, c_void_p)
prism_generate_result_lengths = _fn("prism_generate_result_lengths", P_i32, c_void_p)
prism_generate_result_scores = _fn("prism_generate_result_scores", P_f32, c_void_p)
prism_generate_result_stats = _fn("prism_generate_result_stats", c_int,
                                  POINTER(prism_generate_stats), c_void_p)


# tokenizer.h
class prism_tokenizer_params(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t), ("add_prefix_space", c_int)]


PRISM_TOKENIZER_NO_SPECIAL = 1 << 0
PRISM_TOKENIZER_REPLACE_INVALID = 1 << 1
PRISM_TOKENIZER_PARALLEL = 1 << 2
PRISM_TOKENIZER_SKIP_SPECIAL = 1 << 0
PRISM_TOKENIZER_CLEAN_UP_SPACES = 1 << 1
PRISM_TOKENIZER_BOS, PRISM_TOKENIZER_EOS, PRISM_TOKENIZER_PAD = 0, 1, 2
PRISM_TOKENIZER_UNK, PRISM_TOKENIZER_MASK = 3, 4

P_tokp = POINTER(prism_tokenizer_params)
P_size = POINTER(c_size_t)
prism_tokenizer_params_init = _fn("prism_tokenizer_params_init", c_int, P_tokp, c_size_t)
prism_tokenizer_load = _fn("prism_tokenizer_load", c_int, POINTER(c_void_p), c_char_p, P_tokp)
prism_tokenizer_load_files = _fn("prism_tokenizer_load_files", c_int, POINTER(c_void_p), c_char_p,
                                 c_char_p, P_tokp)
prism_tokenizer_load_memory = _fn("prism_tokenizer_load_memory", c_int, POINTER(c_void_p),
                                  c_char_p, c_size_t, c_char_p, c_size_t, P_tokp)
prism_tokenizer_load_json = _fn("prism_tokenizer_load_json", c_int, POINTER(c_void_p), c_char_p,
                                P_tokp)
prism_tokenizer_load_json_memory = _fn("prism_tokenizer_load_json_memory", c_int,
                                       POINTER(c_void_p), c_char_p, c_size_t, P_tokp)
prism_tokenizer_free = _fn("prism_tokenizer_free", None, c_void_p)
prism_tokenizer_encode = _fn("prism_tokenizer_encode", c_int, P_i32, c_size_t, P_size, c_void_p,
                             c_char_p, c_size_t, ctypes.c_uint)
prism_tokenizer_encode_pair = _fn("prism_tokenizer_encode_pair", c_int, P_i32, c_size_t, P_size,
                                  c_void_p, c_char_p, c_size_t, c_char_p, c_size_t, ctypes.c_uint)
prism_tokenizer_encode_batch = _fn("prism_tokenizer_encode_batch", c_int, P_i32, c_size_t, P_size,
                                   P_size, c_void_p, POINTER(c_char_p), P_size, c_size_t,
                                   ctypes.c_uint)
prism_tokenizer_decode = _fn("prism_tokenizer_decode", c_int, c_void_p, c_size_t, P_size, c_void_p,
                             P_i32, c_size_t, ctypes.c_uint)
prism_tokenizer_token_to_id = _fn("prism_tokenizer_token_to_id", c_int, P_i32, c_void_p, c_char_p,
                                  c_size_t)
prism_tokenizer_id_to_token = _fn("prism_tokenizer_id_to_token", c_int, POINTER(ctypes.c_void_p),
                                  P_size, c_void_p, c_int32)
prism_tokenizer_vocab_size = _fn("prism_tokenizer_vocab_size", c_int32, c_void_p)
prism_tokenizer_special_id = _fn("prism_tokenizer_special_id", c_int32, c_void_p, c_int)
prism_tokenizer_unicode_version = _fn("prism_tokenizer_unicode_version", c_char_p)


# tokenizer_trainer.h
class prism_tokenizer_trainer_params(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t), ("vocab_size", c_int32), ("min_frequency", c_int32),
                ("special_tokens", POINTER(c_char_p)), ("n_special_tokens", c_size_t),
                ("limit_alphabet", c_int32), ("corpus_alphabet", c_int)]


class prism_tokenizer_trainer_stats(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t), ("words", c_uint64), ("unique_words", c_uint64),
                ("alphabet_size", c_int32), ("vocab_size", c_int32), ("merges", c_int32)]


PRISM_UNSET = -2**31
PRISM_TOKENIZER_TRAINER_WORDS, PRISM_TOKENIZER_TRAINER_MERGES = 0, 1
prism_tokenizer_trainer_progress_fn = CFUNCTYPE(c_int, c_int, c_uint64, c_uint64, c_void_p)
P_trainp = POINTER(prism_tokenizer_trainer_params)
prism_tokenizer_trainer_params_init = _fn("prism_tokenizer_trainer_params_init", c_int, P_trainp,
                                          c_size_t)
prism_tokenizer_trainer_create = _fn("prism_tokenizer_trainer_create", c_int, POINTER(c_void_p),
                                     P_trainp)
prism_tokenizer_trainer_free = _fn("prism_tokenizer_trainer_free", None, c_void_p)
prism_tokenizer_trainer_feed = _fn("prism_tokenizer_trainer_feed", c_int, c_void_p,
                                   POINTER(c_char_p), P_size, c_size_t)
prism_tokenizer_trainer_feed_file = _fn("prism_tokenizer_trainer_feed_file", c_int, c_void_p,
                                        c_char_p, POINTER(c_char_p), c_size_t)
prism_tokenizer_trainer_train = _fn("prism_tokenizer_trainer_train", c_int,
                                    POINTER(prism_tokenizer_trainer_stats), c_void_p, c_char_p,
                                    prism_tokenizer_trainer_progress_fn, c_void_p)

# ranker.h
PRISM_RANKER_ALS, PRISM_RANKER_BPR, PRISM_RANKER_MF = 0, 1, 2
prism_ranker_progress_fn = CFUNCTYPE(c_int, c_int, c_int, c_double, c_void_p)


class prism_ranker_params(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t), ("algorithm", c_int), ("factors", c_int),
                ("iterations", c_int), ("regularization", c_float), ("alpha", c_float),
                ("learning_rate", c_float), ("cg_steps", c_int), ("seed", c_uint64),
                ("rating_min", c_float), ("rating_max", c_float),
                ("progress", prism_ranker_progress_fn), ("progress_payload", c_void_p)]


class prism_ranker_filter(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t), ("exclude_seen", c_int), ("exclude", P_i32),
                ("exclude_count", c_size_t), ("candidates", P_i32), ("candidate_count", c_size_t)]


class prism_ranker_metrics(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t), ("precision", c_double), ("recall", c_double),
                ("ndcg", c_double), ("map", c_double), ("users", c_size_t)]


class prism_interactions_load_params(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t), ("separator", c_char_p), ("header", c_int),
                ("user_column", c_int), ("item_column", c_int), ("value_column", c_int),
                ("timestamp_column", c_int)]


PRISM_INTERACTIONS_HEADER_AUTO, PRISM_INTERACTIONS_HEADER_NONE = 0, 1
PRISM_INTERACTIONS_HEADER_PRESENT = 2
PRISM_INTERACTIONS_NO_COLUMN = -1
P_ilp = POINTER(prism_interactions_load_params)
P_rp = POINTER(prism_ranker_params)
P_rf = POINTER(prism_ranker_filter)
P_rm = POINTER(prism_ranker_metrics)
P_i64 = POINTER(c_int64)
prism_interactions_create = _fn("prism_interactions_create", c_int, POINTER(c_void_p))
prism_interactions_load_params_init = _fn("prism_interactions_load_params_init", c_int, P_ilp,
                                          c_size_t)
prism_interactions_load = _fn("prism_interactions_load", c_int, POINTER(c_void_p), c_char_p, P_ilp)
prism_interactions_load_memory = _fn("prism_interactions_load_memory", c_int, POINTER(c_void_p),
                                     c_void_p, c_size_t, c_char_p, P_ilp)
prism_interactions_load_tsv = _fn("prism_interactions_load_tsv", c_int, POINTER(c_void_p),
                                  c_char_p)
prism_interactions_add = _fn("prism_interactions_add", c_int, c_void_p, c_char_p, c_char_p,
                             c_float)
prism_interactions_add_timed = _fn("prism_interactions_add_timed", c_int, c_void_p, c_char_p,
                                   c_char_p, c_float, c_double)
prism_interactions_timestamp = _fn("prism_interactions_timestamp", c_double, c_void_p, c_size_t)
prism_interactions_free = _fn("prism_interactions_free", None, c_void_p)
prism_interactions_count = _fn("prism_interactions_count", c_size_t, c_void_p)
prism_interactions_num_users = _fn("prism_interactions_num_users", c_int32, c_void_p)
prism_interactions_num_items = _fn("prism_interactions_num_items", c_int32, c_void_p)
prism_interactions_get = _fn("prism_interactions_get", c_int, P_i32, P_i32, P_f32, c_void_p,
                             c_size_t)
prism_interactions_user_id = _fn("prism_interactions_user_id", c_char_p, c_void_p, c_int32)
prism_interactions_item_id = _fn("prism_interactions_item_id", c_char_p, c_void_p, c_int32)
prism_interactions_find_user = _fn("prism_interactions_find_user", c_int, P_i32, c_void_p,
                                   c_char_p)
prism_interactions_find_item = _fn("prism_interactions_find_item", c_int, P_i32, c_void_p,
                                   c_char_p)
prism_ranker_params_init = _fn("prism_ranker_params_init", c_int, P_rp, c_size_t)
prism_ranker_train = _fn("prism_ranker_train", c_int, POINTER(c_void_p), c_void_p, P_rp)
prism_ranker_train_csr = _fn("prism_ranker_train_csr", c_int, POINTER(c_void_p), c_int32, c_int32,
                             P_i64, P_i32, P_f32, P_rp)
prism_ranker_train_coo = _fn("prism_ranker_train_coo", c_int, POINTER(c_void_p), c_int32, c_int32,
                             c_size_t, P_i32, P_i32, P_f32, P_rp)
prism_ranker_free = _fn("prism_ranker_free", None, c_void_p)
prism_ranker_algorithm_of = _fn("prism_ranker_algorithm_of", c_int, c_void_p)
prism_ranker_num_users = _fn("prism_ranker_num_users", c_int32, c_void_p)
prism_ranker_num_items = _fn("prism_ranker_num_items", c_int32, c_void_p)
prism_ranker_num_factors = _fn("prism_ranker_num_factors", c_int, c_void_p)
prism_ranker_user_id = _fn("prism_ranker_user_id", c_char_p, c_void_p, c_int32)
prism_ranker_item_id = _fn("prism_ranker_item_id", c_char_p, c_void_p, c_int32)
prism_ranker_find_user = _fn("prism_ranker_find_user", c_int, P_i32, c_void_p, c_char_p)
prism_ranker_find_item = _fn("prism_ranker_find_item", c_int, P_i32, c_void_p, c_char_p)
prism_ranker_user_factors = _fn("prism_ranker_user_factors", P_f32, c_void_p)
prism_ranker_item_factors = _fn("prism_ranker_item_factors", P_f32, c_void_p)
prism_ranker_filter_init = _fn("prism_ranker_filter_init", c_int, P_rf, c_size_t)
prism_ranker_recommend = _fn("prism_ranker_recommend", c_int, P_i32, P_f32, P_size, c_void_p,
                             c_int32, c_int, P_rf)
prism_ranker_recommend_batch = _fn("prism_ranker_recommend_batch", c_int, P_i32, P_f32, P_size,
                                   c_void_p, P_i32, c_size_t, c_int, P_rf)
prism_ranker_recommend_history = _fn("prism_ranker_recommend_history", c_int, P_i32, P_f32, P_size,
                                     c_void_p, P_i32, P_f32, c_size_t, c_int, P_rf)
prism_ranker_fold_in = _fn("prism_ranker_fold_in", c_int, P_f32, P_f32, c_void_p, P_i32, P_f32,
                           c_size_t)
prism_ranker_similar_items = _fn("prism_ranker_similar_items", c_int, P_i32, P_f32, P_size,
                                 c_void_p, c_int32, c_int)
prism_ranker_explain = _fn("prism_ranker_explain", c_int, P_i32, P_f32, P_size, c_void_p, c_int32,
                           c_int32, c_int)
prism_ranker_predict = _fn("prism_ranker_predict", c_int, P_f32, c_void_p, c_int32, c_int32)
prism_ranker_save = _fn("prism_ranker_save", c_int, c_void_p, c_char_p)
prism_ranker_load = _fn("prism_ranker_load", c_int, POINTER(c_void_p), c_char_p)
prism_ranker_metrics_list = _fn("prism_ranker_metrics_list", c_int, P_rm, P_i32, c_size_t, P_i32,
                                c_size_t, c_int)
prism_ranker_evaluate = _fn("prism_ranker_evaluate", c_int, P_rm, P_size, c_void_p, c_void_p, c_int,
                            P_rf)
prism_ranker_evaluate_ratings = _fn("prism_ranker_evaluate_ratings", c_int, POINTER(c_double),
                                    POINTER(c_double), P_size, c_void_p, c_void_p)


# metrics.h
PRISM_METRICS_TOKENIZE_WHITESPACE, PRISM_METRICS_TOKENIZE_PEPLER = 0, 1


class prism_metrics_params(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t), ("tokenize", c_int), ("lowercase", c_int),
                ("feature_set", POINTER(c_char_p)), ("feature_set_count", c_size_t)]


class prism_metrics_result(ctypes.Structure):
    _fields_ = ([("struct_size", c_size_t), ("count", c_uint64)]
                + [(n, c_double) for n in (
                    "bleu1", "bleu4", "rouge_1_f_score", "rouge_1_p_score", "rouge_1_r_score",
                    "rouge_2_f_score", "rouge_2_p_score", "rouge_2_r_score", "rouge_l_f_score",
                    "rouge_l_p_score", "rouge_l_r_score", "usr")]
                + [("usn", c_uint64), ("fmr", c_double), ("fcr", c_double), ("div", c_double),
                   ("feature_samples", c_uint64)])


class prism_faithfulness_sample(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t), ("titles_named", c_size_t),
                ("titles_grounded", c_size_t), ("names_item", c_int), ("hallucinated", c_int)]


class prism_faithfulness_result(ctypes.Structure):
    _fields_ = ([("struct_size", c_size_t)]
                + [(n, c_uint64) for n in ("count", "titles_named", "titles_grounded",
                                           "items_named", "hallucinated")]
                + [(n, c_double) for n in ("titles_per_explanation", "grounded_share",
                                           "item_named_rate", "hallucination_rate")])


P_strs = POINTER(c_char_p)
prism_metrics_params_init = _fn("prism_metrics_params_init", c_int, POINTER(prism_metrics_params),
                                c_size_t)
prism_metrics_create = _fn("prism_metrics_create", c_int, POINTER(c_void_p),
                           POINTER(prism_metrics_params))
prism_metrics_add = _fn("prism_metrics_add", c_int, c_void_p, c_char_p, c_char_p, c_char_p)
prism_metrics_finish = _fn("prism_metrics_finish", c_int, POINTER(prism_metrics_result), c_void_p)
prism_metrics_free = _fn("prism_metrics_free", None, c_void_p)
prism_metrics_evaluate = _fn("prism_metrics_evaluate", c_int, POINTER(prism_metrics_result),
                             P_strs, P_strs, P_strs, c_size_t, POINTER(prism_metrics_params))
prism_faithfulness_create = _fn("prism_faithfulness_create", c_int, POINTER(c_void_p), P_strs,
                                c_size_t)
prism_faithfulness_load_catalog = _fn("prism_faithfulness_load_catalog", c_int, POINTER(c_void_p),
                                      c_char_p)
prism_faithfulness_free = _fn("prism_faithfulness_free", None, c_void_p)
prism_faithfulness_title_count = _fn("prism_faithfulness_title_count", c_size_t, c_void_p)
prism_faithfulness_title = _fn("prism_faithfulness_title", c_char_p, c_void_p, c_size_t)
prism_faithfulness_add = _fn("prism_faithfulness_add", c_int, POINTER(prism_faithfulness_sample),
                             P_size, c_size_t, c_void_p, c_char_p, c_char_p, P_strs, c_size_t)
prism_faithfulness_finish = _fn("prism_faithfulness_finish", c_int,
                                POINTER(prism_faithfulness_result), c_void_p)


# explain.h
class prism_prompt_item(ctypes.Structure):
    _fields_ = [("title", c_char_p), ("features", c_char_p)]


class prism_prompt_format(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t), ("template_text", c_char_p),
                ("entry_template", c_char_p), ("separator", c_char_p), ("empty_list", c_char_p),
                ("empty_value", c_char_p), ("max_history", c_uint32), ("max_evidence", c_uint32),
                ("max_value_bytes", c_uint32)]


class prism_explainer_params(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t), ("max_source_tokens", c_uint32),
                ("max_batch", c_uint32), ("decode_flags", c_uint32)]


P_item = POINTER(prism_prompt_item)
prism_prompt_format_init = _fn("prism_prompt_format_init", c_int, POINTER(prism_prompt_format),
                               c_size_t)
prism_prompt_render = _fn("prism_prompt_render", c_int, c_void_p, c_size_t, P_size,
                          POINTER(prism_prompt_format), P_item, c_size_t, P_item, P_item,
                          c_size_t)
prism_explainer_params_init = _fn("prism_explainer_params_init", c_int,
                                  POINTER(prism_explainer_params), c_size_t)
prism_explainer_create = _fn("prism_explainer_create", c_int, POINTER(c_void_p), c_void_p,
                             c_void_p, POINTER(prism_explainer_params))
prism_explainer_load = _fn("prism_explainer_load", c_int, POINTER(c_void_p), c_char_p,
                           POINTER(prism_explainer_params))
prism_explainer_free = _fn("prism_explainer_free", None, c_void_p)
prism_explainer_tokenizer = _fn("prism_explainer_tokenizer", c_void_p, c_void_p)
prism_explainer_model = _fn("prism_explainer_model", c_void_p, c_void_p)
prism_explainer_run = _fn("prism_explainer_run", c_int, POINTER(c_void_p), c_void_p,
                          POINTER(c_char_p), c_size_t, POINTER(prism_generate_params),
                          prism_generate_stream_fn, c_void_p)
prism_text_batch_count = _fn("prism_text_batch_count", c_size_t, c_void_p)
prism_text_batch_get = _fn("prism_text_batch_get", c_void_p, c_void_p, c_size_t, P_size)
prism_text_batch_free = _fn("prism_text_batch_free", None, c_void_p)

# pipeline.h
class prism_catalog_params(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t), ("feature_columns", c_char_p),
                ("feature_separator", c_char_p)]


class prism_pipeline_params(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t), ("k", c_int32), ("evidence", c_int32),
                ("filter", POINTER(prism_ranker_filter)),
                ("generate", POINTER(prism_generate_params))]


class prism_pipeline_user(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t), ("user", c_char_p), ("status", c_int),
                ("error", c_char_p), ("item_count", c_size_t), ("history_count", c_size_t),
                ("missing_count", c_size_t)]


class prism_pipeline_item(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t), ("item", c_char_p), ("title", c_char_p),
                ("features", c_char_p), ("score", c_float), ("evidence_count", c_size_t),
                ("prompt", c_char_p), ("explanation", c_char_p)]


class prism_pipeline_entry(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t), ("item", c_char_p), ("title", c_char_p),
                ("features", c_char_p), ("weight", c_float)]


prism_catalog_params_init = _fn("prism_catalog_params_init", c_int, POINTER(prism_catalog_params),
                                c_size_t)
prism_catalog_create = _fn("prism_catalog_create", c_int, POINTER(c_void_p))
prism_catalog_load_tsv = _fn("prism_catalog_load_tsv", c_int, POINTER(c_void_p), c_char_p,
                             POINTER(prism_catalog_params))
prism_catalog_add = _fn("prism_catalog_add", c_int, c_void_p, c_char_p, c_char_p, c_char_p)
prism_catalog_free = _fn("prism_catalog_free", None, c_void_p)
prism_catalog_count = _fn("prism_catalog_count", c_size_t, c_void_p)
prism_catalog_find = _fn("prism_catalog_find", c_int, P_item, c_void_p, c_char_p)
prism_catalog_get = _fn("prism_catalog_get", c_int, POINTER(c_char_p), P_item, c_void_p,
                        c_size_t)
prism_pipeline_create = _fn("prism_pipeline_create", c_int, POINTER(c_void_p), c_void_p,
                            c_void_p, c_void_p, c_void_p, POINTER(prism_prompt_format))
prism_pipeline_free = _fn("prism_pipeline_free", None, c_void_p)
prism_pipeline_params_init = _fn("prism_pipeline_params_init", c_int,
                                 POINTER(prism_pipeline_params), c_size_t)
prism_pipeline_run = _fn("prism_pipeline_run", c_int, POINTER(c_void_p), c_void_p,
                         POINTER(c_char_p), c_size_t, POINTER(prism_pipeline_params))
prism_pipeline_result_count = _fn("prism_pipeline_result_count", c_size_t, c_void_p)
prism_pipeline_result_user = _fn("prism_pipeline_result_user", c_int,
                                 POINTER(prism_pipeline_user), c_void_p, c_size_t)
prism_pipeline_result_item = _fn("prism_pipeline_result_item", c_int,
                                 POINTER(prism_pipeline_item), c_void_p, c_size_t, c_size_t)
prism_pipeline_result_evidence = _fn("prism_pipeline_result_evidence", c_int,
                                     POINTER(prism_pipeline_entry), c_void_p, c_size_t, c_size_t,
                                     c_size_t)
prism_pipeline_result_history = _fn("prism_pipeline_result_history", c_int,
                                    POINTER(prism_pipeline_entry), c_void_p, c_size_t, c_size_t)
prism_pipeline_result_missing = _fn("prism_pipeline_result_missing", c_char_p, c_void_p, c_size_t,
                                    c_size_t)
prism_pipeline_result_free = _fn("prism_pipeline_result_free", None, c_void_p)


# train.h
PRISM_PAIRS_PAIRS, PRISM_PAIRS_BATCHES = 0, 1
PRISM_TRAIN_LINEAR, PRISM_TRAIN_COSINE, PRISM_TRAIN_CONSTANT = 0, 1, 2


class prism_pairs_params(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t), ("format", c_int32), ("max_source_len", c_uint32),
                ("max_target_len", c_uint32), ("truncate", c_int32)]


class prism_train_params(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t)] + [(n, c_double) for n in (
        "learning_rate", "weight_decay", "adam_beta1", "adam_beta2", "adam_epsilon",
        "max_grad_norm", "label_smoothing", "dropout", "attention_dropout",
        "activation_dropout")] + [("schedule", c_int32)] + [(n, c_uint32) for n in (
            "warmup_steps", "batch_size", "grad_accum", "epochs", "max_steps", "eval_every",
            "eval_batch_size", "patience", "save_every")] + [
        ("group_by_length", c_int32), ("seed", c_uint64), ("output_dir", c_char_p),
        ("tokenizer_dir", c_char_p), ("eval_generate", c_uint32), ("best_metric", c_char_p)]


class prism_train_progress(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t), ("step", c_uint64), ("total_steps", c_uint64),
                ("epoch", c_double), ("loss", c_double), ("learning_rate", c_double),
                ("grad_norm", c_double), ("tokens_per_second", c_double), ("evaluated", c_int32),
                ("best", c_int32), ("eval_loss", c_double), ("eval_accuracy", c_double),
                ("checkpoint", c_char_p), ("eval_generated", c_uint64),
                ("eval_exact_match", c_double), ("eval_text", POINTER(prism_metrics_result)),
                ("eval_metric", c_double)]


class prism_train_state(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t), ("step", c_uint64), ("total_steps", c_uint64),
                ("epoch", c_double), ("best_eval_loss", c_double), ("best_step", c_uint64),
                ("stopped_early", c_int32), ("best_metric", c_double)]


prism_train_progress_fn = CFUNCTYPE(c_int, POINTER(prism_train_progress), c_void_p)
P_pp = POINTER(prism_pairs_params)
P_tp = POINTER(prism_train_params)
prism_pairs_params_init = _fn("prism_pairs_params_init", c_int, P_pp, c_size_t)
prism_pairs_create = _fn("prism_pairs_create", c_int, POINTER(c_void_p), P_pp)
prism_pairs_free = _fn("prism_pairs_free", None, c_void_p)
prism_pairs_add = _fn("prism_pairs_add", c_int, c_void_p, P_i32, c_size_t, P_i32, c_size_t)
prism_pairs_add_text = _fn("prism_pairs_add_text", c_int, c_void_p, c_void_p, c_char_p, c_size_t,
                           c_char_p, c_size_t)
prism_pairs_add_batch = _fn("prism_pairs_add_batch", c_int, c_void_p, P_i32, P_i32, c_size_t,
                            c_size_t, P_i32, c_size_t)
prism_pairs_load = _fn("prism_pairs_load", c_int, POINTER(c_void_p), c_char_p, c_void_p, P_pp)
prism_pairs_parse = _fn("prism_pairs_parse", c_int, POINTER(c_void_p), c_char_p, c_size_t,
                        c_char_p, c_void_p, P_pp)
prism_pairs_count = _fn("prism_pairs_count", c_size_t, c_void_p)
prism_pairs_truncated = _fn("prism_pairs_truncated", c_size_t, c_void_p)
prism_train_params_init = _fn("prism_train_params_init", c_int, P_tp, c_size_t)
prism_trainer_create = _fn("prism_trainer_create", c_int, POINTER(c_void_p), c_void_p, P_tp)
prism_trainer_create_from_config = _fn("prism_trainer_create_from_config", c_int,
                                       POINTER(c_void_p), c_char_p, c_size_t, c_char_p, c_size_t,
                                       P_tp)
prism_trainer_resume = _fn("prism_trainer_resume", c_int, POINTER(c_void_p), c_char_p, P_tp)
prism_trainer_free = _fn("prism_trainer_free", None, c_void_p)
prism_trainer_train = _fn("prism_trainer_train", c_int, c_void_p, c_void_p, c_void_p,
                          prism_train_progress_fn, c_void_p)
prism_trainer_evaluate = _fn("prism_trainer_evaluate", c_int, POINTER(c_double), POINTER(c_double),
                             c_void_p, c_void_p)
prism_trainer_save = _fn("prism_trainer_save", c_int, c_void_p, c_char_p)
prism_trainer_model = _fn("prism_trainer_model", c_void_p, c_void_p)
prism_trainer_get_state = _fn("prism_trainer_get_state", c_int, c_void_p,
                              POINTER(prism_train_state))


# teacher.h
PRISM_TEACHER_KEPT, PRISM_TEACHER_FAILED, PRISM_TEACHER_EMPTY = 0, 1, 2
PRISM_TEACHER_UNKNOWN_ID, PRISM_TEACHER_DUPLICATE, PRISM_TEACHER_HALLUCINATED = 3, 4, 5


class prism_teacher_params(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t), ("teacher_format", POINTER(prism_prompt_format)),
                ("student_format", POINTER(prism_prompt_format))]


class prism_teacher_request(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t), ("id", c_char_p), ("prompt", c_char_p),
                ("source", c_char_p), ("user", c_char_p), ("item_id", c_char_p),
                ("item", prism_prompt_item), ("history_count", c_size_t),
                ("evidence_count", c_size_t)]


class prism_teacher_import_params(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t), ("answer_key", c_char_p),
                ("drop_hallucinated", c_int32), ("titles", POINTER(c_char_p)),
                ("n_titles", c_size_t)]


class prism_teacher_import_stats(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t)] + [(n, c_uint64) for n in (
        "requests", "answers", "pairs", "unanswered", "dropped", "failed", "empty", "unknown_id",
        "duplicate", "hallucinated")]


class prism_teacher_pair(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t), ("id", c_char_p), ("source", c_char_p),
                ("target", c_char_p), ("hallucinated", c_int)]


class prism_teacher_drop(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t), ("id", c_char_p), ("verdict", c_int),
                ("line", c_size_t), ("text", c_char_p)]


P_fmt = POINTER(prism_prompt_format)
prism_teacher_format_init = _fn("prism_teacher_format_init", c_int, P_fmt, c_size_t)
prism_teacher_params_init = _fn("prism_teacher_params_init", c_int,
                                POINTER(prism_teacher_params), c_size_t)
prism_teacher_requests_create = _fn("prism_teacher_requests_create", c_int, POINTER(c_void_p),
                                    POINTER(prism_teacher_params))
prism_teacher_requests_free = _fn("prism_teacher_requests_free", None, c_void_p)
prism_teacher_requests_add = _fn("prism_teacher_requests_add", c_int, c_void_p, c_char_p, P_item,
                                 c_size_t, P_item, P_item, c_size_t)
prism_teacher_requests_add_result = _fn("prism_teacher_requests_add_result", c_int, c_void_p,
                                        c_void_p)
prism_teacher_requests_load = _fn("prism_teacher_requests_load", c_int, c_void_p, c_char_p)
prism_teacher_requests_parse = _fn("prism_teacher_requests_parse", c_int, c_void_p, c_char_p,
                                   c_size_t, c_char_p)
prism_teacher_requests_sample = _fn("prism_teacher_requests_sample", c_int, c_void_p, c_size_t,
                                    c_uint64)
prism_teacher_requests_count = _fn("prism_teacher_requests_count", c_size_t, c_void_p)
prism_teacher_requests_get = _fn("prism_teacher_requests_get", c_int,
                                 POINTER(prism_teacher_request), c_void_p, c_size_t)
prism_teacher_requests_history = _fn("prism_teacher_requests_history", c_int, P_item, c_void_p,
                                     c_size_t, c_size_t)
prism_teacher_requests_evidence = _fn("prism_teacher_requests_evidence", c_int, P_item, c_void_p,
                                      c_size_t, c_size_t)
prism_teacher_requests_line = _fn("prism_teacher_requests_line", c_int, c_void_p, c_size_t, P_size,
                                  c_void_p, c_size_t)
prism_teacher_import_params_init = _fn("prism_teacher_import_params_init", c_int,
                                       POINTER(prism_teacher_import_params), c_size_t)
prism_teacher_import_create = _fn("prism_teacher_import_create", c_int, POINTER(c_void_p),
                                  c_void_p, POINTER(prism_teacher_import_params))
prism_teacher_import_free = _fn("prism_teacher_import_free", None, c_void_p)
prism_teacher_import_add = _fn("prism_teacher_import_add", c_int, POINTER(c_int), c_void_p,
                               c_char_p, c_char_p)
prism_teacher_import_load = _fn("prism_teacher_import_load", c_int, c_void_p, c_char_p)
prism_teacher_import_parse = _fn("prism_teacher_import_parse", c_int, c_void_p, c_char_p,
                                 c_size_t, c_char_p)
prism_teacher_import_get_stats = _fn("prism_teacher_import_get_stats", c_int,
                                     POINTER(prism_teacher_import_stats), c_void_p)
prism_teacher_import_count = _fn("prism_teacher_import_count", c_size_t, c_void_p)
prism_teacher_import_pair = _fn("prism_teacher_import_pair", c_int, POINTER(prism_teacher_pair),
                                c_void_p, c_size_t)
prism_teacher_import_pair_line = _fn("prism_teacher_import_pair_line", c_int, c_void_p, c_size_t,
                                     P_size, c_void_p, c_size_t)
prism_teacher_import_drop_count = _fn("prism_teacher_import_drop_count", c_size_t, c_void_p)
prism_teacher_import_drop = _fn("prism_teacher_import_drop", c_int, POINTER(prism_teacher_drop),
                                c_void_p, c_size_t)
prism_teacher_verdict_name = _fn("prism_teacher_verdict_name", c_char_p, c_int)

__all__ = [n for n in dir() if n.startswith("prism_")]

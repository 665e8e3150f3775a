"""The C API, one prototype per exported function (argtypes and restype always set).

Handles are c_void_p: ctypes' default int return type would truncate pointers.
"""
import ctypes
from ctypes import (CFUNCTYPE, POINTER, c_char_p, c_double, c_float, c_int, c_int32,
                    c_int64, c_size_t, c_uint32, c_uint64, c_void_p)

from . import _lib

lib = _lib.load()


def _fn(name, restype, *argtypes):
    f = getattr(lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)
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


# bart.h
class prism_bart_load_params(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t), ("max_file_size", c_uint64), ("flags", c_uint32)]


class prism_bart_info(ctypes.Structure):
    _fields_ = [("struct_size", c_size_t)] + [(n, c_int32) for n in (
        "vocab_size", "d_model", "encoder_layers", "decoder_layers", "encoder_attention_heads",
        "decoder_attention_heads", "encoder_ffn_dim", "decoder_ffn_dim", "max_position_embeddings",
        "scale_embedding", "pad_token_id", "bos_token_id", "eos_token_id", "decoder_start_token_id",
        "forced_bos_token_id", "forced_eos_token_id")] + [("activation_function", c_char_p)]


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
prism_bart_get_info = _fn("prism_bart_get_info", c_int, c_void_p, POINTER(prism_bart_info))
prism_bart_session_params_init = _fn("prism_bart_session_params_init", c_int,
                                     POINTER(prism_bart_session_params), c_size_t)
prism_bart_session_create = _fn("prism_bart_session_create", c_int, POINTER(c_void_p), c_void_p,
                                POINTER(prism_bart_session_params))
prism_bart_session_free = _fn("prism_bart_session_free", None, c_void_p)
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
        "forced_eos_token_id", "do_sample", "top_k")] + [(n, c_double) for n in (
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
prism_generate_run = _fn("prism_generate_run", c_int, POINTER(c_void_p), c_void_p, P_i32, P_i32,
                         c_size_t, c_size_t, POINTER(prism_generate_params),
                         prism_generate_stream_fn, c_void_p)
prism_generate_result_free = _fn("prism_generate_result_free", None, c_void_p)
prism_generate_result_count = _fn("prism_generate_result_count", c_size_t, c_void_p)
prism_generate_result_width = _fn("prism_generate_result_width", c_size_t, c_void_p)
prism_generate_result_sequences = _fn("prism_generate_result_sequences", P_i32, c_void_p)
prism_generate_result_lengths = _fn("prism_generate_result_lengths", P_i32, c_void_p)
prism_generate_result_scores = _fn("prism_generate_result_scores", P_f32, c_void_p)
prism_generate_result_stats = _fn("prism_generate_result_stats", c_int, c_void_p,
                                  POINTER(prism_generate_stats))

__all__ = [n for n in dir() if n.startswith("prism_")]

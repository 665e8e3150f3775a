/*
 * Every released layout of the public structs, frozen (LP64). Generated once
 * per release by tests/abi/freeze_layouts.py, which appends blocks for new
 * structs and never rewrites old ones: a failing assert here means a released
 * struct changed, which breaks every program built against it.
 */
#include <stddef.h>
#include <stdint.h>

#include <prism/prism.h>

#if UINTPTR_MAX == 0xffffffffffffffffu && SIZE_MAX == UINTPTR_MAX
/* clang-format off */

/* ---- prism_bart_load_params ---- */
_Static_assert(sizeof(prism_bart_load_params) == 24, "prism_bart_load_params size");
_Static_assert(offsetof(prism_bart_load_params, struct_size) == 0, "prism_bart_load_params.struct_size");
_Static_assert(offsetof(prism_bart_load_params, max_file_size) == 8, "prism_bart_load_params.max_file_size");
_Static_assert(offsetof(prism_bart_load_params, flags) == 16, "prism_bart_load_params.flags");

/* ---- prism_bart_info ---- */
_Static_assert(sizeof(prism_bart_info) == 72, "prism_bart_info size");
_Static_assert(offsetof(prism_bart_info, struct_size) == 0, "prism_bart_info.struct_size");
_Static_assert(offsetof(prism_bart_info, vocab_size) == 8, "prism_bart_info.vocab_size");
_Static_assert(offsetof(prism_bart_info, d_model) == 12, "prism_bart_info.d_model");
_Static_assert(offsetof(prism_bart_info, encoder_layers) == 16, "prism_bart_info.encoder_layers");
_Static_assert(offsetof(prism_bart_info, decoder_layers) == 20, "prism_bart_info.decoder_layers");
_Static_assert(offsetof(prism_bart_info, encoder_attention_heads) == 24, "prism_bart_info.encoder_attention_heads");
_Static_assert(offsetof(prism_bart_info, decoder_attention_heads) == 28, "prism_bart_info.decoder_attention_heads");
_Static_assert(offsetof(prism_bart_info, encoder_ffn_dim) == 32, "prism_bart_info.encoder_ffn_dim");
_Static_assert(offsetof(prism_bart_info, decoder_ffn_dim) == 36, "prism_bart_info.decoder_ffn_dim");
_Static_assert(offsetof(prism_bart_info, max_position_embeddings) == 40, "prism_bart_info.max_position_embeddings");
_Static_assert(offsetof(prism_bart_info, scale_embedding) == 44, "prism_bart_info.scale_embedding");
_Static_assert(offsetof(prism_bart_info, pad_token_id) == 48, "prism_bart_info.pad_token_id");
_Static_assert(offsetof(prism_bart_info, bos_token_id) == 52, "prism_bart_info.bos_token_id");
_Static_assert(offsetof(prism_bart_info, eos_token_id) == 56, "prism_bart_info.eos_token_id");
_Static_assert(offsetof(prism_bart_info, decoder_start_token_id) == 60, "prism_bart_info.decoder_start_token_id");
_Static_assert(offsetof(prism_bart_info, activation_function) == 64, "prism_bart_info.activation_function");

/* ---- prism_bart_session_params ---- */
_Static_assert(sizeof(prism_bart_session_params) == 24, "prism_bart_session_params size");
_Static_assert(offsetof(prism_bart_session_params, struct_size) == 0, "prism_bart_session_params.struct_size");
_Static_assert(offsetof(prism_bart_session_params, max_batch) == 8, "prism_bart_session_params.max_batch");
_Static_assert(offsetof(prism_bart_session_params, max_rows) == 12, "prism_bart_session_params.max_rows");
_Static_assert(offsetof(prism_bart_session_params, max_source_len) == 16, "prism_bart_session_params.max_source_len");
_Static_assert(offsetof(prism_bart_session_params, max_target_len) == 20, "prism_bart_session_params.max_target_len");

/* ---- prism_limits ---- */
_Static_assert(sizeof(prism_limits) == 56, "prism_limits size");
_Static_assert(offsetof(prism_limits, struct_size) == 0, "prism_limits.struct_size");
_Static_assert(offsetof(prism_limits, max_file_bytes) == 8, "prism_limits.max_file_bytes");
_Static_assert(offsetof(prism_limits, max_text_bytes) == 16, "prism_limits.max_text_bytes");
_Static_assert(offsetof(prism_limits, max_batch) == 24, "prism_limits.max_batch");
_Static_assert(offsetof(prism_limits, max_new_tokens) == 28, "prism_limits.max_new_tokens");
_Static_assert(offsetof(prism_limits, max_beams) == 32, "prism_limits.max_beams");
_Static_assert(offsetof(prism_limits, max_return_sequences) == 36, "prism_limits.max_return_sequences");
_Static_assert(offsetof(prism_limits, max_decoder_rows) == 40, "prism_limits.max_decoder_rows");
_Static_assert(offsetof(prism_limits, max_decoder_tokens) == 48, "prism_limits.max_decoder_tokens");

/* ---- prism_prompt_item ---- */
_Static_assert(sizeof(prism_prompt_item) == 16, "prism_prompt_item size");
_Static_assert(offsetof(prism_prompt_item, title) == 0, "prism_prompt_item.title");
_Static_assert(offsetof(prism_prompt_item, features) == 8, "prism_prompt_item.features");

/* ---- prism_prompt_format ---- */
_Static_assert(sizeof(prism_prompt_format) == 64, "prism_prompt_format size");
_Static_assert(offsetof(prism_prompt_format, struct_size) == 0, "prism_prompt_format.struct_size");
_Static_assert(offsetof(prism_prompt_format, template_text) == 8, "prism_prompt_format.template_text");
_Static_assert(offsetof(prism_prompt_format, entry_template) == 16, "prism_prompt_format.entry_template");
_Static_assert(offsetof(prism_prompt_format, separator) == 24, "prism_prompt_format.separator");
_Static_assert(offsetof(prism_prompt_format, empty_list) == 32, "prism_prompt_format.empty_list");
_Static_assert(offsetof(prism_prompt_format, empty_value) == 40, "prism_prompt_format.empty_value");
_Static_assert(offsetof(prism_prompt_format, max_history) == 48, "prism_prompt_format.max_history");
_Static_assert(offsetof(prism_prompt_format, max_evidence) == 52, "prism_prompt_format.max_evidence");
_Static_assert(offsetof(prism_prompt_format, max_value_bytes) == 56, "prism_prompt_format.max_value_bytes");

/* ---- prism_explainer_params ---- */
_Static_assert(sizeof(prism_explainer_params) == 24, "prism_explainer_params size");
_Static_assert(offsetof(prism_explainer_params, struct_size) == 0, "prism_explainer_params.struct_size");
_Static_assert(offsetof(prism_explainer_params, max_source_tokens) == 8, "prism_explainer_params.max_source_tokens");
_Static_assert(offsetof(prism_explainer_params, max_batch) == 12, "prism_explainer_params.max_batch");
_Static_assert(offsetof(prism_explainer_params, decode_flags) == 16, "prism_explainer_params.decode_flags");

/* ---- prism_generate_params ---- */
_Static_assert(sizeof(prism_generate_params) == 112, "prism_generate_params size");
_Static_assert(offsetof(prism_generate_params, struct_size) == 0, "prism_generate_params.struct_size");
_Static_assert(offsetof(prism_generate_params, max_length) == 8, "prism_generate_params.max_length");
_Static_assert(offsetof(prism_generate_params, max_new_tokens) == 12, "prism_generate_params.max_new_tokens");
_Static_assert(offsetof(prism_generate_params, min_length) == 16, "prism_generate_params.min_length");
_Static_assert(offsetof(prism_generate_params, min_new_tokens) == 20, "prism_generate_params.min_new_tokens");
_Static_assert(offsetof(prism_generate_params, num_beams) == 24, "prism_generate_params.num_beams");
_Static_assert(offsetof(prism_generate_params, num_return_sequences) == 28, "prism_generate_params.num_return_sequences");
_Static_assert(offsetof(prism_generate_params, early_stopping) == 32, "prism_generate_params.early_stopping");
_Static_assert(offsetof(prism_generate_params, no_repeat_ngram_size) == 36, "prism_generate_params.no_repeat_ngram_size");
_Static_assert(offsetof(prism_generate_params, forced_bos_token_id) == 40, "prism_generate_params.forced_bos_token_id");
_Static_assert(offsetof(prism_generate_params, forced_eos_token_id) == 44, "prism_generate_params.forced_eos_token_id");
_Static_assert(offsetof(prism_generate_params, do_sample) == 48, "prism_generate_params.do_sample");
_Static_assert(offsetof(prism_generate_params, top_k) == 52, "prism_generate_params.top_k");
_Static_assert(offsetof(prism_generate_params, pad_token_id) == 56, "prism_generate_params.pad_token_id");
_Static_assert(offsetof(prism_generate_params, bos_token_id) == 60, "prism_generate_params.bos_token_id");
_Static_assert(offsetof(prism_generate_params, eos_token_id) == 64, "prism_generate_params.eos_token_id");
_Static_assert(offsetof(prism_generate_params, decoder_start_token_id) == 68, "prism_generate_params.decoder_start_token_id");
_Static_assert(offsetof(prism_generate_params, length_penalty) == 72, "prism_generate_params.length_penalty");
_Static_assert(offsetof(prism_generate_params, repetition_penalty) == 80, "prism_generate_params.repetition_penalty");
_Static_assert(offsetof(prism_generate_params, temperature) == 88, "prism_generate_params.temperature");
_Static_assert(offsetof(prism_generate_params, top_p) == 96, "prism_generate_params.top_p");
_Static_assert(offsetof(prism_generate_params, seed) == 104, "prism_generate_params.seed");

/* ---- prism_generate_event ---- */
_Static_assert(sizeof(prism_generate_event) == 64, "prism_generate_event size");
_Static_assert(offsetof(prism_generate_event, struct_size) == 0, "prism_generate_event.struct_size");
_Static_assert(offsetof(prism_generate_event, step) == 8, "prism_generate_event.step");
_Static_assert(offsetof(prism_generate_event, num_rows) == 16, "prism_generate_event.num_rows");
_Static_assert(offsetof(prism_generate_event, stride) == 24, "prism_generate_event.stride");
_Static_assert(offsetof(prism_generate_event, tokens) == 32, "prism_generate_event.tokens");
_Static_assert(offsetof(prism_generate_event, sequences) == 40, "prism_generate_event.sequences");
_Static_assert(offsetof(prism_generate_event, lengths) == 48, "prism_generate_event.lengths");
_Static_assert(offsetof(prism_generate_event, finished) == 56, "prism_generate_event.finished");

/* ---- prism_generate_stats ---- */
_Static_assert(sizeof(prism_generate_stats) == 32, "prism_generate_stats size");
_Static_assert(offsetof(prism_generate_stats, struct_size) == 0, "prism_generate_stats.struct_size");
_Static_assert(offsetof(prism_generate_stats, encode_ms) == 8, "prism_generate_stats.encode_ms");
_Static_assert(offsetof(prism_generate_stats, decode_ms) == 16, "prism_generate_stats.decode_ms");
_Static_assert(offsetof(prism_generate_stats, steps) == 24, "prism_generate_stats.steps");
_Static_assert(offsetof(prism_generate_stats, rows) == 28, "prism_generate_stats.rows");

/* ---- prism_metrics_params ---- */
_Static_assert(sizeof(prism_metrics_params) == 32, "prism_metrics_params size");
_Static_assert(offsetof(prism_metrics_params, struct_size) == 0, "prism_metrics_params.struct_size");
_Static_assert(offsetof(prism_metrics_params, tokenize) == 8, "prism_metrics_params.tokenize");
_Static_assert(offsetof(prism_metrics_params, lowercase) == 12, "prism_metrics_params.lowercase");
_Static_assert(offsetof(prism_metrics_params, feature_set) == 16, "prism_metrics_params.feature_set");
_Static_assert(offsetof(prism_metrics_params, feature_set_count) == 24, "prism_metrics_params.feature_set_count");

/* ---- prism_metrics_result ---- */
_Static_assert(sizeof(prism_metrics_result) == 152, "prism_metrics_result size");
_Static_assert(offsetof(prism_metrics_result, struct_size) == 0, "prism_metrics_result.struct_size");
_Static_assert(offsetof(prism_metrics_result, count) == 8, "prism_metrics_result.count");
_Static_assert(offsetof(prism_metrics_result, bleu1) == 16, "prism_metrics_result.bleu1");
_Static_assert(offsetof(prism_metrics_result, bleu4) == 24, "prism_metrics_result.bleu4");
_Static_assert(offsetof(prism_metrics_result, usr) == 104, "prism_metrics_result.usr");
_Static_assert(offsetof(prism_metrics_result, usn) == 112, "prism_metrics_result.usn");
_Static_assert(offsetof(prism_metrics_result, fmr) == 120, "prism_metrics_result.fmr");
_Static_assert(offsetof(prism_metrics_result, fcr) == 128, "prism_metrics_result.fcr");
_Static_assert(offsetof(prism_metrics_result, div) == 136, "prism_metrics_result.div");
_Static_assert(offsetof(prism_metrics_result, feature_samples) == 144, "prism_metrics_result.feature_samples");

/* ---- prism_faithfulness_sample ---- */
_Static_assert(sizeof(prism_faithfulness_sample) == 32, "prism_faithfulness_sample size");
_Static_assert(offsetof(prism_faithfulness_sample, struct_size) == 0, "prism_faithfulness_sample.struct_size");
_Static_assert(offsetof(prism_faithfulness_sample, titles_named) == 8, "prism_faithfulness_sample.titles_named");
_Static_assert(offsetof(prism_faithfulness_sample, titles_grounded) == 16, "prism_faithfulness_sample.titles_grounded");
_Static_assert(offsetof(prism_faithfulness_sample, names_item) == 24, "prism_faithfulness_sample.names_item");
_Static_assert(offsetof(prism_faithfulness_sample, hallucinated) == 28, "prism_faithfulness_sample.hallucinated");

/* ---- prism_faithfulness_result ---- */
_Static_assert(sizeof(prism_faithfulness_result) == 80, "prism_faithfulness_result size");
_Static_assert(offsetof(prism_faithfulness_result, struct_size) == 0, "prism_faithfulness_result.struct_size");
_Static_assert(offsetof(prism_faithfulness_result, count) == 8, "prism_faithfulness_result.count");
_Static_assert(offsetof(prism_faithfulness_result, titles_named) == 16, "prism_faithfulness_result.titles_named");
_Static_assert(offsetof(prism_faithfulness_result, titles_grounded) == 24, "prism_faithfulness_result.titles_grounded");
_Static_assert(offsetof(prism_faithfulness_result, items_named) == 32, "prism_faithfulness_result.items_named");
_Static_assert(offsetof(prism_faithfulness_result, hallucinated) == 40, "prism_faithfulness_result.hallucinated");
_Static_assert(offsetof(prism_faithfulness_result, titles_per_explanation) == 48, "prism_faithfulness_result.titles_per_explanation");
_Static_assert(offsetof(prism_faithfulness_result, grounded_share) == 56, "prism_faithfulness_result.grounded_share");
_Static_assert(offsetof(prism_faithfulness_result, item_named_rate) == 64, "prism_faithfulness_result.item_named_rate");
_Static_assert(offsetof(prism_faithfulness_result, hallucination_rate) == 72, "prism_faithfulness_result.hallucination_rate");

/* ---- prism_catalog_params ---- */
_Static_assert(sizeof(prism_catalog_params) == 24, "prism_catalog_params size");
_Static_assert(offsetof(prism_catalog_params, struct_size) == 0, "prism_catalog_params.struct_size");
_Static_assert(offsetof(prism_catalog_params, feature_columns) == 8, "prism_catalog_params.feature_columns");
_Static_assert(offsetof(prism_catalog_params, feature_separator) == 16, "prism_catalog_params.feature_separator");

/* ---- prism_pipeline_params ---- */
_Static_assert(sizeof(prism_pipeline_params) == 32, "prism_pipeline_params size");
_Static_assert(offsetof(prism_pipeline_params, struct_size) == 0, "prism_pipeline_params.struct_size");
_Static_assert(offsetof(prism_pipeline_params, k) == 8, "prism_pipeline_params.k");
_Static_assert(offsetof(prism_pipeline_params, evidence) == 12, "prism_pipeline_params.evidence");
_Static_assert(offsetof(prism_pipeline_params, filter) == 16, "prism_pipeline_params.filter");
_Static_assert(offsetof(prism_pipeline_params, generate) == 24, "prism_pipeline_params.generate");

/* ---- prism_pipeline_user ---- */
_Static_assert(sizeof(prism_pipeline_user) == 56, "prism_pipeline_user size");
_Static_assert(offsetof(prism_pipeline_user, struct_size) == 0, "prism_pipeline_user.struct_size");
_Static_assert(offsetof(prism_pipeline_user, user) == 8, "prism_pipeline_user.user");
_Static_assert(offsetof(prism_pipeline_user, status) == 16, "prism_pipeline_user.status");
_Static_assert(offsetof(prism_pipeline_user, error) == 24, "prism_pipeline_user.error");
_Static_assert(offsetof(prism_pipeline_user, item_count) == 32, "prism_pipeline_user.item_count");
_Static_assert(offsetof(prism_pipeline_user, history_count) == 40, "prism_pipeline_user.history_count");
_Static_assert(offsetof(prism_pipeline_user, missing_count) == 48, "prism_pipeline_user.missing_count");

/* ---- prism_pipeline_item ---- */
_Static_assert(sizeof(prism_pipeline_item) == 64, "prism_pipeline_item size");
_Static_assert(offsetof(prism_pipeline_item, struct_size) == 0, "prism_pipeline_item.struct_size");
_Static_assert(offsetof(prism_pipeline_item, item) == 8, "prism_pipeline_item.item");
_Static_assert(offsetof(prism_pipeline_item, title) == 16, "prism_pipeline_item.title");
_Static_assert(offsetof(prism_pipeline_item, features) == 24, "prism_pipeline_item.features");
_Static_assert(offsetof(prism_pipeline_item, score) == 32, "prism_pipeline_item.score");
_Static_assert(offsetof(prism_pipeline_item, evidence_count) == 40, "prism_pipeline_item.evidence_count");
_Static_assert(offsetof(prism_pipeline_item, prompt) == 48, "prism_pipeline_item.prompt");
_Static_assert(offsetof(prism_pipeline_item, explanation) == 56, "prism_pipeline_item.explanation");

/* ---- prism_pipeline_entry ---- */
_Static_assert(sizeof(prism_pipeline_entry) == 40, "prism_pipeline_entry size");
_Static_assert(offsetof(prism_pipeline_entry, struct_size) == 0, "prism_pipeline_entry.struct_size");
_Static_assert(offsetof(prism_pipeline_entry, item) == 8, "prism_pipeline_entry.item");
_Static_assert(offsetof(prism_pipeline_entry, title) == 16, "prism_pipeline_entry.title");
_Static_assert(offsetof(prism_pipeline_entry, features) == 24, "prism_pipeline_entry.features");
_Static_assert(offsetof(prism_pipeline_entry, weight) == 32, "prism_pipeline_entry.weight");

/* ---- prism_interactions_load_params ---- */
_Static_assert(sizeof(prism_interactions_load_params) == 40, "prism_interactions_load_params size");
_Static_assert(offsetof(prism_interactions_load_params, struct_size) == 0, "prism_interactions_load_params.struct_size");
_Static_assert(offsetof(prism_interactions_load_params, separator) == 8, "prism_interactions_load_params.separator");
_Static_assert(offsetof(prism_interactions_load_params, header) == 16, "prism_interactions_load_params.header");
_Static_assert(offsetof(prism_interactions_load_params, user_column) == 20, "prism_interactions_load_params.user_column");
_Static_assert(offsetof(prism_interactions_load_params, item_column) == 24, "prism_interactions_load_params.item_column");
_Static_assert(offsetof(prism_interactions_load_params, value_column) == 28, "prism_interactions_load_params.value_column");
_Static_assert(offsetof(prism_interactions_load_params, timestamp_column) == 32, "prism_interactions_load_params.timestamp_column");

/* ---- prism_ranker_params ---- */
_Static_assert(sizeof(prism_ranker_params) == 72, "prism_ranker_params size");
_Static_assert(offsetof(prism_ranker_params, struct_size) == 0, "prism_ranker_params.struct_size");
_Static_assert(offsetof(prism_ranker_params, algorithm) == 8, "prism_ranker_params.algorithm");
_Static_assert(offsetof(prism_ranker_params, factors) == 12, "prism_ranker_params.factors");
_Static_assert(offsetof(prism_ranker_params, iterations) == 16, "prism_ranker_params.iterations");
_Static_assert(offsetof(prism_ranker_params, regularization) == 20, "prism_ranker_params.regularization");
_Static_assert(offsetof(prism_ranker_params, alpha) == 24, "prism_ranker_params.alpha");
_Static_assert(offsetof(prism_ranker_params, learning_rate) == 28, "prism_ranker_params.learning_rate");
_Static_assert(offsetof(prism_ranker_params, cg_steps) == 32, "prism_ranker_params.cg_steps");
_Static_assert(offsetof(prism_ranker_params, seed) == 40, "prism_ranker_params.seed");
_Static_assert(offsetof(prism_ranker_params, rating_min) == 48, "prism_ranker_params.rating_min");
_Static_assert(offsetof(prism_ranker_params, rating_max) == 52, "prism_ranker_params.rating_max");
_Static_assert(offsetof(prism_ranker_params, progress) == 56, "prism_ranker_params.progress");
_Static_assert(offsetof(prism_ranker_params, progress_payload) == 64, "prism_ranker_params.progress_payload");

/* ---- prism_ranker_filter ---- */
_Static_assert(sizeof(prism_ranker_filter) == 48, "prism_ranker_filter size");
_Static_assert(offsetof(prism_ranker_filter, struct_size) == 0, "prism_ranker_filter.struct_size");
_Static_assert(offsetof(prism_ranker_filter, exclude_seen) == 8, "prism_ranker_filter.exclude_seen");
_Static_assert(offsetof(prism_ranker_filter, exclude) == 16, "prism_ranker_filter.exclude");
_Static_assert(offsetof(prism_ranker_filter, exclude_count) == 24, "prism_ranker_filter.exclude_count");
_Static_assert(offsetof(prism_ranker_filter, candidates) == 32, "prism_ranker_filter.candidates");
_Static_assert(offsetof(prism_ranker_filter, candidate_count) == 40, "prism_ranker_filter.candidate_count");

/* ---- prism_ranker_metrics ---- */
_Static_assert(sizeof(prism_ranker_metrics) == 48, "prism_ranker_metrics size");
_Static_assert(offsetof(prism_ranker_metrics, struct_size) == 0, "prism_ranker_metrics.struct_size");
_Static_assert(offsetof(prism_ranker_metrics, precision) == 8, "prism_ranker_metrics.precision");
_Static_assert(offsetof(prism_ranker_metrics, recall) == 16, "prism_ranker_metrics.recall");
_Static_assert(offsetof(prism_ranker_metrics, ndcg) == 24, "prism_ranker_metrics.ndcg");
_Static_assert(offsetof(prism_ranker_metrics, map) == 32, "prism_ranker_metrics.map");
_Static_assert(offsetof(prism_ranker_metrics, users) == 40, "prism_ranker_metrics.users");

/* ---- prism_teacher_params ---- */
_Static_assert(sizeof(prism_teacher_params) == 24, "prism_teacher_params size");
_Static_assert(offsetof(prism_teacher_params, struct_size) == 0, "prism_teacher_params.struct_size");
_Static_assert(offsetof(prism_teacher_params, teacher_format) == 8, "prism_teacher_params.teacher_format");
_Static_assert(offsetof(prism_teacher_params, student_format) == 16, "prism_teacher_params.student_format");

/* ---- prism_teacher_request ---- */
_Static_assert(sizeof(prism_teacher_request) == 80, "prism_teacher_request size");
_Static_assert(offsetof(prism_teacher_request, struct_size) == 0, "prism_teacher_request.struct_size");
_Static_assert(offsetof(prism_teacher_request, id) == 8, "prism_teacher_request.id");
_Static_assert(offsetof(prism_teacher_request, prompt) == 16, "prism_teacher_request.prompt");
_Static_assert(offsetof(prism_teacher_request, source) == 24, "prism_teacher_request.source");
_Static_assert(offsetof(prism_teacher_request, user) == 32, "prism_teacher_request.user");
_Static_assert(offsetof(prism_teacher_request, item_id) == 40, "prism_teacher_request.item_id");
_Static_assert(offsetof(prism_teacher_request, item) == 48, "prism_teacher_request.item");
_Static_assert(offsetof(prism_teacher_request, history_count) == 64, "prism_teacher_request.history_count");
_Static_assert(offsetof(prism_teacher_request, evidence_count) == 72, "prism_teacher_request.evidence_count");

/* ---- prism_teacher_import_params ---- */
_Static_assert(sizeof(prism_teacher_import_params) == 40, "prism_teacher_import_params size");
_Static_assert(offsetof(prism_teacher_import_params, struct_size) == 0, "prism_teacher_import_params.struct_size");
_Static_assert(offsetof(prism_teacher_import_params, answer_key) == 8, "prism_teacher_import_params.answer_key");
_Static_assert(offsetof(prism_teacher_import_params, drop_hallucinated) == 16, "prism_teacher_import_params.drop_hallucinated");
_Static_assert(offsetof(prism_teacher_import_params, titles) == 24, "prism_teacher_import_params.titles");
_Static_assert(offsetof(prism_teacher_import_params, n_titles) == 32, "prism_teacher_import_params.n_titles");

/* ---- prism_teacher_import_stats ---- */
_Static_assert(sizeof(prism_teacher_import_stats) == 88, "prism_teacher_import_stats size");
_Static_assert(offsetof(prism_teacher_import_stats, struct_size) == 0, "prism_teacher_import_stats.struct_size");
_Static_assert(offsetof(prism_teacher_import_stats, requests) == 8, "prism_teacher_import_stats.requests");
_Static_assert(offsetof(prism_teacher_import_stats, answers) == 16, "prism_teacher_import_stats.answers");
_Static_assert(offsetof(prism_teacher_import_stats, pairs) == 24, "prism_teacher_import_stats.pairs");
_Static_assert(offsetof(prism_teacher_import_stats, unanswered) == 32, "prism_teacher_import_stats.unanswered");
_Static_assert(offsetof(prism_teacher_import_stats, dropped) == 40, "prism_teacher_import_stats.dropped");
_Static_assert(offsetof(prism_teacher_import_stats, failed) == 48, "prism_teacher_import_stats.failed");
_Static_assert(offsetof(prism_teacher_import_stats, empty) == 56, "prism_teacher_import_stats.empty");
_Static_assert(offsetof(prism_teacher_import_stats, unknown_id) == 64, "prism_teacher_import_stats.unknown_id");
_Static_assert(offsetof(prism_teacher_import_stats, duplicate) == 72, "prism_teacher_import_stats.duplicate");
_Static_assert(offsetof(prism_teacher_import_stats, hallucinated) == 80, "prism_teacher_import_stats.hallucinated");

/* ---- prism_teacher_pair ---- */
_Static_assert(sizeof(prism_teacher_pair) == 40, "prism_teacher_pair size");
_Static_assert(offsetof(prism_teacher_pair, struct_size) == 0, "prism_teacher_pair.struct_size");
_Static_assert(offsetof(prism_teacher_pair, id) == 8, "prism_teacher_pair.id");
_Static_assert(offsetof(prism_teacher_pair, source) == 16, "prism_teacher_pair.source");
_Static_assert(offsetof(prism_teacher_pair, target) == 24, "prism_teacher_pair.target");
_Static_assert(offsetof(prism_teacher_pair, hallucinated) == 32, "prism_teacher_pair.hallucinated");

/* ---- prism_teacher_drop ---- */
_Static_assert(sizeof(prism_teacher_drop) == 40, "prism_teacher_drop size");
_Static_assert(offsetof(prism_teacher_drop, struct_size) == 0, "prism_teacher_drop.struct_size");
_Static_assert(offsetof(prism_teacher_drop, id) == 8, "prism_teacher_drop.id");
_Static_assert(offsetof(prism_teacher_drop, verdict) == 16, "prism_teacher_drop.verdict");
_Static_assert(offsetof(prism_teacher_drop, line) == 24, "prism_teacher_drop.line");
_Static_assert(offsetof(prism_teacher_drop, text) == 32, "prism_teacher_drop.text");

/* ---- prism_tokenizer_params ---- */
_Static_assert(sizeof(prism_tokenizer_params) == 16, "prism_tokenizer_params size");
_Static_assert(offsetof(prism_tokenizer_params, struct_size) == 0, "prism_tokenizer_params.struct_size");
_Static_assert(offsetof(prism_tokenizer_params, add_prefix_space) == 8, "prism_tokenizer_params.add_prefix_space");

/* ---- prism_tokenizer_trainer_params ---- */
_Static_assert(sizeof(prism_tokenizer_trainer_params) == 40, "prism_tokenizer_trainer_params size");
_Static_assert(offsetof(prism_tokenizer_trainer_params, struct_size) == 0, "prism_tokenizer_trainer_params.struct_size");
_Static_assert(offsetof(prism_tokenizer_trainer_params, vocab_size) == 8, "prism_tokenizer_trainer_params.vocab_size");
_Static_assert(offsetof(prism_tokenizer_trainer_params, min_frequency) == 12, "prism_tokenizer_trainer_params.min_frequency");
_Static_assert(offsetof(prism_tokenizer_trainer_params, special_tokens) == 16, "prism_tokenizer_trainer_params.special_tokens");
_Static_assert(offsetof(prism_tokenizer_trainer_params, n_special_tokens) == 24, "prism_tokenizer_trainer_params.n_special_tokens");
_Static_assert(offsetof(prism_tokenizer_trainer_params, limit_alphabet) == 32, "prism_tokenizer_trainer_params.limit_alphabet");
_Static_assert(offsetof(prism_tokenizer_trainer_params, corpus_alphabet) == 36, "prism_tokenizer_trainer_params.corpus_alphabet");

/* ---- prism_tokenizer_trainer_stats ---- */
_Static_assert(sizeof(prism_tokenizer_trainer_stats) == 40, "prism_tokenizer_trainer_stats size");
_Static_assert(offsetof(prism_tokenizer_trainer_stats, struct_size) == 0, "prism_tokenizer_trainer_stats.struct_size");
_Static_assert(offsetof(prism_tokenizer_trainer_stats, words) == 8, "prism_tokenizer_trainer_stats.words");
_Static_assert(offsetof(prism_tokenizer_trainer_stats, unique_words) == 16, "prism_tokenizer_trainer_stats.unique_words");
_Static_assert(offsetof(prism_tokenizer_trainer_stats, alphabet_size) == 24, "prism_tokenizer_trainer_stats.alphabet_size");
_Static_assert(offsetof(prism_tokenizer_trainer_stats, vocab_size) == 28, "prism_tokenizer_trainer_stats.vocab_size");
_Static_assert(offsetof(prism_tokenizer_trainer_stats, merges) == 32, "prism_tokenizer_trainer_stats.merges");

/* ---- prism_pairs_params ---- */
_Static_assert(sizeof(prism_pairs_params) == 24, "prism_pairs_params size");
_Static_assert(offsetof(prism_pairs_params, struct_size) == 0, "prism_pairs_params.struct_size");
_Static_assert(offsetof(prism_pairs_params, format) == 8, "prism_pairs_params.format");
_Static_assert(offsetof(prism_pairs_params, max_source_len) == 12, "prism_pairs_params.max_source_len");
_Static_assert(offsetof(prism_pairs_params, max_target_len) == 16, "prism_pairs_params.max_target_len");
_Static_assert(offsetof(prism_pairs_params, truncate) == 20, "prism_pairs_params.truncate");

/* ---- prism_train_params ---- */
_Static_assert(sizeof(prism_train_params) == 176, "prism_train_params size");
_Static_assert(offsetof(prism_train_params, struct_size) == 0, "prism_train_params.struct_size");
_Static_assert(offsetof(prism_train_params, learning_rate) == 8, "prism_train_params.learning_rate");
_Static_assert(offsetof(prism_train_params, weight_decay) == 16, "prism_train_params.weight_decay");
_Static_assert(offsetof(prism_train_params, adam_beta1) == 24, "prism_train_params.adam_beta1");
_Static_assert(offsetof(prism_train_params, adam_beta2) == 32, "prism_train_params.adam_beta2");
_Static_assert(offsetof(prism_train_params, adam_epsilon) == 40, "prism_train_params.adam_epsilon");
_Static_assert(offsetof(prism_train_params, max_grad_norm) == 48, "prism_train_params.max_grad_norm");
_Static_assert(offsetof(prism_train_params, label_smoothing) == 56, "prism_train_params.label_smoothing");
_Static_assert(offsetof(prism_train_params, dropout) == 64, "prism_train_params.dropout");
_Static_assert(offsetof(prism_train_params, attention_dropout) == 72, "prism_train_params.attention_dropout");
_Static_assert(offsetof(prism_train_params, activation_dropout) == 80, "prism_train_params.activation_dropout");
_Static_assert(offsetof(prism_train_params, schedule) == 88, "prism_train_params.schedule");
_Static_assert(offsetof(prism_train_params, warmup_steps) == 92, "prism_train_params.warmup_steps");
_Static_assert(offsetof(prism_train_params, batch_size) == 96, "prism_train_params.batch_size");
_Static_assert(offsetof(prism_train_params, grad_accum) == 100, "prism_train_params.grad_accum");
_Static_assert(offsetof(prism_train_params, epochs) == 104, "prism_train_params.epochs");
_Static_assert(offsetof(prism_train_params, max_steps) == 108, "prism_train_params.max_steps");
_Static_assert(offsetof(prism_train_params, eval_every) == 112, "prism_train_params.eval_every");
_Static_assert(offsetof(prism_train_params, eval_batch_size) == 116, "prism_train_params.eval_batch_size");
_Static_assert(offsetof(prism_train_params, patience) == 120, "prism_train_params.patience");
_Static_assert(offsetof(prism_train_params, save_every) == 124, "prism_train_params.save_every");
_Static_assert(offsetof(prism_train_params, group_by_length) == 128, "prism_train_params.group_by_length");
_Static_assert(offsetof(prism_train_params, seed) == 136, "prism_train_params.seed");
_Static_assert(offsetof(prism_train_params, output_dir) == 144, "prism_train_params.output_dir");
_Static_assert(offsetof(prism_train_params, tokenizer_dir) == 152, "prism_train_params.tokenizer_dir");
_Static_assert(offsetof(prism_train_params, eval_generate) == 160, "prism_train_params.eval_generate");
_Static_assert(offsetof(prism_train_params, best_metric) == 168, "prism_train_params.best_metric");

/* ---- prism_train_progress ---- */
_Static_assert(sizeof(prism_train_progress) == 128, "prism_train_progress size");
_Static_assert(offsetof(prism_train_progress, struct_size) == 0, "prism_train_progress.struct_size");
_Static_assert(offsetof(prism_train_progress, step) == 8, "prism_train_progress.step");
_Static_assert(offsetof(prism_train_progress, total_steps) == 16, "prism_train_progress.total_steps");
_Static_assert(offsetof(prism_train_progress, epoch) == 24, "prism_train_progress.epoch");
_Static_assert(offsetof(prism_train_progress, loss) == 32, "prism_train_progress.loss");
_Static_assert(offsetof(prism_train_progress, learning_rate) == 40, "prism_train_progress.learning_rate");
_Static_assert(offsetof(prism_train_progress, grad_norm) == 48, "prism_train_progress.grad_norm");
_Static_assert(offsetof(prism_train_progress, tokens_per_second) == 56, "prism_train_progress.tokens_per_second");
_Static_assert(offsetof(prism_train_progress, evaluated) == 64, "prism_train_progress.evaluated");
_Static_assert(offsetof(prism_train_progress, best) == 68, "prism_train_progress.best");
_Static_assert(offsetof(prism_train_progress, eval_loss) == 72, "prism_train_progress.eval_loss");
_Static_assert(offsetof(prism_train_progress, eval_accuracy) == 80, "prism_train_progress.eval_accuracy");
_Static_assert(offsetof(prism_train_progress, checkpoint) == 88, "prism_train_progress.checkpoint");
_Static_assert(offsetof(prism_train_progress, eval_generated) == 96, "prism_train_progress.eval_generated");
_Static_assert(offsetof(prism_train_progress, eval_exact_match) == 104, "prism_train_progress.eval_exact_match");
_Static_assert(offsetof(prism_train_progress, eval_text) == 112, "prism_train_progress.eval_text");
_Static_assert(offsetof(prism_train_progress, eval_metric) == 120, "prism_train_progress.eval_metric");

/* ---- prism_train_state ---- */
_Static_assert(sizeof(prism_train_state) == 64, "prism_train_state size");
_Static_assert(offsetof(prism_train_state, struct_size) == 0, "prism_train_state.struct_size");
_Static_assert(offsetof(prism_train_state, step) == 8, "prism_train_state.step");
_Static_assert(offsetof(prism_train_state, total_steps) == 16, "prism_train_state.total_steps");
_Static_assert(offsetof(prism_train_state, epoch) == 24, "prism_train_state.epoch");
_Static_assert(offsetof(prism_train_state, best_eval_loss) == 32, "prism_train_state.best_eval_loss");
_Static_assert(offsetof(prism_train_state, best_step) == 40, "prism_train_state.best_step");
_Static_assert(offsetof(prism_train_state, stopped_early) == 48, "prism_train_state.stopped_early");
_Static_assert(offsetof(prism_train_state, best_metric) == 56, "prism_train_state.best_metric");

/* clang-format on */
#endif

int main(void)
{
  return 0;
}

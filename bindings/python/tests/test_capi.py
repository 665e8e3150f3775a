"""The ctypes prototypes against the library and its headers.

Every exported prism_* symbol needs a prototype whose argument count, argument
sizes and return kind match its declaration; every Structure must have the C
layout, which the library's struct_size checks reveal.
"""
import ctypes
import os
import re
import subprocess
import unittest

import prism
from prism import _capi as C
from util import FIXTURES, ROOT

HEADERS = os.path.join(ROOT, "include", "prism")
SCALARS = {"int": ctypes.c_int, "unsigned": ctypes.c_uint, "int32_t": ctypes.c_int32,
           "uint32_t": ctypes.c_uint32, "int64_t": ctypes.c_int64, "uint64_t": ctypes.c_uint64,
           "size_t": ctypes.c_size_t, "float": ctypes.c_float, "double": ctypes.c_double}
FUNCTION_TYPES = {"prism_log_fn", "prism_generate_stream_fn", "prism_tokenizer_trainer_progress_fn",
                  "prism_train_progress_fn"}


def library_path():
    """The file the process mapped for libprism (C.lib._name may be a bare soname)."""
    with open("/proc/self/maps") as f:
        for line in f:
            if "libprism" in line and "/" in line:
                return line[line.index("/"):].strip()
    return C.lib._name


def exported_symbols():
    path = library_path()
    out = subprocess.run(["nm", "-D", "--defined-only", path], check=True, capture_output=True,
                         text=True).stdout
    return {line.split()[-1].split("@")[0] for line in out.splitlines()
            if line.split() and line.split()[-1].startswith("prism_")}


def declarations():
    """name -> (return type, [parameter types]) of every PRISM_API function in the headers."""
    decls = {}
    for name in sorted(os.listdir(HEADERS)):
        with open(os.path.join(HEADERS, name)) as f:
            text = re.sub(r"/\*.*?\*/", "", f.read(), flags=re.S)
        for ret, fn, params in re.findall(r"PRISM_API\s+([^;]*?)\b(prism_\w+)\s*\(([^)]*)\)\s*;",
                                          text):
            params = " ".join(params.split())
            args = [] if params in ("", "void") else [p.strip() for p in params.split(",")]
            decls[fn] = (" ".join(ret.split()), args)
    return decls


def is_pointer(ctype):
    return (ctype in (ctypes.c_char_p, ctypes.c_void_p)
            or issubclass(ctype, (ctypes._Pointer, ctypes.Array)))


def c_type(param):
    """The type of a declared parameter, without its name ("const int32_t *ids" -> "*")."""
    if "*" in param:
        return "*"
    words = [w for w in param.split() if w != "const"]
    return words[0]


class PrototypeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.exported = exported_symbols()
        cls.decls = declarations()

    def test_every_export_has_a_prototype(self):
        self.assertGreater(len(self.exported), 100)
        missing = sorted(self.exported - set(C.prototypes))
        self.assertEqual(missing, [], "exported without a prototype")
        self.assertEqual(sorted(set(C.prototypes) - self.exported), [], "prototype of nothing")

    def test_headers_declare_the_exports(self):
        self.assertEqual(set(self.decls), self.exported)

    def test_prototypes_match_declarations(self):
        for name, (ret, params) in self.decls.items():
            fn = C.prototypes[name]
            with self.subTest(function=name):
                self.assertIsNotNone(fn.argtypes)
                self.assertEqual(len(fn.argtypes), len(params))
                for param, argtype in zip(params, fn.argtypes):
                    kind = c_type(param)
                    if kind == "*":
                        self.assertTrue(is_pointer(argtype), f"{param}: {argtype}")
                    elif kind in FUNCTION_TYPES:
                        self.assertTrue(issubclass(argtype, ctypes._CFuncPtr), param)
                    else:
                        self.assertEqual(ctypes.sizeof(argtype), ctypes.sizeof(SCALARS[kind]),
                                         param)
                        self.assertFalse(is_pointer(argtype), param)
                if ret == "void":
                    self.assertIsNone(fn.restype)
                elif "*" in ret:
                    self.assertTrue(is_pointer(fn.restype), ret)
                else:
                    self.assertIs(fn.restype, SCALARS[ret.replace("const ", "")])


def last_field_end(struct):
    name, ctype = struct._fields_[-1][:2]
    return getattr(struct, name).offset + ctypes.sizeof(ctype)


class StructLayoutTest(unittest.TestCase):
    """init(minimum) succeeds and init(minimum - 1) fails, where the library's minimum is the
    end of the last field (version-1 size) or sizeof; so the ctypes layout ends where C's does."""

    def assert_minimum(self, struct, init, minimum):
        ok = struct()
        self.assertEqual(init(ok, minimum), 0, struct.__name__)
        self.assertEqual(ok.struct_size, minimum)
        with self.assertRaises(prism.PrismError) as ctx:
            prism.check(init(struct(), minimum - 1))
        self.assertEqual(ctx.exception.name, "PRISM_ERR_INVALID_ARGUMENT")

    def test_params_structs(self):
        by_ref = lambda f: (lambda s, n: f(ctypes.byref(s), n))  # noqa: E731
        end = [(C.prism_ranker_params, C.prism_ranker_params_init),
               (C.prism_ranker_filter, C.prism_ranker_filter_init),
               (C.prism_generate_params, C.prism_generate_params_init),
               (C.prism_bart_load_params, C.prism_bart_load_params_init),
               (C.prism_bart_session_params, C.prism_bart_session_params_init),
               (C.prism_explainer_params, C.prism_explainer_params_init),
               (C.prism_prompt_format, C.prism_prompt_format_init),
               (C.prism_tokenizer_params, C.prism_tokenizer_params_init),
               (C.prism_tokenizer_trainer_params, C.prism_tokenizer_trainer_params_init),
               (C.prism_metrics_params, C.prism_metrics_params_init),
               (C.prism_catalog_params, C.prism_catalog_params_init),
               (C.prism_pipeline_params, C.prism_pipeline_params_init),
               (C.prism_pairs_params, C.prism_pairs_params_init),
               (C.prism_train_params, C.prism_train_params_init),
               (C.prism_teacher_params, C.prism_teacher_params_init),
               (C.prism_teacher_import_params, C.prism_teacher_import_params_init)]
        for struct, init in end:
            with self.subTest(struct=struct.__name__):
                self.assert_minimum(struct, by_ref(init), last_field_end(struct))

    def test_tokenizer_params(self):
        """The loader checks struct_size as _init does."""
        vocab = os.path.join(FIXTURES, "bart-vocab").encode()
        for size, status in ((last_field_end(C.prism_tokenizer_params), 0),
                             (last_field_end(C.prism_tokenizer_params) - 1, -1)):
            p, tok = C.prism_tokenizer_params(), ctypes.c_void_p()
            C.prism_tokenizer_params_init(ctypes.byref(p), ctypes.sizeof(p))
            p.struct_size = size
            self.assertEqual(C.prism_tokenizer_load(ctypes.byref(tok), vocab, ctypes.byref(p)),
                             status)
            C.prism_tokenizer_free(tok)

    def test_output_structs(self):
        """bart info, ranker metrics and generate stats are filled up to the struct_size the
        caller gives."""
        model = prism.Bart(os.path.join(FIXTURES, "tiny-bart"))
        info = C.prism_bart_info(struct_size=last_field_end(C.prism_bart_info))
        self.assertEqual(C.prism_bart_get_info(ctypes.byref(info), model.ptr), 0)
        self.assertEqual(info.activation_function, b"gelu")
        self.assertEqual(info.decoder_start_token_id, 2)
        info.struct_size -= 1
        self.assertLess(C.prism_bart_get_info(ctypes.byref(info), model.ptr), 0)
        out = model.generate([[0, 5, 6, 2]], max_length=5)
        self.assertEqual(out.stats["rows"], 1)  # read through prism_generate_stats
        rec, rel = (ctypes.c_int32 * 2)(1, 2), (ctypes.c_int32 * 1)(2)
        m = C.prism_ranker_metrics(struct_size=last_field_end(C.prism_ranker_metrics))
        self.assertEqual(C.prism_ranker_metrics_list(ctypes.byref(m), rec, 2, rel, 1, 2), 0)
        self.assertEqual((m.precision, m.users), (0.5, 1))
        m.struct_size -= 1
        self.assertLess(C.prism_ranker_metrics_list(ctypes.byref(m), rec, 2, rel, 1, 2), 0)

    def test_metrics_output_structs(self):
        """The metrics result structs are filled up to the struct_size the caller gives."""
        refs = (ctypes.c_char_p * 1)(b"a b")
        r = C.prism_metrics_result(struct_size=last_field_end(C.prism_metrics_result))
        self.assertEqual(C.prism_metrics_evaluate(ctypes.byref(r), refs, refs, None, 1, None), 0)
        self.assertEqual((r.count, r.usn), (1, 1))
        r.struct_size -= 1
        self.assertLess(C.prism_metrics_evaluate(ctypes.byref(r), refs, refs, None, 1, None), 0)
        f = ctypes.c_void_p()
        self.assertEqual(C.prism_faithfulness_create(ctypes.byref(f), refs, 1), 0)
        s = C.prism_faithfulness_sample(struct_size=last_field_end(C.prism_faithfulness_sample))
        self.assertEqual(C.prism_faithfulness_add(ctypes.byref(s), None, 0, f, b"A B!", b"a b",
                                                  None, 0), 0)
        self.assertEqual((s.titles_named, s.names_item), (1, 1))
        t = C.prism_faithfulness_result(struct_size=last_field_end(C.prism_faithfulness_result))
        self.assertEqual(C.prism_faithfulness_finish(ctypes.byref(t), f), 0)
        self.assertEqual((t.count, t.items_named, t.hallucination_rate), (1, 1, 0.0))
        t.struct_size -= 1
        self.assertLess(C.prism_faithfulness_finish(ctypes.byref(t), f), 0)
        C.prism_faithfulness_free(f)

    def test_structs_without_size_field(self):
        """Fixed C layouts (LP64 and ILP32 alike): pointers, then scalars, naturally aligned."""
        ptr = ctypes.sizeof(ctypes.c_void_p)
        self.assertEqual(ctypes.sizeof(C.prism_prompt_item), 2 * ptr)


if __name__ == "__main__":
    unittest.main()

import os
import unittest

import prism
from prism import _capi

FIXTURES = os.environ.get("PRISM_FIXTURES", os.path.join(os.path.dirname(__file__), "..", "..",
                                                         "..", "tests", "fixtures"))


class CommonTest(unittest.TestCase):
    def test_version(self):
        self.assertRegex(prism.version(), r"^\d+\.\d+\.\d+$")
        major, minor, patch = (int(x) for x in prism.version().split("."))
        self.assertEqual(prism.version_number(), major * 10000 + minor * 100 + patch)

    def test_status_names(self):
        self.assertEqual(_capi.prism_status_name(-3).decode(), "PRISM_ERR_FORMAT")
        self.assertEqual(_capi.prism_status_str(0).decode(), "success")

    def test_check_raises(self):
        with self.assertRaises(prism.PrismError) as ctx:
            prism.check(-7)
        self.assertEqual(ctx.exception.code, -7)
        self.assertEqual(ctx.exception.name, "PRISM_ERR_NO_MEMORY")
        self.assertEqual(prism.check(0), 0)

    def test_threads(self):
        self.assertEqual(prism.set_num_threads(1), 1)
        self.assertEqual(prism.get_num_threads(), 1)
        self.assertGreaterEqual(prism.set_num_threads(0), 1)

    def test_cpu_features(self):
        self.assertIsInstance(prism.cpu_features(), list)

    def test_limits(self):
        # The bindings start with the safe caps for untrusted requests.
        safe = prism.get_limits()
        self.assertEqual(safe, {"max_file_bytes": 0, "max_text_bytes": 1 << 20, "max_batch": 256,
                                "max_new_tokens": 512, "max_beams": 16,
                                "max_return_sequences": 16, "max_decoder_rows": 1024,
                                "max_decoder_tokens": 1 << 20})
        prism.set_limits(max_text_bytes=4)
        try:
            self.assertEqual(prism.get_limits()["max_text_bytes"], 4)
            self.assertEqual(prism.get_limits()["max_beams"], 16)  # the others keep their value
            with self.assertRaises(TypeError):
                prism.set_limits(max_beam=3)
            with self.assertRaises(OverflowError):
                prism.set_limits(max_beams=2**32)
            with self.assertRaises(TypeError):
                prism.set_limits(max_beams=1.5)
            prism.reset_limits(safe=False)
            self.assertTrue(all(v == 0 for v in prism.get_limits().values()))
        finally:
            prism.reset_limits()
        self.assertEqual(prism.get_limits(), safe)

    def test_limits_refuse_before_allocating(self):
        """A huge beam count is refused at once; a new-token cap clamps the model's default length
        instead of failing every default call, and refuses an explicit request above it."""
        model = prism.Bart(os.path.join(FIXTURES, "tiny-bart"))
        try:
            with self.assertRaises(prism.PrismError) as ctx:
                model.generate([[0, 5, 6, 2]], num_beams=100000)
            self.assertEqual(ctx.exception.name, "PRISM_ERR_LIMIT")
            self.assertIn("max_beams", ctx.exception.message)
            prism.set_limits(max_new_tokens=8)
            out = model.generate([[0, 5, 6, 2]])  # the model's max_length 20 is clamped
            self.assertLessEqual(out.sequences.shape[1], 9)
            self.assertEqual(model.generation_config()["max_new_tokens"], 8)
            with self.assertRaises(prism.PrismError) as ctx:
                model.generate([[0, 5, 6, 2]], max_length=30)
            self.assertIn("max_new_tokens", ctx.exception.message)
            prism.set_limits(max_decoder_rows=3)
            with self.assertRaises(prism.PrismError) as ctx:
                model.generate([[0, 5, 6, 2]], num_beams=4)
            self.assertIn("max_decoder_rows", ctx.exception.message)
        finally:
            prism.reset_limits()
            model.close()

    def test_log_handler_kept_alive(self):
        seen = []
        prism.set_log_handler(lambda lvl, msg: seen.append((lvl, msg)), level=3)
        prism.set_log_handler(None)


if __name__ == "__main__":
    unittest.main()

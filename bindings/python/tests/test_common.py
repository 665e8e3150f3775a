import unittest

import prism
from prism import _capi


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
        self.assertEqual(prism.get_limits(), {"max_file_bytes": 0, "max_text_bytes": 0,
                                              "max_batch": 0, "max_new_tokens": 0})
        prism.set_limits(max_text_bytes=4)
        try:
            self.assertEqual(prism.get_limits()["max_text_bytes"], 4)
        finally:
            prism.set_limits()
        self.assertEqual(prism.get_limits()["max_text_bytes"], 0)

    def test_log_handler_kept_alive(self):
        seen = []
        prism.set_log_handler(lambda lvl, msg: seen.append((lvl, msg)), level=3)
        prism.set_log_handler(None)


if __name__ == "__main__":
    unittest.main()

"""Paths shared by the binding tests."""
import os

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
FIXTURES = os.environ.get("PRISM_FIXTURES", os.path.join(ROOT, "tests", "fixtures"))
DEMO = os.path.join(ROOT, "examples", "demo")
VOCAB = os.path.join(FIXTURES, "bart-vocab")

"""Replays the fuzzer's corpus (tests/fuzz/corpus/): every input must give a valid result or a
ValueError / TypeError / MemoryError (the harness's own rule), on every test run."""

import importlib.util
from pathlib import Path

import pytest

HERE = Path(__file__).parent / "fuzz"
_spec = importlib.util.spec_from_file_location("equipoise_fuzz_api", HERE / "fuzz_api.py")
fuzz_api = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fuzz_api)

CORPUS = sorted((HERE / "corpus").iterdir())


@pytest.mark.parametrize("path", CORPUS, ids=[p.name for p in CORPUS])
def test_corpus_input(path):
    fuzz_api.one_input(path.read_bytes())


def test_corpus_is_not_empty():
    assert len(CORPUS) >= 20

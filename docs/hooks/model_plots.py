"""An mkdocs hook: the model cards' plots on the site.

A card (``models/NAME/README.md``) shows its evaluation plots by links relative to itself,
``plots/cdcp-dev-....png`` (``argmine evaluate --model-card --plots``). The site's page
``docs/models/NAME.md`` includes the card (``--8<-- "models/NAME/README.md"``), where those links
would point at ``docs/models/plots/``: one folder for every model's plots, and nothing there. So
the plots are added to the site as ``models/NAME/plots/...``, and the card is included here,
before the snippets extension would include it, with its plot links pointed there.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

MODELS = Path(__file__).resolve().parents[2] / "models"
CARD = re.compile(r'^--8<-- "models/([^/"]+)/README\.md"\s*$', re.MULTILINE)
PLOT_LINK = re.compile(r"\]\(plots/")


def on_files(files: Files, config: Any) -> Files:
    for plot in sorted(MODELS.glob("*/plots/*")):
        if plot.suffix in (".png", ".svg"):
            path = f"models/{plot.parent.parent.name}/plots/{plot.name}"
            files.append(File.generated(config, path, abs_src_path=str(plot)))
    return files


def on_page_markdown(markdown: str, **kwargs: Any) -> str:
    def card(match: re.Match) -> str:
        name = match.group(1)
        text = (MODELS / name / "README.md").read_text(encoding="utf-8")
        return PLOT_LINK.sub(f"]({name}/plots/", text)

    return CARD.sub(card, markdown)

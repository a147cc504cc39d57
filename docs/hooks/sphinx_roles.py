"""A griffe extension for the API reference: argmine's docstrings use Sphinx roles
(``:class:`~argmine.graph.ArgumentGraph```) and double backticks; mkdocstrings reads Markdown.

Each role becomes a cross-reference to the object's entry in the reference, or plain code
where the object has no entry (an optional reference: no warning, so ``--strict`` holds).
Double backticks are already Markdown code and are left alone.

Names a package exports lazily, through a module ``__getattr__`` (``argmine.ArgumentMiner``,
so that ``import argmine`` stays free of torch), are invisible to griffe's static reading;
the extension adds them as aliases, so the reference can document them by their public name.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

LAZY_IMPORT = re.compile(r"from\s+([\w.]+)\s+import\s+(\w+)")
ROLE = re.compile(r":(?:class|func|meth|mod|attr|data|exc|obj|const):`(~?)([\w.]+)(?:\(\))?`")


class SphinxRoles(griffe.Extension):
    """Rewrite the roles once the whole package is loaded (so every name can be resolved)."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        _add_lazy_exports(pkg)
        for obj in _walk(pkg):
            if obj.docstring is not None:
                docstring = obj.docstring
                docstring.value = ROLE.sub(lambda m, o=obj: _reference(o, m), docstring.value)


def _add_lazy_exports(module: griffe.Module) -> None:
    """Alias each name that the module's ``__getattr__`` imports (``from X import NAME``)."""
    getattr_function = module.members.get("__getattr__")
    if getattr_function is None:
        return
    for target_module, name in LAZY_IMPORT.findall(getattr_function.source):
        if name not in module.members:
            module.set_member(name, griffe.Alias(name, f"{target_module}.{name}", parent=module))


def _walk(obj: griffe.Object):
    yield obj
    for member in obj.members.values():
        if not member.is_alias:
            yield from _walk(member)


def _reference(obj: griffe.Object, match: re.Match[str]) -> str:
    short, name = match.group(1) == "~", match.group(2)
    identifier = _resolve(obj, name)
    title = name.rsplit(".", 1)[-1] if short else name
    return f'<autoref identifier="{identifier}" optional><code>{title}</code></autoref>'


def _resolve(obj: griffe.Object, name: str) -> str:
    """The full path of ``name`` as seen from ``obj`` (itself, if it is already one)."""
    if name.startswith("argmine"):
        return name
    first, _, rest = name.partition(".")
    scope: griffe.Object | None = obj
    while scope is not None:
        try:
            found = scope.resolve(first)
        except (griffe.NameResolutionError, AttributeError):
            scope = scope.parent
            continue
        return f"{found}.{rest}" if rest else found
    return name

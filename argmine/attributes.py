"""Attributes of components beyond their type: for now, ``counterfactual``.

A counterfactual argues about what would have happened had the past been different ("if
ContactPoint had been running at the time it would have made no difference"). No training
corpus marks them (our ContactPoint article has one), so they are found by the grammar that
defines them in English: a conditional with a past-perfect condition ("if X had ...", "had X
...", "were it not for") and/or a "would/could/might have + participle" consequence. The score
says how much of that grammar is present: both parts 0.95, the consequence alone 0.6 (also
"would have" outside a conditional), nothing 0.0; ``counterfactual`` is true at 0.5 or above.
"""

from __future__ import annotations

import re

CONDITION = re.compile(
    r"\b(if\b[^.;]{0,120}?\bhad\b|had\s+(not\s+)?\w+\s+(been|known|had|done|acted|\w+ed)\b|"
    r"were it not for|but for|if only\b[^.;]{0,80}?\bhad\b)",
    re.IGNORECASE,
)
CONSEQUENCE = re.compile(
    r"\b(would|could|might|should)(n't|\s+not)?\s+have\s+(\w+ed|been|made|done|had|known|"
    r"\w+en|saved|lost|kept|gone|seen|found|come|got|gotten)\b",
    re.IGNORECASE,
)
THRESHOLD = 0.5


def counterfactual_score(text: str) -> float:
    """How strongly ``text`` reads as a counterfactual conditional, in [0, 1]."""
    has_consequence = bool(CONSEQUENCE.search(text))
    if has_consequence and CONDITION.search(text):
        return 0.95
    return 0.6 if has_consequence else 0.0


def component_attributes(text: str) -> dict[str, object]:
    """The attributes the pipeline predicts for a component's text."""
    score = counterfactual_score(text)
    return {"counterfactual": score >= THRESHOLD, "counterfactual_score": score}

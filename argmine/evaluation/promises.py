"""The project's promises on its own example: what a model must find in the ContactPoint article.

The article ("Ends in August", in the ``contactpoint`` corpus) ends in a counterfactual
conclusion, "if ContactPoint had been running at the time it would have made no difference to
the fate of these unfortunate children", supported by the observation that social workers knew
the children were at risk. A shipped model finds both. Scores on dev corpora do not see this:
the boundary at "time it would" is a near thing for the tagger (the default 0.2.0 gives "it" a
0.29 chance of starting a unit, a retrained seed of the same recipe 0.56), so whether a trained
model keeps the promises is checked on its graph, here, by the tests of the shipped models and
before a trained model is chosen to ship (``python training/check_promises.py FOLDER ...``).
"""

from __future__ import annotations

from argmine.graph import ArgumentGraph, Component

CONSEQUENT = "it would have made no difference to the fate of these unfortunate children"
ANTECEDENT = "if ContactPoint had been running at the time"
SUPPORT = "social workers knew"


def containing(graph: ArgumentGraph, phrase: str) -> Component | None:
    """The first component whose text contains ``phrase`` (None: no such unit)."""
    return next((c for c in graph.components if phrase in c.text), None)


def finds_the_counterfactual_conclusion(graph: ArgumentGraph) -> bool:
    """One conclusion, marked counterfactual, whose antecedent and consequent are the two
    halves of the sentence."""
    unit = containing(graph, CONSEQUENT)
    if (
        unit is None
        or unit.type != "conclusion"
        or unit.attributes.get("counterfactual") is not True
    ):
        return False
    parts = {}
    for part in ("antecedent", "consequent"):
        span = unit.attributes.get(part)
        parts[part] = graph.text[span[0] : span[1]] if span else None
    return parts == {"antecedent": ANTECEDENT, "consequent": CONSEQUENT}


def social_workers_support_it(graph: ArgumentGraph) -> bool:
    """The unit on what social workers knew supports the unit holding the consequent."""
    conclusion, support = containing(graph, CONSEQUENT), containing(graph, SUPPORT)
    if conclusion is None or support is None:
        return False
    return any(
        r.source == support.id and r.target == conclusion.id and r.type == "support"
        for r in graph.relations
    )


def contactpoint_promises(graph: ArgumentGraph) -> dict[str, bool]:
    """Each promise on the article's graph: kept or not."""
    return {
        "counterfactual_conclusion": finds_the_counterfactual_conclusion(graph),
        "social_workers_support": social_workers_support_it(graph),
    }


def where_they_stand(graph: ArgumentGraph) -> dict[str, object]:
    """What a model made of the two promised units (to see why a promise is missed): the type
    and score of the unit holding the consequent, and the texts the social-workers unit links
    to with their scores."""
    conclusion, support = containing(graph, CONSEQUENT), containing(graph, SUPPORT)
    by_id = {c.id: c for c in graph.components}
    return {
        "conclusion_type": None if conclusion is None else conclusion.type,
        "conclusion_score": None if conclusion is None else conclusion.score,
        "social_workers_link_to": []
        if support is None
        else [
            (by_id[r.target].text, r.type, r.score)
            for r in graph.relations
            if r.source == support.id
        ],
    }

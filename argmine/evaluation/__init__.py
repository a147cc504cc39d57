"""Evaluation: a model's scores on annotated documents, their diagnostics, report and plots.

- :mod:`argmine.evaluation.scores`: the field's standard metrics (given units, end to end,
  microtexts cross-validation, proposition types, counterfactuals) and :func:`evaluate`;
- :mod:`argmine.evaluation.matching`: matching predicted units and links to gold ones;
- :mod:`argmine.evaluation.diagnostics`: confusion matrices and link-score reliability;
- :mod:`argmine.evaluation.report`: the plain-text report;
- :mod:`argmine.evaluation.plots`: the plots of ``argmine evaluate --plots`` (matplotlib);
- :mod:`argmine.evaluation.lengths`: link figures by document length (dev comments joined into
  article-length texts);
- :mod:`argmine.evaluation.promises`: the project's promises on the ContactPoint article;
- :mod:`argmine.evaluation.paired`: dev measures with per-document counts, for comparing two
  models on the same documents (``training/compare.py``).
"""

from argmine.evaluation.report import format_report
from argmine.evaluation.scores import (
    argument_scores,
    bootstrap_intervals,
    counterfactual_scores,
    cross_validate,
    end_to_end_scores,
    evaluate,
    given_units_scores,
    microtext_scores,
    proposition_type_scores,
    split_by_annotation,
    with_links_from,
)

__all__ = [
    "argument_scores",
    "bootstrap_intervals",
    "counterfactual_scores",
    "cross_validate",
    "end_to_end_scores",
    "evaluate",
    "format_report",
    "given_units_scores",
    "microtext_scores",
    "proposition_type_scores",
    "split_by_annotation",
    "with_links_from",
]

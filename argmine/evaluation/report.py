"""The plain-text report of a model's scores (logged after training, printed by
``argmine evaluate``)."""

from __future__ import annotations

from typing import Any


def format_report(scores: dict[str, Any], title: str = "") -> str:
    """A plain-text table of the headline numbers of :func:`evaluate`."""
    lines = [f"== {title} ({scores.get('documents', '?')} documents)"] if title else []
    if "given_units" in scores:
        gu = scores["given_units"]
        intervals = gu.get("intervals_95", {})
        lines += [
            "given units:",
            f"  component macro-F1      {gu['component_macro_f1']:.3f}   "
            + "  ".join(f"{t}={f:.3f}" for t, f in gu["component_f1_per_type"].items())
            + _after(interval(intervals.get("component_macro_f1"))),
            f"  link F1                 {gu['link']['f1']:.3f}   "
            f"(P={gu['link']['precision']:.3f} R={gu['link']['recall']:.3f})"
            + _after(interval(intervals.get("link_f1"))),
            f"  relation-type accuracy  {gu['relation_type_accuracy_on_correct_links']:.3f}",
        ]
        if "proposition_type" in gu:
            pt = gu["proposition_type"]
            lines.append(
                f"  proposition type macro-F1 {pt['macro_f1']:.3f} "
                + "  ".join(f"{t}={f:.3f}" for t, f in pt["f1_per_label"].items())
            )
    if "end_to_end" in scores:
        e2e = scores["end_to_end"]
        lines += [
            "end to end:",
            f"  component F1 (overlap)  {e2e['component_overlap']['macro_f1']:.3f}",
            f"  component F1 (exact)    {e2e['component_exact']['macro_f1']:.3f}",
            f"  relation F1             {e2e['relation']['f1']:.3f}",
        ]
    if "counterfactual" in scores:
        cf = scores["counterfactual"]
        lines += [
            f"counterfactuals ({cf['sentences']} sentences):",
            *(
                f"  {name:<22}  {cf[key]['f1']:.3f}   "
                f"(P={cf[key]['precision']:.3f} R={cf[key]['recall']:.3f})"
                for name, key in (
                    ("detection F1", "detection"),
                    ("antecedent exact F1", "antecedent_exact"),
                    ("consequent exact F1", "consequent_exact"),
                )
            ),
        ]
    return "\n".join(lines)


def interval(bounds: list[float] | None) -> str:
    """A 95% bootstrap interval in words (``95% CI 0.512 to 0.634``); empty without one."""
    return f"95% CI {bounds[0]:.3f} to {bounds[1]:.3f}" if bounds else ""


def _after(text: str, separator: str = "   ") -> str:
    return separator + text if text else ""

"""A decision tree in words, for a screen too narrow to read its drawing (a phone): each of
the guide's questions with where each answer leads, in the tree's order and the language in
use. Read from the tree itself (``optimizer.recommendation.tree``), never re-typed."""
from __future__ import annotations

from optimizer.recommendation.tree import NO, YES, answer_label
from optimizer.text import tr


def tree_in_words(tree) -> str:
    """Markdown: "**Optimize model?** → Y: Smaller model? · N: Convert to float TFLite
    models." for every question of ``tree``."""
    lines = []
    for node in tree.questions:
        leads = {e.label: tree.node(e.target).text for e in tree.edges if e.source == node.id}
        answers = " · ".join(f"**{answer_label(label)}**: {tr(leads[label])}"
                             for label in (YES, NO) if label in leads)
        lines.append(f"- **{tr(node.text)}** → {answers}")
    return "\n".join(lines)

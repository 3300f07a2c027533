"""The guide's two decision trees as data: nodes with stable ids, exact texts, Y/N edges.

``QUANT_TREE`` is the quantization decision tree of the LiteRT "Model optimization" guide (the
image with green questions and orange techniques), transcribed exactly: questions ``Q1``..``Q6``
and leaves ``L_*``, each leaf naming its ``TechniqueId``. As in the image, the answer N to
"Have representative dataset?" leads to the *same* leaf as N to "More efforts required?"
(``L_DYNAMIC_RANGE`` has two incoming edges), so the tree has six leaf boxes and seven
root-to-leaf paths. ``PTQ_TREE`` is the companion "Post-training quantization" page's tree
(questions ``P1``..``P4``, leaves ``PL_*``); the recommendation cites it where the target
hardware decides between post-training variants.

Both are plain frozen data (no TensorFlow, no UI) so the app can draw them, the recommender can
walk them and the tests can enumerate every path.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from optimizer.guide.registry import GUIDE, GUIDE_PTQ, TechniqueId
from optimizer.text import N_, trc

YES, NO = "Y", "N"


def answer_label(answer: str) -> str:
    """An edge's answer as the trees show it: "Y" / "N" in English (the guide's image),
    "Có" / "Không" in Vietnamese."""
    return trc("tree edge", "Y") if answer == YES else trc("tree edge", "N")


class NodeKind(str, Enum):
    """A question box (green in the guide's image) or a technique leaf (orange)."""

    QUESTION = "question"
    LEAF = "leaf"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class TreeNode:
    """One box of a tree: ``id`` is stable (Q1.., L_..), ``text`` is the guide's wording."""

    id: str
    kind: NodeKind
    text: str
    technique: TechniqueId | None = None

    @property
    def is_leaf(self) -> bool:
        return self.kind == NodeKind.LEAF

    def to_dict(self) -> dict:
        return {"id": self.id, "kind": self.kind.value, "text": self.text,
                "technique": self.technique.value if self.technique else None}


@dataclass(frozen=True)
class TreeEdge:
    """An arrow from a question to the next box, labelled with the answer "Y" or "N"."""

    source: str
    target: str
    label: str

    def to_dict(self) -> dict:
        return {"source": self.source, "target": self.target, "label": self.label}


@dataclass(frozen=True)
class DecisionTree:
    """A yes/no decision tree whose leaves are techniques; validated when built.

    Every question has exactly one Y and one N edge, every leaf names a technique, every node
    is reachable from ``root``. Leaves may have several incoming edges (a shared box).
    """

    name: str
    source: str
    root: str
    nodes: tuple[TreeNode, ...]
    edges: tuple[TreeEdge, ...]

    def __post_init__(self) -> None:
        ids = [n.id for n in self.nodes]
        if len(set(ids)) != len(ids):
            raise ValueError(f"tree '{self.name}' has duplicate node ids; give every box its "
                             f"own id")
        known = set(ids)
        for edge in self.edges:
            if edge.source not in known or edge.target not in known:
                raise ValueError(f"tree '{self.name}': edge {edge.source}->{edge.target} names an "
                                 f"unknown node; add the node or fix the edge")
            if edge.label not in (YES, NO):
                raise ValueError(f"tree '{self.name}': edge {edge.source}->{edge.target} is "
                                 f"labelled '{edge.label}'; use 'Y' or 'N'")
        for node in self.nodes:
            labels = sorted(e.label for e in self.edges if e.source == node.id)
            if node.is_leaf and (labels or node.technique is None):
                raise ValueError(f"tree '{self.name}': leaf {node.id} must name a technique and "
                                 f"have no outgoing edges")
            if not node.is_leaf and labels != [NO, YES]:
                raise ValueError(f"tree '{self.name}': question {node.id} needs exactly one Y "
                                 f"and one N edge")
        if self.root not in known or self.node(self.root).is_leaf:
            raise ValueError(f"tree '{self.name}': root '{self.root}' must be a question")
        reached = {leaf for _, leaf in self.paths()} | {s for p, _ in self.paths() for s, _ in p}
        if reached != known:
            raise ValueError(f"tree '{self.name}': unreachable nodes {sorted(known - reached)}; "
                             f"connect them or remove them")

    def node(self, node_id: str) -> TreeNode:
        """The node with this id; ``KeyError`` names the valid ids."""
        for node in self.nodes:
            if node.id == node_id:
                return node
        raise KeyError(f"no node '{node_id}' in tree '{self.name}'; ids: "
                       f"{', '.join(n.id for n in self.nodes)}")

    def next(self, node_id: str, answer: str) -> TreeNode:
        """The node the ``answer`` ("Y" or "N") to question ``node_id`` leads to."""
        for edge in self.edges:
            if edge.source == node_id and edge.label == answer:
                return self.node(edge.target)
        raise KeyError(f"question '{node_id}' has no '{answer}' edge in tree '{self.name}'")

    @property
    def questions(self) -> tuple[TreeNode, ...]:
        return tuple(n for n in self.nodes if not n.is_leaf)

    @property
    def leaves(self) -> tuple[TreeNode, ...]:
        return tuple(n for n in self.nodes if n.is_leaf)

    def paths(self) -> tuple[tuple[tuple[tuple[str, str], ...], str], ...]:
        """Every root-to-leaf path as ``(((question_id, answer), ...), leaf_id)``, Y first."""
        found = []

        def visit(node_id: str, trail: tuple) -> None:
            if len(trail) > len(self.nodes):  # a cycle; __post_init__ reports it as unreachable
                return
            node = self.node(node_id)
            if node.is_leaf:
                found.append((trail, node_id))
                return
            for answer in (YES, NO):
                edge = next((e for e in self.edges
                             if e.source == node_id and e.label == answer), None)
                if edge is not None:
                    visit(edge.target, trail + ((node_id, answer),))

        visit(self.root, ())
        return tuple(found)

    def walk(self, decide: Callable[[TreeNode], bool]) -> tuple[tuple[tuple[str, str], ...], str]:
        """Follow the tree from the root, answering each question with ``decide(node)``.

        Returns ``(((question_id, "Y"|"N"), ...), leaf_id)``.
        """
        steps = []
        node = self.node(self.root)
        while not node.is_leaf:
            answer = YES if decide(node) else NO
            steps.append((node.id, answer))
            node = self.next(node.id, answer)
        return tuple(steps), node.id

    def to_dict(self) -> dict:
        """JSON-ready form for drawing: nodes, edges, root and source."""
        return {"name": self.name, "source": self.source, "root": self.root,
                "nodes": [n.to_dict() for n in self.nodes],
                "edges": [e.to_dict() for e in self.edges]}


def _q(node_id: str, text: str) -> TreeNode:
    return TreeNode(node_id, NodeKind.QUESTION, text)


def _leaf(node_id: str, text: str, tid: TechniqueId) -> TreeNode:
    return TreeNode(node_id, NodeKind.LEAF, text, tid)


def _edges(*triples: tuple[str, str, str]) -> tuple[TreeEdge, ...]:
    return tuple(TreeEdge(source, target, label) for source, label, target in triples)


#: The quantization decision tree from the guide's image, exactly as published.
QUANT_TREE = DecisionTree(
    name="quantization decision tree",
    source=GUIDE,
    root="Q1",
    nodes=(
        _q("Q1", N_("Optimize model?")),
        _q("Q2", N_("Want bigger model size reduction?")),
        _q("Q3", N_("More efforts required?")),
        _q("Q4", N_("Able to re-train the model?")),
        _q("Q5", N_("Have representative dataset?")),
        _q("Q6", N_("Want higher accuracy?")),
        _leaf("L_FLOAT32", N_("Convert float TFLite models"), TechniqueId.FLOAT32),
        _leaf("L_FLOAT16", N_("Post-training float16 quantization"), TechniqueId.FLOAT16),
        _leaf("L_DYNAMIC_RANGE", N_("Post-training dynamic range quantization"),
              TechniqueId.DYNAMIC_RANGE),
        _leaf("L_QAT", N_("Quantization-aware training"), TechniqueId.QAT),
        _leaf("L_INT16X8", N_("Post-training integer quantization with int16 activations"),
              TechniqueId.INT16X8),
        _leaf("L_INTEGER", N_("Post-training integer quantization"), TechniqueId.INTEGER),
    ),
    edges=_edges(
        ("Q1", NO, "L_FLOAT32"), ("Q1", YES, "Q2"),
        ("Q2", NO, "L_FLOAT16"), ("Q2", YES, "Q3"),
        ("Q3", NO, "L_DYNAMIC_RANGE"), ("Q3", YES, "Q4"),
        ("Q4", YES, "L_QAT"), ("Q4", NO, "Q5"),
        ("Q5", NO, "L_DYNAMIC_RANGE"), ("Q5", YES, "Q6"),
        ("Q6", YES, "L_INT16X8"), ("Q6", NO, "L_INTEGER"),
    ),
)

#: The image's red footnote: the target hardware constrains the leaf.
QUANT_TREE_FOOTNOTE = N_("Hardware accelerators, such as GPU or DSP, only support a subset of "
                         "our quantization schemes. Make sure to account for your choice of "
                         "accelerators as well.")

#: The companion "Post-training quantization" page's tree.
PTQ_TREE = DecisionTree(
    name="post-training quantization decision tree",
    source=GUIDE_PTQ,
    root="P1",
    nodes=(
        _q("P1", N_("Optimize model?")),
        _q("P2", N_("Limit to float16 supported types (i.e. GPU)?")),
        _q("P3", N_("Have RepresentativeDataset?")),
        _q("P4", N_("Limit to Int8 ops?")),
        _leaf("PL_FLOAT32", N_("Convert to float TFLite models."), TechniqueId.FLOAT32),
        _leaf("PL_FLOAT16", N_("float16: parameters stored as float16, model executes in float32"),
              TechniqueId.FLOAT16),
        _leaf("PL_DYNAMIC_RANGE", N_("dynamic range: integer weights, mixed integer/float execution"),
              TechniqueId.DYNAMIC_RANGE),
        _leaf("PL_INTEGER_ONLY", N_("integer only: weights and activations int8, integer ops only"),
              TechniqueId.INTEGER_ONLY),
        _leaf("PL_INTEGER", N_("integer with float fallback: int8 where possible, float32 otherwise"),
              TechniqueId.INTEGER),
    ),
    edges=_edges(
        ("P1", NO, "PL_FLOAT32"), ("P1", YES, "P2"),
        ("P2", YES, "PL_FLOAT16"), ("P2", NO, "P3"),
        ("P3", NO, "PL_DYNAMIC_RANGE"), ("P3", YES, "P4"),
        ("P4", YES, "PL_INTEGER_ONLY"), ("P4", NO, "PL_INTEGER"),
    ),
)

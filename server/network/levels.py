"""The tree of halls (pure): 市中心 → 分中心 → 便民服务中心 → 代办点, by each hall's parent link.

`subtree(nodes, root)`: the hall and every hall whose parent chain leads to it. `area_of(nodes, hall)`:
where a hall's numbers roll up to: its nearest 市中心 or 分中心, itself included (a town under a
sub-centre counts in that sub-centre's area; a town directly under the city in the city's); a hall
with neither above it is its own area. `in_tree_order`: parents before children, siblings by id.
A parent link to an unknown hall ends the chain there; a circle (the register refuses one) is cut.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

KINDS = ("center", "sub_center", "town", "village")
AREA_KINDS = frozenset({"center", "sub_center"})
KIND_LABELS = {"center": "市中心", "sub_center": "分中心", "town": "便民服务中心", "village": "代办点"}


@dataclass(frozen=True)
class Node:
    hall: str
    kind: str
    parent: str | None


def chain(nodes: Mapping[str, Node], hall: str) -> list[str]:
    """The hall, its parent, its parent's parent, … up to a root."""
    found: list[str] = []
    step: str | None = hall
    while step is not None and step in nodes and step not in found:
        found.append(step)
        step = nodes[step].parent
    return found


def subtree(nodes: Mapping[str, Node], root: str) -> list[str]:
    return [hall for hall in in_tree_order(nodes) if root in chain(nodes, hall)]


def area_of(nodes: Mapping[str, Node], hall: str) -> str:
    above = chain(nodes, hall)
    return next((h for h in above if nodes[h].kind in AREA_KINDS), above[-1] if above else hall)


def in_tree_order(nodes: Mapping[str, Node]) -> list[str]:
    children: dict[str | None, list[str]] = {}
    for node in nodes.values():
        parent = node.parent if node.parent in nodes and node.parent != node.hall else None
        children.setdefault(parent, []).append(node.hall)
    ordered: list[str] = []

    def visit(halls: Iterable[str]) -> None:
        for hall in sorted(halls):
            if hall not in ordered:
                ordered.append(hall)
                visit(children.get(hall, []))

    visit(children.get(None, []))
    visit(nodes)  # halls on a circle have no root: listed after the tree
    return ordered

"""The tree of halls (server/network/levels.py): subtrees, areas, order; a broken link or a circle
does not loop."""

from __future__ import annotations

from server.network.levels import Node, area_of, chain, in_tree_order, subtree

CITY = {
    n.hall: n
    for n in (
        Node("city", "center", None),
        Node("north", "sub_center", "city"),
        Node("baohua", "town", "north"),
        Node("dongshan", "village", "baohua"),
        Node("xiashu", "town", "city"),
        Node("lone", "town", None),
    )
}


def test_a_hall_rolls_up_into_its_nearest_centre_or_sub_centre() -> None:
    assert {hall: area_of(CITY, hall) for hall in CITY} == {
        "city": "city",
        "north": "north",
        "baohua": "north",
        "dongshan": "north",
        "xiashu": "city",
        "lone": "lone",  # nothing above it: its own area
    }


def test_a_subtree_is_the_hall_and_everything_below_it_in_tree_order() -> None:
    assert subtree(CITY, "north") == ["north", "baohua", "dongshan"]
    assert subtree(CITY, "city") == ["city", "north", "baohua", "dongshan", "xiashu"]
    assert subtree(CITY, "dongshan") == ["dongshan"]
    assert in_tree_order(CITY) == ["city", "north", "baohua", "dongshan", "xiashu", "lone"]


def test_a_circle_or_an_unknown_parent_ends_the_chain() -> None:
    broken = {
        "a": Node("a", "town", "b"),
        "b": Node("b", "town", "a"),
        "c": Node("c", "village", "gone"),
    }
    assert chain(broken, "a") == ["a", "b"]
    assert area_of(broken, "c") == "c"
    assert sorted(in_tree_order(broken)) == ["a", "b", "c"]

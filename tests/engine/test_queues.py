"""The bucketed sorted queue behind call-next, checked against a plain sorted list."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from server.engine import queues
from server.engine.queues import OrderedQueue

keys = st.tuples(st.integers(0, 3000), st.integers(0, 3), st.sampled_from("abcdef"))


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.booleans(), keys), max_size=400), st.sampled_from([2, 3, 500]))
def test_matches_a_sorted_list(steps: list[tuple[bool, tuple[int, int, str]]], load: int) -> None:
    original = queues._LOAD
    queues._LOAD = load  # small buckets so that splitting and emptying happen often
    try:
        queue, model = OrderedQueue(), []
        for add, key in steps:
            if add and key not in model:
                queue.add(key)
                model.append(key)
            elif not add and key in model:
                queue.remove(key)
                model.remove(key)
            elif not add:
                with pytest.raises(KeyError):
                    queue.remove(key)
            model.sort()
            assert len(queue) == len(model) and bool(queue) == bool(model)
            assert queue.first() == (model[0] if model else None)
            assert (key in queue) == (key in model)
            assert queue.count_less(key) == sum(1 for k in model if k < key)
        assert list(queue) == model
        assert [queue.nth(i) for i in range(len(model))] == model
        with pytest.raises(IndexError):
            queue.nth(len(model))
    finally:
        queues._LOAD = original

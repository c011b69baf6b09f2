"""SeqTracker: gaps, duplicates, old messages and snapshots."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from hallq.seqtrack import SeqTracker, Verdict


def test_in_order_stream_is_new_after_first() -> None:
    t = SeqTracker("demo")
    assert t.event(5) is Verdict.FIRST
    assert [t.event(s) for s in (6, 7, 8)] == [Verdict.NEW] * 3
    assert t.last == 8 and t.gaps == []


def test_gap_is_reported_with_what_is_missing() -> None:
    t = SeqTracker("demo")
    t.event(1)
    verdict = t.event(5)
    assert verdict is Verdict.GAP and verdict.resync and verdict.apply
    assert t.gaps[-1].missing == 3


def test_duplicates_and_old_are_ignored() -> None:
    t = SeqTracker("demo")
    for s in (1, 2, 3):
        t.event(s)
    assert t.event(3) is Verdict.DUPLICATE and not Verdict.DUPLICATE.apply
    assert t.event(2) is Verdict.DUPLICATE
    assert t.duplicates == 2


def test_late_events_fill_a_hole_once() -> None:
    t = SeqTracker("demo")
    t.event(1)
    assert t.event(4) is Verdict.GAP
    assert t.event(2) is Verdict.NEW
    assert t.event(2) is Verdict.DUPLICATE
    assert t.event(3) is Verdict.NEW
    assert t.event(5) is Verdict.NEW


def test_snapshot_covers_everything_up_to_its_seq() -> None:
    t = SeqTracker("demo")
    t.event(1)
    t.event(5)  # gap: the subscriber resyncs
    assert t.snapshot(9) is Verdict.NEW
    assert t.event(7) is Verdict.OLD  # covered by the snapshot
    assert t.event(10) is Verdict.NEW
    assert t.snapshot(8) is Verdict.OLD  # an older retained board after a newer event: keep ours


def test_first_snapshot_then_events() -> None:
    t = SeqTracker("demo")
    assert t.snapshot(100) is Verdict.FIRST
    assert t.event(101) is Verdict.NEW
    assert t.event(100) is Verdict.OLD


def test_authoritative_snapshot_recovers_from_a_replaced_database() -> None:
    t = SeqTracker("demo")
    t.event(500)
    assert t.snapshot(3) is Verdict.OLD
    assert t.snapshot(3, authoritative=True) is Verdict.NEW
    assert t.event(4) is Verdict.NEW


@given(st.lists(st.integers(min_value=1, max_value=60), min_size=1, max_size=200))
def test_each_seq_applied_at_most_once(stream: list[int]) -> None:
    t = SeqTracker("demo", window=1000)
    applied = [s for s in stream if t.event(s).apply]
    assert len(applied) == len(set(applied))
    assert set(applied) == set(stream) - {s for s in stream if s < stream[0]}

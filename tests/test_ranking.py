"""Unit tests of the filtered-search acceptance rule in `engine.ranking`."""

from __future__ import annotations

import numpy as np

from achroma.engine import ranking
from achroma.engine.ranking import Ranked


def _row(keys: list[int]) -> Ranked:
    return Ranked(np.asarray(keys, dtype=np.uint64), np.arange(len(keys), dtype=np.float32))


def test_hits_stand_when_the_kth_passing_hit_is_in_the_lists_first_half() -> None:
    allowed = np.asarray([2, 5], dtype=np.uint64)
    rows = [_row(list(range(20)))]
    hits = ranking._settled(rows, allowed, 2, total=1000)
    assert hits is not None
    assert hits[0].keys.tolist() == [2, 5]
    assert hits[0].distances.tolist() == [2.0, 5.0]


def test_a_kth_passing_hit_in_the_lists_tail_asks_for_a_wider_search() -> None:
    allowed = np.asarray([2, 15], dtype=np.uint64)
    assert ranking._settled([_row(list(range(20)))], allowed, 2, total=1000) is None


def test_too_few_passing_hits_ask_for_a_wider_search() -> None:
    allowed = np.asarray([2], dtype=np.uint64)
    assert ranking._settled([_row(list(range(20)))], allowed, 2, total=1000) is None


def test_a_list_holding_the_whole_index_is_final_however_deep_its_hits() -> None:
    allowed = np.asarray([2, 15], dtype=np.uint64)
    hits = ranking._settled([_row(list(range(20)))], allowed, 2, total=20)
    assert hits is not None and hits[0].keys.tolist() == [2, 15]

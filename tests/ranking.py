"""A returned ranking checked against the exact one, where distances may tie."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence


def tied_runs(
    distance: Mapping[str, float], tied: Callable[[float, float], bool]
) -> list[list[str]]:
    """The ids in exact order (stable on `distance`'s order), split into runs in which each
    distance is tied with the one before it."""
    runs: list[list[str]] = []
    previous: float | None = None
    for rid in sorted(distance, key=distance.__getitem__):
        if previous is not None and tied(previous, distance[rid]):
            runs[-1].append(rid)
        else:
            runs.append([rid])
        previous = distance[rid]
    return runs


def assert_exact_top_k(
    got: Sequence[str],
    distance: Mapping[str, float],
    k: int,
    tied: Callable[[float, float], bool],
) -> None:
    """Asserts that `got` is the exact top-`k` of the candidates in `distance`.

    Ids come in exact order; a run of tied distances may come in any order (its positions hold
    the same set of ids), and the run cut by `k` may be any of its members.
    """
    want = min(k, len(distance))
    assert len(got) == want, f"{len(got)} results, not {want}: {list(got)}"
    assert len(set(got)) == len(got), f"an id came back twice: {list(got)}"
    start = 0
    for run in tied_runs(distance, tied):
        if start >= want:
            break
        stop = min(start + len(run), want)
        part = set(got[start:stop])
        where = f"positions {start}..{stop - 1}: {sorted(part)}, exact {run}"
        if stop - start == len(run):
            assert part == set(run), f"not the exact ranking at {where}"
        else:
            assert part <= set(run), f"not members of the tied run cut by k={k} at {where}"
        start = stop

"""`VectorGroups`: records whose vectors are identical share one node of the HNSW graph.

HNSW construction degrades badly on exact ties: every candidate of a new copy lies at distance
0, so the search for its neighbours never stops early and each copy costs a walk over all the
others (500 copies of one 3-d vector at max_neighbors=128 took 21 s in a bare USearch index).
Real data has such copies (repeated chunks, empty texts that embed to one vector), so only the
first record of each distinct vector becomes a graph node; the others join its group, found
through a table of vector hashes, and a search expands a node into its group's records.

The table is two sorted arrays (16 bytes per node): it costs little beside the vectors and is
saved with the graph. Groups exist only where copies do.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

Keys = npt.NDArray[np.uint64]
Vectors = npt.NDArray[np.float32]

ABSENT = np.uint64(2**64 - 1)

# Per-dimension odd multipliers of the vector hash (fixed: saved tables must stay valid).
_MULTIPLIERS = np.random.default_rng(0x5EED).integers(1, 2**63, size=65_536, dtype=np.uint64) | 1
# Rows hashed at a time, to bound the temporary (rows x dimension x 8 bytes).
_HASH_ROWS = 4096


def canonical(vectors: Vectors) -> Vectors:
    """The vectors with -0.0 turned into 0.0, so equal values have equal bytes."""
    out: Vectors = np.ascontiguousarray(vectors, dtype=np.float32) + np.float32(0.0)
    return out


def vector_hashes(vectors: Vectors) -> Keys:
    """A 64-bit hash of each row's bytes (of `canonical` rows)."""
    n, d = vectors.shape
    words = np.ascontiguousarray(vectors).view(np.uint32)
    if d > len(_MULTIPLIERS):
        raise ValueError(f"vectors of dimension {d} are not supported")
    weights = _MULTIPLIERS[:d]
    out = np.empty(n, dtype=np.uint64)
    for start in range(0, n, _HASH_ROWS):
        chunk = words[start : start + _HASH_ROWS].astype(np.uint64)
        mixed = (chunk * weights).sum(axis=1, dtype=np.uint64)  # wraps mod 2**64, on purpose
        out[start : start + _HASH_ROWS] = mixed ^ (mixed >> np.uint64(29))
    return out


@dataclass
class Group:
    """Record keys sharing one vector, in key (insertion) order; `node` is in the graph."""

    node: int
    keys: list[int] = field(default_factory=list)


class VectorGroups:
    """The hash table of graph nodes, and the groups of records that share a node."""

    def __init__(self) -> None:
        self._hashes = np.empty(0, dtype=np.uint64)  # sorted
        self._nodes = np.empty(0, dtype=np.uint64)  # the node of each hash
        self._groups: dict[int, Group] = {}  # every key of a group of 2+ -> its group
        self._members = 0  # grouped records that are not their group's node

    # --- the hash table ---

    def lookup(self, hashes: Keys) -> Keys:
        """The node holding each hash, or ABSENT."""
        if len(self._hashes) == 0:
            return np.full(len(hashes), ABSENT, dtype=np.uint64)
        at = np.searchsorted(self._hashes, hashes)
        at_clipped = np.minimum(at, len(self._hashes) - 1)
        hit = self._hashes[at_clipped] == hashes
        return np.where(hit, self._nodes[at_clipped], ABSENT)

    def insert(self, hashes: Keys, nodes: Keys) -> None:
        if len(hashes) == 0:
            return
        order = np.argsort(hashes, kind="stable")
        hashes, nodes = hashes[order], nodes[order]
        at = np.searchsorted(self._hashes, hashes)
        self._hashes = np.insert(self._hashes, at, hashes)
        self._nodes = np.insert(self._nodes, at, nodes)

    def discard(self, nodes: Keys) -> None:
        """Forget the hash entries of these nodes (those that have one)."""
        if len(nodes) == 0 or len(self._nodes) == 0:
            return
        keep = ~np.isin(self._nodes, nodes)
        self._hashes, self._nodes = self._hashes[keep], self._nodes[keep]

    def renamed(self, old: int, new: int) -> None:
        self._nodes[self._nodes == np.uint64(old)] = np.uint64(new)

    # --- groups ---

    def __len__(self) -> int:
        """Records that are in a group but not its node (they add to the graph's size)."""
        return self._members

    def group_of(self, key: int) -> Group | None:
        return self._groups.get(key)

    def has_groups(self) -> bool:
        return bool(self._groups)

    def join(self, node: int, keys: list[int]) -> None:
        """Put `keys` (not in the graph) in the group of graph node `node`."""
        group = self._groups.get(node)
        if group is None:
            group = Group(node, [node])
            self._groups[node] = group
        for key in keys:
            bisect.insort(group.keys, key)
            self._groups[key] = group
        self._members += len(keys)

    def leave(self, keys: list[int]) -> tuple[list[int], list[tuple[int, int]]]:
        """Take grouped records out of their groups.

        Returns the nodes left without records (to remove from the graph), and the
        (old, new) renames of nodes whose record left while others remain.
        """
        by_group: dict[int, tuple[Group, set[int]]] = {}
        for key in keys:
            group = self._groups.pop(key, None)
            if group is not None:
                by_group.setdefault(id(group), (group, set()))[1].add(key)
        emptied: list[int] = []
        renames: list[tuple[int, int]] = []
        for group, gone in by_group.values():
            self._members -= len(group.keys) - 1
            group.keys = [k for k in group.keys if k not in gone]
            self._members += max(0, len(group.keys) - 1)
            if not group.keys:
                emptied.append(group.node)
                continue
            if group.node in gone:
                renames.append((group.node, group.keys[0]))
                group.node = group.keys[0]
            if len(group.keys) == 1:
                del self._groups[group.keys[0]]
        return emptied, renames

    def expand(self, node: int, limit: int) -> list[int]:
        """The first `limit` record keys of a node's group (the node alone if ungrouped)."""
        group = self._groups.get(node)
        return [node] if group is None else group.keys[:limit]

    # --- saving ---

    def to_arrays(self) -> dict[str, npt.NDArray[np.uint64]]:
        groups = {id(g): g for g in self._groups.values()}.values()
        members = [(k, g.node) for g in groups for k in g.keys if k != g.node]
        pairs = np.asarray(members, dtype=np.uint64).reshape(-1, 2)
        return {"hashes": self._hashes, "nodes": self._nodes, "members": pairs}

    @classmethod
    def from_arrays(cls, arrays: dict[str, npt.NDArray[np.uint64]]) -> VectorGroups:
        groups = cls()
        hashes, nodes = arrays["hashes"], arrays["nodes"]
        if hashes.shape != nodes.shape or np.any(hashes[1:] < hashes[:-1]):
            raise ValueError("inconsistent vector hash table")
        groups._hashes, groups._nodes = hashes.astype(np.uint64), nodes.astype(np.uint64)
        by_node: dict[int, list[int]] = {}
        for member, node in arrays["members"].tolist():
            by_node.setdefault(int(node), []).append(int(member))
        for node, members in by_node.items():
            groups.join(node, members)
        return groups

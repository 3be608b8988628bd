"""Merkle tree hashing, inclusion and consistency proofs as in RFC 6962 / RFC 9162 (§2.1).

Leaves are hashed as SHA-256(0x00 || data) and interior nodes as
SHA-256(0x01 || left || right); the tree of n leaves splits at the largest power of
two smaller than n. The empty tree's hash is SHA-256 of nothing.

Everything here works on leaf *hashes* (bytes of 32), so a caller can keep the
hashes in a table and never reload the leaves' data. No I/O, no framework.
"""

from __future__ import annotations

import hashlib
from bisect import bisect_left
from collections.abc import Iterable, Sequence

HASH_SIZE = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()


class ProofError(ValueError):
    """A proof does not verify; the message says why."""


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(LEAF_PREFIX + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def root(hashes: Sequence[bytes]) -> bytes:
    """MTH over leaf hashes (RFC 9162 §2.1.1)."""
    n = len(hashes)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return hashes[0]
    k = _split(n)
    return node_hash(root(hashes[:k]), root(hashes[k:]))


class CompactRange:
    """The root of a growing tree from the perfect subtrees on its right edge.

    `append` is amortised O(1), `root` O(log n); used to compute the root at many
    tree sizes in one pass over the leaves.
    """

    def __init__(self) -> None:
        self.size = 0
        self._stack: list[tuple[int, bytes]] = []  # (subtree size, hash), sizes decreasing

    def append(self, leaf: bytes) -> None:
        self._stack.append((1, leaf))
        self.size += 1
        while len(self._stack) >= 2 and self._stack[-1][0] == self._stack[-2][0]:
            (size, right), (_, left) = self._stack.pop(), self._stack.pop()
            self._stack.append((2 * size, node_hash(left, right)))

    def extend(self, leaves: Iterable[bytes]) -> None:
        for leaf in leaves:
            self.append(leaf)

    def root(self) -> bytes:
        if not self._stack:
            return EMPTY_ROOT
        result = self._stack[-1][1]
        for _, left in reversed(self._stack[:-1]):
            result = node_hash(left, result)
        return result


# -- proofs -----------------------------------------------------------------------------


def inclusion_proof(index: int, hashes: Sequence[bytes]) -> list[bytes]:
    """PATH(m, D[n]) (RFC 9162 §2.1.3.1): the audit path of leaf `index`."""
    return inclusion_proofs([index], hashes)[index]


def inclusion_proofs(indices: Iterable[int], hashes: Sequence[bytes]) -> dict[int, list[bytes]]:
    """The audit paths of several leaves from one pass over the tree: O(n + k log n).

    Proving each leaf on its own would hash the whole tree once per leaf; here the
    PATH recursion descends into both halves at once, and a subtree holding none of
    the wanted leaves is hashed once, its root shared by every path that needs it.
    """
    n = len(hashes)
    wanted = sorted(set(indices))
    for index in wanted[:1] + wanted[-1:]:
        if not 0 <= index < n:
            raise ValueError(f"leaf {index} is not in a tree of {n} leaves")
    proofs: dict[int, list[bytes]] = {index: [] for index in wanted}
    if wanted:
        _paths(hashes, 0, n, wanted, 0, len(wanted), proofs)
    return proofs


def _paths(hashes: Sequence[bytes], lo: int, hi: int, wanted: list[int], first: int, last: int,
           proofs: dict[int, list[bytes]]) -> bytes:
    """Extends the paths of wanted[first:last] (all in [lo, hi)) and returns MTH(hashes[lo:hi])."""
    if hi - lo == 1:
        return hashes[lo]
    mid = lo + _split(hi - lo)
    cut = bisect_left(wanted, mid, first, last)
    left = _paths(hashes, lo, mid, wanted, first, cut, proofs) if cut > first else _range_root(hashes, lo, mid)
    right = _paths(hashes, mid, hi, wanted, cut, last, proofs) if last > cut else _range_root(hashes, mid, hi)
    # Paths run leaf to root, so the sibling is appended after the deeper levels.
    for index in wanted[first:cut]:
        proofs[index].append(right)
    for index in wanted[cut:last]:
        proofs[index].append(left)
    return node_hash(left, right)


def _range_root(hashes: Sequence[bytes], lo: int, hi: int) -> bytes:
    """MTH(hashes[lo:hi]) level by level, without the recursion's slicing.

    Pairing neighbours and carrying an odd last node up unchanged gives the same tree
    as splitting at the largest power of two: each split's left part is a power of two,
    so no pair ever straddles a split.
    """
    if lo >= hi:
        return EMPTY_ROOT
    level = list(hashes[lo:hi])
    sha256, prefix = hashlib.sha256, NODE_PREFIX
    while len(level) > 1:
        # One iterator zipped with itself yields the level's pairs; an odd last hash has no
        # partner (not strict) and is carried up below.
        pairs = iter(level)
        upper = [sha256(prefix + left + right).digest() for left, right in zip(pairs, pairs, strict=False)]
        if len(level) & 1:
            upper.append(level[-1])
        level = upper
    return level[0]


def consistency_proof(first: int, hashes: Sequence[bytes]) -> list[bytes]:
    """PROOF(m, D[n]) (RFC 9162 §2.1.4.1) between the first `first` leaves and all of them."""
    n = len(hashes)
    if not 0 <= first <= n:
        raise ValueError(f"a tree of {n} leaves has no earlier size {first}")
    if first == 0 or first == n:
        return []
    return _subproof(first, hashes, True)


def _subproof(m: int, hashes: Sequence[bytes], complete: bool) -> list[bytes]:
    n = len(hashes)
    if m == n:
        return [] if complete else [root(hashes)]
    k = _split(n)
    if m <= k:
        return [*_subproof(m, hashes[:k], complete), root(hashes[k:])]
    return [*_subproof(m - k, hashes[k:], False), root(hashes[:k])]


def _check_sizes(proof: Sequence[bytes]) -> None:
    for i, h in enumerate(proof):
        if len(h) != HASH_SIZE:
            raise ProofError(f"proof element {i} is {len(h)} bytes, not {HASH_SIZE}")


def root_from_inclusion_proof(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """The root the audit path leads to (RFC 9162 §2.1.3.2)."""
    if index >= size:
        raise ProofError(f"leaf index {index} is beyond tree size {size}")
    if len(leaf) != HASH_SIZE:
        raise ProofError(f"the leaf hash is {len(leaf)} bytes, not {HASH_SIZE}")
    _check_sizes(proof)
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ProofError("the inclusion proof is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the inclusion proof is shorter than the tree is deep")
    return r


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], expected_root: bytes) -> None:
    """Raises ProofError unless `leaf` is leaf `index` of the tree of `size` with `expected_root`."""
    got = root_from_inclusion_proof(index, size, leaf, proof)
    if got != expected_root:
        raise ProofError(
            f"leaf {index} does not lead to the root of tree size {size} "
            f"(got {got.hex()}, expected {expected_root.hex()})"
        )


def verify_consistency(first: int, second: int, first_root: bytes, second_root: bytes,
                       proof: Sequence[bytes]) -> None:
    """Raises ProofError unless the tree of `second` leaves extends the tree of `first` (§2.1.4.2)."""
    if second < first:
        raise ProofError(f"tree size {second} is smaller than the earlier size {first}: rolled back")
    if first == second:
        if proof:
            raise ProofError("equal tree sizes take an empty consistency proof")
        if first_root != second_root:
            raise ProofError(f"two different roots for the same tree size {first}")
        return
    if first == 0:
        if proof:
            raise ProofError("a proof from the empty tree must be empty")
        return
    if not proof:
        raise ProofError(f"an empty consistency proof between sizes {first} and {second}")
    _check_sizes(proof)
    path = list(proof)
    if first & (first - 1) == 0:  # an exact power of two: the first root is a node of the proof
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("the consistency proof is longer than it should be")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the consistency proof is shorter than it should be")
    if fr != first_root:
        raise ProofError(f"the consistency proof does not lead to the root of tree size {first}")
    if sr != second_root:
        raise ProofError(f"the consistency proof does not lead to the root of tree size {second}")

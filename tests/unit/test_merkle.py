"""RFC 6962 / RFC 9162 Merkle hashing and proofs against published test vectors.

The vectors are those of the Certificate Transparency reference implementation's
8-leaf tree, as carried by transparency-dev/merkle, `proof/verify_test.go`
(commit 02194e9afb6c1d95b5381350007963aa70fff472): `leaves`, `roots` (the root of the
tree of the first 1..8 leaves), `inclusionProofs` (leaf numbers there are 1-based)
and `consistencyProofs`. The corruptions below are the ones that file applies.
"""

import hashlib
import random

import pytest

from shared.infra.integrity import merkle
from shared.infra.integrity.merkle import ProofError

LEAVES = [bytes.fromhex(h) for h in (
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f",
)]
ROOTS = [bytes.fromhex(h) for h in (
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
)]
EMPTY = bytes.fromhex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")


def h(*hexes):
    return [bytes.fromhex(x) for x in hexes]


# (1-based leaf, tree size, proof)
INCLUSION = [
    (1, 1, []),
    (1, 8, h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
             "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
             "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4")),
    (6, 8, h("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
             "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
             "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")),
    (3, 3, h("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")),
    (2, 5, h("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
             "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
             "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b")),
]

CONSISTENCY = [
    (1, 1, []),
    (1, 8, h("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
             "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
             "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4")),
    (6, 8, h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
             "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
             "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")),
    (2, 5, h("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
             "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b")),
    (6, 7, h("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
             "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
             "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7")),
]

LEAF_HASHES = [merkle.leaf_hash(d) for d in LEAVES]


def test_leaf_and_node_hashes_use_distinct_prefixes():
    assert merkle.leaf_hash(b"") == hashlib.sha256(b"\x00").digest()
    assert merkle.node_hash(b"a", b"b") == hashlib.sha256(b"\x01ab").digest()
    assert merkle.root([]) == EMPTY == merkle.EMPTY_ROOT


@pytest.mark.parametrize("size", range(1, 9))
def test_roots_of_the_reference_tree(size):
    assert merkle.root(LEAF_HASHES[:size]) == ROOTS[size - 1]
    compact = merkle.CompactRange()
    compact.extend(LEAF_HASHES[:size])
    assert compact.root() == ROOTS[size - 1]


@pytest.mark.parametrize("leaf,size,proof", INCLUSION)
def test_inclusion_proofs_generated_and_verified(leaf, size, proof):
    index = leaf - 1
    assert merkle.inclusion_proof(index, LEAF_HASHES[:size]) == proof
    merkle.verify_inclusion(index, size, LEAF_HASHES[index], proof, ROOTS[size - 1])


@pytest.mark.parametrize("leaf,size,proof", [v for v in INCLUSION if v[2]])
def test_corrupted_inclusion_proofs_are_refused(leaf, size, proof):
    index, root, leaf_hash = leaf - 1, ROOTS[size - 1], LEAF_HASHES[leaf - 1]
    probes = [
        (index - 1, size, leaf_hash, proof, root), (index + 1, size, leaf_hash, proof, root),
        (index ^ 2, size, leaf_hash, proof, root), (index, size * 2, leaf_hash, proof, root),
        (index, size // 2, leaf_hash, proof, root), (index, size, b"WrongLeaf", proof, root),
        (index, size, leaf_hash, proof, EMPTY), (index, size, leaf_hash, proof, SOME_HASH),
        (index, size, leaf_hash, [*proof, b""], root), (index, size, leaf_hash, [*proof, root], root),
        (index, size, leaf_hash, [b"", *proof], root), (index, size, leaf_hash, [root, *proof], root),
        (index, size, leaf_hash, proof[:-1], root),
    ]
    for i in range(len(proof)):
        flipped = list(proof)
        flipped[i] = bytes([flipped[i][0] ^ 8]) + flipped[i][1:]
        probes.append((index, size, leaf_hash, flipped, root))
    if len(proof) > 1:
        probes.append((index, size, leaf_hash, [proof[0], SOME_HASH, *proof[1:]], root))
    for probe in probes:
        if probe[0] < 0:
            continue
        with pytest.raises(ProofError):
            merkle.verify_inclusion(*probe)


@pytest.mark.parametrize("size1,size2,proof", CONSISTENCY)
def test_consistency_proofs_generated_and_verified(size1, size2, proof):
    assert merkle.consistency_proof(size1, LEAF_HASHES[:size2]) == proof
    merkle.verify_consistency(size1, size2, ROOTS[size1 - 1], ROOTS[size2 - 1], proof)


@pytest.mark.parametrize("size1,size2,proof", [v for v in CONSISTENCY if v[2]])
def test_corrupted_consistency_proofs_are_refused(size1, size2, proof):
    r1, r2 = ROOTS[size1 - 1], ROOTS[size2 - 1]
    probes = [
        (size1 - 1, size2, r1, r2, proof), (size1 + 1, size2, r1, r2, proof), (size1 ^ 2, size2, r1, r2, proof),
        (size1, size2 * 2, r1, r2, proof), (size1, size2 // 2, r1, r2, proof),
        (size1, size2, b"WrongRoot", r2, proof), (size1, size2, r1, b"WrongRoot", proof),
        (size1, size2, r2, r1, proof), (size1, size2, r1, r2, []),
        (size1, size2, r1, r2, [*proof, b""]), (size1, size2, r1, r2, [*proof, r1]),
        (size1, size2, r1, r2, [*proof, r2]), (size1, size2, r1, r2, [b"", *proof]),
        (size1, size2, r1, r2, [r1, *proof]), (size1, size2, r1, r2, [r2, *proof]),
        (size1, size2, r1, r2, [proof[0], *proof]), (size1, size2, r1, r2, proof[:-1]),
    ]
    for i in range(len(proof)):
        flipped = list(proof)
        flipped[i] = bytes([flipped[i][0] ^ 16]) + flipped[i][1:]
        probes.append((size1, size2, r1, r2, flipped))
    for probe in probes:
        with pytest.raises(ProofError):
            merkle.verify_consistency(*probe)


def test_consistency_edge_cases_of_the_reference_verifier():
    merkle.verify_consistency(0, 0, b"r", b"r", [])
    merkle.verify_consistency(0, 1, b"r1", b"r2", [])
    merkle.verify_consistency(1, 1, b"r2", b"r2", [])
    for probe in [(1, 1, b"r1", b"r2", []), (1, 0, b"r1", b"r2", []), (2, 1, b"r1", b"r2", []),
                  (1, 2, b"r1", b"r2", []), (0, 0, EMPTY, EMPTY, [EMPTY]), (0, 1, EMPTY, EMPTY, [EMPTY]),
                  (1, 1, EMPTY, EMPTY, [EMPTY])]:
        with pytest.raises(ProofError):
            merkle.verify_consistency(*probe)


def test_every_generated_proof_of_larger_trees_verifies():
    leaves = [merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(70)]
    for size in (1, 2, 3, 7, 8, 9, 31, 32, 33, 70):
        root = merkle.root(leaves[:size])
        compact = merkle.CompactRange()
        compact.extend(leaves[:size])
        assert compact.root() == root
        for index in range(size):
            merkle.verify_inclusion(index, size, leaves[index], merkle.inclusion_proof(index, leaves[:size]), root)
        for first in range(size + 1):
            merkle.verify_consistency(first, size, merkle.root(leaves[:first]), root,
                                      merkle.consistency_proof(first, leaves[:size]))


def reference_inclusion_proof(index, hashes):
    """PATH(m, D[n]) exactly as RFC 9162 §2.1.3.1 writes it (the module's first version)."""
    n = len(hashes)
    if n == 1:
        return []
    k = 1 << ((n - 1).bit_length() - 1)
    if index < k:
        return [*reference_inclusion_proof(index, hashes[:k]), merkle.root(hashes[k:])]
    return [*reference_inclusion_proof(index - k, hashes[k:]), merkle.root(hashes[:k])]


@pytest.mark.parametrize("size", range(1, 41))
def test_proofs_of_all_leaves_at_once_match_one_at_a_time(size):
    leaves = [merkle.leaf_hash(i.to_bytes(4, "big")) for i in range(size)]
    root = merkle.root(leaves)
    proofs = merkle.inclusion_proofs(range(size), leaves)
    assert sorted(proofs) == list(range(size))
    for index in range(size):
        assert proofs[index] == reference_inclusion_proof(index, leaves)
        assert merkle.inclusion_proof(index, leaves) == proofs[index]
        merkle.verify_inclusion(index, size, leaves[index], proofs[index], root)


@pytest.mark.parametrize("size", [1000, 1024, 1025, 4099])
def test_proofs_of_random_subsets_match_one_at_a_time(size):
    rng = random.Random(size)
    leaves = [rng.randbytes(32) for _ in range(size)]
    root = merkle.root(leaves)
    for k in (1, 2, 5, 20, 64):
        wanted = [*rng.sample(range(size), k), 0, size - 1]
        proofs = merkle.inclusion_proofs(wanted, leaves)
        assert set(proofs) == set(wanted)
        for index in wanted:
            assert proofs[index] == reference_inclusion_proof(index, leaves)
            merkle.verify_inclusion(index, size, leaves[index], proofs[index], root)


def test_inclusion_proofs_of_the_reference_tree():
    for leaf, size, proof in INCLUSION:
        assert merkle.inclusion_proofs([leaf - 1], LEAF_HASHES[:size]) == {leaf - 1: proof}


def test_inclusion_proofs_take_duplicates_and_nothing_and_refuse_leaves_outside_the_tree():
    leaves = LEAF_HASHES[:5]
    assert merkle.inclusion_proofs([3, 3, 1], leaves) == {1: merkle.inclusion_proof(1, leaves),
                                                          3: merkle.inclusion_proof(3, leaves)}
    assert merkle.inclusion_proofs([], leaves) == {}
    assert merkle.inclusion_proofs([], []) == {}
    for bad, hashes in ((5, leaves), (-1, leaves), (0, [])):
        with pytest.raises(ValueError, match="is not in a tree of"):
            merkle.inclusion_proofs([0, bad] if hashes else [bad], hashes)

"""Signed checkpoints: the ledger's Merkle tree head, signed with an Ed25519 key.

A checkpoint says "the first `tree_size` leaves of the ledger's Merkle tree have root
`root`"; it also names its sequence number, the SHA-256 of the previous checkpoint's
body (so checkpoints form a chain of their own) and the signing key's id (SHA-256 of
the raw 32-byte public key). Its body is canonical JSON, signed as bytes; a verifier
needs the body, the signature and a public key it trusts. No I/O beyond the key file.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ORIGIN = "caseplatform/ledger"
GENESIS_PREVIOUS = "0" * 64


class CheckpointError(ValueError):
    """A checkpoint does not verify; the message says which and why."""


# -- keys -------------------------------------------------------------------------------


def load_or_create_key(path: str | os.PathLike) -> Ed25519PrivateKey:
    """The Ed25519 signing key in `path` (PKCS#8 PEM), generated there (mode 0600) if absent."""
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = Ed25519PrivateKey.generate()
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, pem)
        finally:
            os.close(fd)
    loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(loaded, Ed25519PrivateKey):
        raise ValueError(f"{path} does not hold an Ed25519 private key")
    return loaded


def public_bytes(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    pub = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public_key: bytes) -> str:
    """The fingerprint of a raw Ed25519 public key: SHA-256, hex."""
    return hashlib.sha256(public_key).hexdigest()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def unb64(text: str) -> bytes:
    return base64.b64decode(text.encode(), validate=True)


# -- checkpoints ------------------------------------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    tree_size: int
    root: str  # hex
    timestamp: str  # ISO 8601, UTC
    previous: str  # hex SHA-256 of the previous checkpoint's body, zeros for the first
    key_id: str
    origin: str = ORIGIN

    def body(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True, separators=(",", ":")).encode()


@dataclass(frozen=True)
class SignedCheckpoint:
    body: str  # the exact signed bytes, as text
    signature: str  # base64
    public_key: str  # base64 of the raw 32-byte key

    @property
    def checkpoint(self) -> Checkpoint:
        return Checkpoint(**json.loads(self.body))

    def digest(self) -> str:
        """What the next checkpoint's `previous` names."""
        return hashlib.sha256(self.body.encode()).hexdigest()

    def as_dict(self) -> dict:
        return {"body": self.body, "signature": self.signature, "public_key": self.public_key,
                "checkpoint": asdict(self.checkpoint)}

    def to_json(self) -> bytes:
        return json.dumps({"body": self.body, "signature": self.signature, "public_key": self.public_key},
                          sort_keys=True).encode()

    @classmethod
    def from_dict(cls, data: dict) -> SignedCheckpoint:
        return cls(body=data["body"], signature=data["signature"], public_key=data["public_key"])


def sign(checkpoint: Checkpoint, key: Ed25519PrivateKey) -> SignedCheckpoint:
    pub = public_bytes(key)
    if checkpoint.key_id != key_id(pub):
        raise ValueError("the checkpoint names another key than the one signing it")
    body = checkpoint.body()
    return SignedCheckpoint(body=body.decode(), signature=b64(key.sign(body)), public_key=b64(pub))


def new_checkpoint(seq: int, tree_size: int, root: bytes, timestamp: str, previous: SignedCheckpoint | None,
                   key: Ed25519PrivateKey) -> SignedCheckpoint:
    return sign(Checkpoint(
        seq=seq, tree_size=tree_size, root=root.hex(), timestamp=timestamp,
        previous=previous.digest() if previous is not None else GENESIS_PREVIOUS,
        key_id=key_id(public_bytes(key)),
    ), key)


def verify(signed: SignedCheckpoint, trusted_key_id: str | None = None) -> Checkpoint:
    """The checkpoint, once its signature verifies with its key, and that key is the trusted one.

    Without `trusted_key_id` only the checkpoint's own consistency is checked: anyone
    can sign a checkpoint with a key of their own, so a verifier that means it pins the key.
    """
    try:
        cp = signed.checkpoint
        pub = unb64(signed.public_key)
        signature = unb64(signed.signature)
    except (ValueError, TypeError, KeyError) as exc:
        raise CheckpointError(f"the checkpoint cannot be read: {exc}") from None
    label = f"checkpoint {cp.seq} (tree size {cp.tree_size})"
    if key_id(pub) != cp.key_id:
        raise CheckpointError(f"{label} names key {cp.key_id} but carries key {key_id(pub)}")
    try:
        Ed25519PublicKey.from_public_bytes(pub).verify(signature, signed.body.encode())
    except (InvalidSignature, ValueError):
        raise CheckpointError(f"{label}: the signature does not verify with key {cp.key_id}") from None
    if trusted_key_id is not None and cp.key_id != trusted_key_id.lower():
        raise CheckpointError(f"{label} is signed by key {cp.key_id}, not by the trusted key {trusted_key_id}")
    return cp


def verify_sequence(signed: list[SignedCheckpoint], trusted_key_id: str | None) -> list[Checkpoint]:
    """A run of checkpoints in order: each verifies, numbers follow, each names its
    predecessor's digest, and tree sizes never shrink."""
    out: list[Checkpoint] = []
    previous: SignedCheckpoint | None = None
    for s in signed:
        cp = verify(s, trusted_key_id)
        if previous is not None:
            prev_cp = out[-1]
            if cp.seq != prev_cp.seq + 1:
                raise CheckpointError(f"checkpoint {cp.seq} follows checkpoint {prev_cp.seq}: "
                                      f"checkpoint {prev_cp.seq + 1} is missing")
            if cp.previous != previous.digest():
                raise CheckpointError(f"checkpoint {cp.seq} does not name checkpoint {prev_cp.seq} as its predecessor")
            if cp.tree_size < prev_cp.tree_size:
                raise CheckpointError(f"checkpoint {cp.seq} has tree size {cp.tree_size}, smaller than "
                                      f"checkpoint {prev_cp.seq}'s {prev_cp.tree_size}: the ledger shrank")
        elif cp.seq == 1 and cp.previous != GENESIS_PREVIOUS:
            raise CheckpointError("checkpoint 1 names a predecessor")
        out.append(cp)
        previous = s
    return out

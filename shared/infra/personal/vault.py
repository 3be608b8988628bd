"""Sealing personal values before they reach the ledger, and opening them for the people who may read them.

`seal` replaces each personal value of a document (where `shared.domain.personal.personal_paths`
finds one) with its sealed text under its data subject's key (AES-256-GCM, the key id as
associated data, so a sealed value cannot be passed off as another subject's). `reveal` is the
one way a sealed value becomes readable again: every service answers with what it returns, it
opens only the values of the case being shown, writes the erased marker where a key is gone,
and records who was shown whose data, on which route.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from marshmallow import Schema

from shared.domain.personal import KEPT_IN_CLEAR, personal_paths
from shared.domain.sealed import ERASED, SEALED, Sealed, get_at, map_sealed, parse, seal_text, sealed_keys, set_at

from .keystore import Key, KeyStore

_NONCE = 12


def encrypt(key_id: str, key: bytes, plaintext: str) -> str:
    nonce = os.urandom(_NONCE)
    sealed = AESGCM(key).encrypt(nonce, plaintext.encode("utf-8"), key_id.encode())
    return seal_text(key_id, base64.urlsafe_b64encode(nonce + sealed).decode())


def decrypt(key: bytes, sealed: Sealed) -> str | None:
    """The plaintext, or None if the value was not sealed under this key (altered, or another's)."""
    try:
        raw = base64.urlsafe_b64decode(sealed.token)
        return AESGCM(key).decrypt(raw[:_NONCE], raw[_NONCE:], sealed.key_id.encode()).decode("utf-8")
    except (InvalidTag, ValueError):
        return None


class Vault:
    def __init__(self, store: KeyStore):
        self.store = store

    def seal(self, case_id: str, schema: Schema, document: dict[str, Any]) -> dict[str, Any]:
        """A copy of `document` (plain JSON, loaded with `schema`) with every personal value sealed."""
        sealed = _copy(document)
        held: dict[str, Key] = {}
        for value in personal_paths(schema, document):
            plaintext = get_at(document, value.path)
            if not isinstance(plaintext, str) or not plaintext or value.kind in KEPT_IN_CLEAR:
                continue
            key = held.get(value.subject) or self.store.live_key(case_id, value.subject, value.kind)
            held[value.subject] = key
            assert key.key is not None  # live_key gives a live key
            set_at(sealed, value.path, encrypt(key.key_id, key.key, plaintext))
        return sealed

    def seal_value(self, case_id: str, subject: str, kind: str, plaintext: str) -> str:
        """One value of `subject` (a declared relation, an expert's own), sealed under their key."""
        key = self.store.live_key(case_id, subject, kind)
        assert key.key is not None  # live_key gives a live key
        return encrypt(key.key_id, key.key, plaintext)

    def subjects(self, case_id: str, erased_keys: list[str]) -> list[dict[str, Any]]:
        """Whose data the stream `case_id` (a case, a panel) holds: each subject, its kind, and whether
        it is erased (every key of it destroyed or recorded as erased by the stream's events)."""
        by_subject: dict[str, list[Key]] = {}
        for key in self.store.of_case(case_id):
            by_subject.setdefault(key.subject, []).append(key)
        erased = set(erased_keys)
        return [{"subject": subject, "kind": keys[0].kind,
                 "erased": all(k.key is None or k.key_id in erased for k in keys),
                 "erased_at": max((k.destroyed_at.isoformat() for k in keys if k.destroyed_at), default=None)}
                for subject, keys in sorted(by_subject.items())]

    def open(self, document: Any, case_id: str) -> tuple[Any, set[str]]:
        """`document` with the sealed values of `case_id` opened (or marked erased) and any other
        case's left unread; with the subjects whose data it shows."""
        found = self.store.fetch(sealed_keys(document))
        shown: set[str] = set()

        def opened(sealed: Sealed) -> str:
            key = found.get(sealed.key_id)
            if key is None or key.case_id != case_id:
                return SEALED
            if key.key is None:
                return ERASED
            plaintext = decrypt(key.key, sealed)
            if plaintext is None:
                return SEALED
            shown.add(key.subject)
            return plaintext

        return map_sealed(document, opened), shown

    def open_for_delivery(self, value: str) -> str | None:
        """A sealed value (a contact's e-mail address) for the platform's own use in sending a notice
        to that person: the plaintext, None once erased; any other text as it is."""
        sealed = parse(value)
        if sealed is None:
            return value
        key = self.store.fetch([sealed.key_id]).get(sealed.key_id)
        return decrypt(key.key, sealed) if key is not None and key.key is not None else None

    def reveal(self, document: Any, *, case_id: str, reader: Mapping[str, Any], route: str) -> Any:
        """`document` opened for `reader` (an actor record: sub, role, org), the access recorded."""
        opened, shown = self.open(document, case_id)
        if shown:
            self.store.record_access(sub=str(reader.get("sub", "")), role=str(reader.get("role", "")),
                                     org=str(reader.get("org", "")), case_id=case_id, route=route, subjects=shown)
        return opened

    def destroy(self, key_ids: list[str]) -> int:
        return self.store.destroy(key_ids)


def _copy(document: Any) -> Any:
    if isinstance(document, dict):
        return {k: _copy(v) for k, v in document.items()}
    if isinstance(document, list):
        return [_copy(v) for v in document]
    return document

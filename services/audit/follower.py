"""The checkpoint follower inside the audit service, as a nameko extension.

Every `checkpoint_interval` seconds it hashes the ledger's new events into
`event_hashes`, signs a checkpoint when the tree grew, and copies checkpoints the
evidence store lacks to `checkpoints/` there. Several audit processes may run it: a
transaction-scoped advisory lock (PostgreSQL) and the tables' keys keep one writer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import eventlet
from nameko.extensions import DependencyProvider

from shared.infra.config import Settings
from shared.infra.integrity.checkpoints import key_id, load_or_create_key, public_bytes
from shared.infra.integrity.store import IntegrityStore
from shared.infra.objectstore.store import EvidenceStore

log = logging.getLogger(__name__)


@dataclass
class IntegrityContext:
    store: IntegrityStore
    evidence: EvidenceStore
    key_id: str  # the fingerprint of the audit key, the one checkpoints must carry
    public_key: bytes


class CheckpointFollower(DependencyProvider):
    def setup(self) -> None:
        self.settings = Settings.from_nameko(self.container.config)
        self.store = IntegrityStore(self.settings.ledger_url, pool_size=1, max_overflow=1)
        self.key = load_or_create_key(self.settings.checkpoint_key_path)
        self.evidence = EvidenceStore.from_settings(self.settings)
        self.context = IntegrityContext(self.store, self.evidence, key_id(public_bytes(self.key)),
                                        public_bytes(self.key))
        self.bucket_ready = False
        self.running = False

    def start(self) -> None:
        # After every extension's setup(): the service's Ledger has created the event
        # store's table, which the append-only triggers go on.
        self.store.create()
        self.running = True
        self.container.spawn_managed_thread(self._loop, identifier="checkpoint-follower")

    def run_once(self) -> None:
        result = self.store.run_once(self.key)
        if result.checkpoint is not None:
            cp = result.checkpoint.checkpoint
            log.info("checkpoint %d signed: tree size %d, root %s", cp.seq, cp.tree_size, cp.root)
        try:
            if not self.bucket_ready:
                self.evidence.ensure_bucket()
                self.bucket_ready = True
            self.store.publish(self.evidence)
        except Exception as exc:  # noqa: BLE001 - published on a later pass
            log.warning("checkpoints not copied to the evidence store yet: %s", exc)

    def _loop(self) -> None:
        while self.running:
            try:
                self.run_once()
            except Exception as exc:  # noqa: BLE001 - a database outage must not kill the service
                log.warning("checkpoint follower: %s", exc)
            eventlet.sleep(self.settings.checkpoint_interval)

    def stop(self) -> None:
        self.running = False
        self.store.dispose()

    def kill(self) -> None:
        self.stop()

    def get_dependency(self, worker_ctx) -> IntegrityContext:
        return self.context

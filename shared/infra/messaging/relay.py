"""Outbox relay: the ledger's notification log, published to RabbitMQ in commit order.

Nothing is dispatched inline after a save: a command only appends to the
ledger, and the relay carries what was committed. Its position is stored in the
ledger database and moved only after the broker confirmed the batch, so a crash
re-sends (at-least-once) and never skips. Every service process runs a relay;
a leadership lock (PostgreSQL advisory lock, or a file lock beside the SQLite
ledger, shared/infra/messaging/leadership.py) lets exactly one of them publish at a
time. On PostgreSQL the leader waits for the ledger's NOTIFY when it has nothing to
send, rather than polling (shared/infra/messaging/commits.py). Each event goes out as
the integration event shared/infra/messaging/contracts.py declares.
"""

from __future__ import annotations

import contextlib
import json
import time

import sqlalchemy as sa
from amqp.exceptions import MessageNacked
from kombu import Connection, Producer

from shared.infra.config import sqlalchemy_url
from shared.infra.ledger import CaseLedger
from shared.infra.messaging import topology
from shared.infra.messaging.commits import commit_listener
from shared.infra.messaging.contracts import integration_event, routing_key
from shared.infra.messaging.leadership import PositionStore, leadership_for
from shared.infra.pools import engine_options

CONFIRM_TIMEOUT = 30.0  # seconds a batch waits for the broker's confirms before it counts as not sent


class BatchConfirms:
    """The broker's publisher confirms for a whole batch, waited for once.

    A channel in confirm mode numbers its messages 1, 2, ... and the broker acks or nacks
    them, one or `multiple` at once, as it takes them: publishing a batch and then waiting
    for the last one costs one round trip, where a confirm per message costs one each.
    """

    def __init__(self, channel):
        channel.confirm_select()
        channel.events["basic_ack"].add(self._acked)
        channel.events["basic_nack"].add(self._nacked)
        self.channel = channel
        self.published = 0
        self.unconfirmed: set[int] = set()
        self.nacked: set[int] = set()

    def sent(self) -> None:
        self.published += 1
        self.unconfirmed.add(self.published)

    def _settle(self, delivery_tag: int, multiple: bool) -> set[int]:
        if multiple:
            settled = {tag for tag in self.unconfirmed if tag <= delivery_tag}
        else:
            settled = {delivery_tag} & self.unconfirmed
        self.unconfirmed -= settled
        return settled

    def _acked(self, delivery_tag: int, multiple: bool) -> None:
        self._settle(delivery_tag, multiple)

    def _nacked(self, delivery_tag: int, multiple: bool) -> None:
        self.nacked |= self._settle(delivery_tag, multiple)

    def wait(self, timeout: float) -> None:
        """Returns once the broker has taken every message sent; raises if it refused one or was silent."""
        deadline = time.monotonic() + timeout
        while self.unconfirmed and not self.nacked:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"{len(self.unconfirmed)} messages unconfirmed after {timeout:.0f} s")
            self.channel.connection.drain_events(timeout=remaining)
        if self.nacked:
            raise MessageNacked(f"the broker refused {len(self.nacked)} of the batch's messages")


class Relay:
    def __init__(
        self, ledger: CaseLedger, ledger_url: str, amqp_uri: str, exchange: str,
        batch_size: int = 500, application_name: str | None = None, listener_name: str | None = None,
    ):
        self.ledger = ledger
        # The leader holds one connection for its lock and borrows one more for its position;
        # a standby only tries the lock now and then.
        pool = engine_options(ledger_url, name=application_name, size=1, max_overflow=1)
        self.engine = sa.create_engine(sqlalchemy_url(ledger_url), pool_pre_ping=True, **pool)
        self.positions = PositionStore(self.engine, ledger_url)
        self.leadership = leadership_for(ledger_url, self.engine)
        self.amqp_uri = amqp_uri
        self.exchange = topology.ledger_exchange(exchange)
        self.exchange_name = exchange
        self.batch_size = batch_size
        self.connection: Connection | None = None
        self.producer: Producer | None = None
        self.confirms: BatchConfirms | None = None
        # The position as this relay last read or wrote it. Only the leader writes it, so while
        # the lock is held without a break (one term) the stored one cannot have moved: read
        # again only in a new term.
        self.position: int | None = None
        self.position_term = 0
        # Only the leader listens: a standby holds no connection for it.
        self.listener = commit_listener(ledger, ledger_url, listener_name)

    def _producer(self) -> tuple[Producer, BatchConfirms]:
        """The producer on the relay's channel, with that channel's confirms; opened on first use."""
        if self.producer is None or self.confirms is None:
            self.connection = Connection(self.amqp_uri)
            channel = self.connection.channel()
            topology.declare(channel, self.exchange_name)
            self.confirms = BatchConfirms(channel)
            self.producer = Producer(channel, exchange=self.exchange)
        return self.producer, self.confirms

    def reset_broker(self) -> None:
        if self.connection is not None:
            # The connection is already broken: whatever releasing it raises changes nothing.
            with contextlib.suppress(Exception):
                self.connection.release()
        self.connection = None
        self.producer = None
        self.confirms = None

    @property
    def leads(self) -> bool:
        """As of the last `run_once`: the loop asks this after every pass, so no query here."""
        return self.leadership.held

    def run_once(self) -> int:
        """Publishes the next batch if this relay leads; returns how many events went out."""
        if not self.leadership.acquire():
            self.position = None
            if self.listener is not None:
                self.listener.close()  # a standby does not listen: only the leader's counts against the budget
            return 0
        if self.position is None or self.position_term != self.leadership.term:
            self.position, self.position_term = self.positions.get(), self.leadership.term
        batch = list(self.ledger.notifications(self.position, self.batch_size))
        if not batch:
            return 0
        # Every message made before any is sent: an event the contract does not declare has
        # no routing key, and stops the relay here (loudly, on every pass) rather than being
        # published where no queue takes it.
        bodies = [integration_event(event, notification_id) for notification_id, event in batch]
        keys = [routing_key(body["stream"], body["type"]) for body in bodies]
        producer, confirms = self._producer()
        try:
            for body, key in zip(bodies, keys, strict=True):
                producer.publish(
                    json.dumps(body, ensure_ascii=False),
                    routing_key=key,
                    content_type="application/json",
                    content_encoding="utf-8",
                    message_id=body["message_id"],
                    delivery_mode=2,
                    retry=False,
                )
                confirms.sent()
            confirms.wait(CONFIRM_TIMEOUT)
        except BaseException:
            # Not all confirmed (a nack, a broken connection, no answer): the position stays
            # and the whole batch goes again, on a new channel whose numbering starts afresh.
            self.reset_broker()
            raise
        self.position = None  # unknown until the write is known to have committed
        if self.leadership.move(self.positions, batch[-1][0]):
            self.position = batch[-1][0]
        return len(batch)

    def await_commit(self, timeout: float) -> bool:
        """Waits up to `timeout` for the ledger to commit something; False if it could not (then poll).

        For the leader, after a pass that sent nothing.
        """
        if self.listener is None or not self.leads:
            return False
        return self.listener.wait(timeout)

    def close(self) -> None:
        self.reset_broker()
        if self.listener is not None:
            self.listener.close()
        self.leadership.release()
        self.engine.dispose()

"""The ledger subscription: a service's queue consumed in delivery order, a batch at a time.

A nameko extension (`subscribe` marks the method that gets the events); each message is
an integration event (shared/infra/messaging/contracts.py), handed to the method as the
schema loaded it, in today's shape whatever shape it was sent in.
"""

from __future__ import annotations

import json
import logging
from contextlib import contextmanager
from functools import partial

import amqp.exceptions
import eventlet
import kombu.exceptions
from eventlet.event import Event
from eventlet.queue import LightQueue
from kombu import Connection, Producer
from marshmallow import ValidationError
from nameko.exceptions import ContainerBeingKilled
from nameko.messaging import Consumer, QueueConsumer

from shared.infra.config import Settings
from shared.infra.dependencies import Ledger
from shared.infra.messaging import batches, topology
from shared.infra.messaging.contracts import IntegrationEventSchema
from shared.infra.messaging.provenance import not_the_ledgers, security_log
from shared.infra.outages import is_outage

log = logging.getLogger(__name__)

OUTAGE_PAUSE = 1.0  # seconds an event waits before going back to its queue when a database is down
# What acknowledging, rejecting or parking a message raises when the broker's connection has
# gone: the socket's errors, py-amqp's and kombu's.
BROKER_GONE = (OSError, amqp.exceptions.ConnectionError, kombu.exceptions.OperationalError)


ATTEMPTS = "x-attempts"  # a message's failed attempts so far, carried by its copies round the retry queue
_STOP = object()  # put in a subscriber's waiting queue when it stops


class _InOrderQueueConsumer(QueueConsumer):
    """nameko's QueueConsumer for the ledger subscription: messages in delivery order, a batch's worth in flight.

    nameko's own spawns a thread per message, and the hub does not run them in the order
    they were spawned; LedgerSubscriber.handle_message never blocks, so it is called here,
    in the consuming thread, and a batch holds its queue's order (the relay's commit order).
    The broker delivers only `prefetch_count` unacknowledged messages, and a batch is
    acknowledged once applied: below the batch size, the prefetch would cap the batch.
    """

    @property
    def prefetch_count(self):
        batch_size = Settings.from_nameko(self.container.config).projection_batch_size
        return max(self.container.max_workers, batch_size)

    def handle_message(self, provider, body, message):
        provider.handle_message(body, message)


class LedgerSubscriber(Consumer):
    """Consumes this service's ledger queue; the method gets a list of integration events, as dicts.

    The messages waiting when a batch starts (up to `projection_batch_size`) go to one
    worker, which applies them in one read-model transaction; batches run one at a time
    (shared/infra/messaging/batches.py). A batch of one, or each message of a batch that failed, goes
    through the one-by-one path: a worker of its own, settled alone. There, a failing
    handler's message goes to the retry queue and returns after a delay; after
    `max_delivery_attempts` it is parked with the error. A handler that failed because a
    database is unreachable (shared.infra.outages) did not fail because of its event: the event
    goes back to the queue after a pause without using an attempt, so an outage parks
    nothing, however long it lasts; a batch that meets an outage goes back whole.
    """

    queue_consumer = _InOrderQueueConsumer()

    def __init__(self, **kwargs):
        super().__init__(queue=None, requeue_on_error=False, **kwargs)

    def setup(self) -> None:
        settings = Settings.from_nameko(self.container.config)
        self.max_attempts = settings.max_delivery_attempts
        self.batch_size = settings.projection_batch_size
        self.amqp_uri = settings.amqp_uri
        service = self.container.service_name
        self.queue, self.retry_queue, self.parked_queue = topology.service_queues(service, settings.exchange)
        with Connection(settings.amqp_uri) as conn:
            topology.declare(conn.channel(), settings.exchange, services=[service])
        self.schema = IntegrationEventSchema()
        # Opened by the service's Ledger in its own setup, which may run after this one.
        self.ledger = _ledger_of(self.container)
        self.waiting = LightQueue()
        self.stopping = False
        super().setup()

    def start(self) -> None:
        if self.batch_size > 1:
            self.container.spawn_managed_thread(self._apply_batches, identifier="ledger-subscriber-batches")

    def stop(self) -> None:
        # Messages not yet handed to a worker stay unacknowledged: the broker takes them back.
        self.stopping = True
        self.waiting.put(_STOP)  # wakes the batch loop, which ends
        super().stop()

    def handle_message(self, body, message):
        # Runs in the consuming thread (_InOrderQueueConsumer): it must not block.
        if self.batch_size > 1:
            self.waiting.put((body, message))
        else:
            self.container.spawn_managed_thread(
                partial(self._alone, body, message), identifier=f"{type(self).__name__}.handle_message"
            )

    def _alone(self, body, message) -> None:
        event = self._accept(body, message)
        if event is not None:
            self._one_by_one([(event, message)])

    def _accept(self, body, message) -> dict | None:
        """The integration event in `body`, in today's shape, once shown to be the ledger's own;
        a message that is not one is parked at once (None).

        Parked as it came: a replay sends those very bytes again.
        """
        errors: object  # marshmallow's messages (a list or a dict), or why the body is no JSON
        try:
            if isinstance(body, (bytes, str)):
                body = json.loads(body)
            event = self.schema.load(body)
        except ValidationError as exc:
            errors = exc.messages
        except ValueError as exc:
            errors = f"not JSON: {exc}"
        else:
            return self._the_ledgers(event, body, message)
        with self._broker_may_be_gone(message):
            self._park(message, body, f"not an integration event: {errors}")
        return None

    def _the_ledgers(self, event: dict, body, message) -> dict | None:
        try:
            why = not_the_ledgers(self.ledger.ledger, event, self.schema)
        except Exception as exc:
            if not is_outage(exc):
                raise
            self._requeue_after_outage([(event, message)], exc)
            return None
        if why is None:
            return event
        security_log.warning("SECURITY: %s reached %s but is not the ledger's event (%s); parked, not applied",
                             event["message_id"], self.queue.name, why)
        with self._broker_may_be_gone(message):
            self._park(message, body, f"not the ledger's event: {why}")
        return None

    def _apply_batches(self) -> None:
        while not self.stopping:
            taken = [item for item in batches.take(self.waiting, self.batch_size) if item is not _STOP]
            batch = [(event, message) for event, message in
                     ((self._accept(body, message), message) for body, message in taken) if event is not None]
            if batch and not self.stopping:
                batches.handle(batch, run_batch=self._run_batch, one_by_one=self._one_by_one,
                               acknowledge=self._acknowledge, requeue=self._requeue_after_outage)

    def _worker(self, batch, settle) -> Event:
        """Spawns one worker for the events of `batch`; the Event fires once `settle(result, exc_info)` is done."""
        done = Event()

        def handle_result(worker_ctx, result=None, exc_info=None):
            try:
                settle(result, exc_info)
            finally:
                done.send(None)
            return result, exc_info

        self.container.spawn_worker(
            self, ([event for event, _ in batch],), {},
            context_data=self.unpack_message_headers(batch[0][1]), handle_result=handle_result,
        )
        return done

    def _run_batch(self, batch) -> BaseException | None:
        errors = []
        try:
            self._worker(batch, lambda result, exc_info: errors.append(exc_info[1] if exc_info else None)).wait()
        except ContainerBeingKilled as exc:
            return exc  # each message meets it again alone, and goes back to the queue
        error = errors[0] if errors else None
        if error is not None and not is_outage(error):
            log.info("a batch of %d events was not applied whole (%s: %s); applying them one by one",
                     len(batch), type(error).__name__, _first_line(error))
        return error

    def _one_by_one(self, batch) -> None:
        """Each message as if it had arrived alone, all at once (up to the worker pool's size)."""
        settled = []
        for event, message in batch:
            if self.stopping:
                return
            try:
                settled.append(self._worker([(event, message)], partial(self.handle_message_processed, message)))
            except ContainerBeingKilled:
                with self._broker_may_be_gone(message):
                    self.queue_consumer.requeue_message(message)
        for done in settled:
            done.wait()

    def _acknowledge(self, batch) -> None:
        for _, message in batch:
            with self._broker_may_be_gone(message):
                self.queue_consumer.ack_message(message)

    def _requeue_after_outage(self, batch, error: BaseException) -> None:
        for _, message in batch:
            self._log_outage(message, error)
        eventlet.sleep(OUTAGE_PAUSE)
        # Round the retry queue with the attempts it had: a quorum queue counts a message
        # put back (requeued) towards its delivery limit, and a long outage would park it.
        with self._broker_may_be_gone(batch[0][1]):
            self._move([message for _, message in batch], self.retry_queue.name, _attempts_so_far)

    @staticmethod
    def _log_outage(message, error: BaseException) -> None:
        log.warning("%s not applied, an outage: %s: %s; back to the queue in %.0f s",
                    message.properties.get("message_id"), type(error).__name__, _first_line(error), OUTAGE_PAUSE)

    def handle_message_processed(self, message, result=None, exc_info=None):
        with self._broker_may_be_gone(message):
            self._settle(message, exc_info)

    @contextmanager
    def _broker_may_be_gone(self, message):
        """Keeps the service alive when the broker goes away while a message is being settled.

        nameko kills the whole container when a worker's result handling raises, and its
        own ack only expects py-amqp's ConnectionError, not the socket's: a broker outage at
        the moment of an ack stopped a service for good (tests/faults/test_broker_outage.py).
        The message is still the broker's, unacknowledged: it is delivered again once the
        connection is back, and absorbed if it had been applied.
        """
        try:
            yield
        except BROKER_GONE as exc:
            log.warning("%s not settled, the broker connection went away (%s: %s); it will be delivered again",
                        message.properties.get("message_id"), type(exc).__name__, exc)

    def _settle(self, message, exc_info) -> None:
        if exc_info is None:
            self.queue_consumer.ack_message(message)
            return
        message_id = message.properties.get("message_id")
        if is_outage(exc_info[1]):
            self._log_outage(message, exc_info[1])
            eventlet.sleep(OUTAGE_PAUSE)
            self._move([message], self.retry_queue.name, _attempts_so_far)
            return
        attempts = _attempts_so_far(message) + 1
        reason = f"{exc_info[0].__name__}: {exc_info[1]}"
        if attempts >= self.max_attempts:
            self._park(message, message.payload, reason, attempts)
        else:
            log.warning("%s failed, attempt %d of %d: %s; retried in %d ms", message_id, attempts,
                        self.max_attempts, reason, topology.RETRY_DELAY_MS)
            self._move([message], self.retry_queue.name, lambda _: attempts)

    def _move(self, messages, queue: str, attempts) -> None:
        """Moves `messages` to `queue` (copies the broker confirmed, then acknowledged), each
        with `attempts(message)` as its failed attempts so far.

        Not a reject dead-lettering to the retry queue: the main queue's dead letters go
        to the parked queue (topology.py says why). A message whose channel has gone is
        the broker's again already, and is left to it.
        """
        messages = [m for m in messages if m.channel.connection]
        if not messages:
            return
        with Connection(self.amqp_uri, transport_options={"confirm_publish": True}) as conn:
            producer = Producer(conn.channel())
            for message in messages:
                producer.publish(
                    message.body, exchange="", routing_key=queue,
                    content_type=message.content_type or "application/json",
                    content_encoding=message.content_encoding,
                    message_id=message.properties.get("message_id"),
                    headers={**_own_headers(message), ATTEMPTS: attempts(message)},
                    delivery_mode=2,
                )
        for message in messages:
            self.queue_consumer.ack_message(message)

    def _park(self, message, body, reason: str, attempts: int = 1) -> None:
        log.error("parking %s after %d attempt(s): %s", message.properties.get("message_id"), attempts, reason)
        with Connection(self.amqp_uri, transport_options={"confirm_publish": True}) as conn:
            Producer(conn.channel()).publish(
                body if isinstance(body, (str, bytes)) else json.dumps(body, ensure_ascii=False),
                exchange="",
                routing_key=self.parked_queue.name,
                content_type="application/json",
                message_id=message.properties.get("message_id"),
                headers={"x-error": reason[:1000], ATTEMPTS: attempts},
                delivery_mode=2,
            )
        self.queue_consumer.ack_message(message)


def _ledger_of(container) -> Ledger:
    """The ledger the service opened (its Ledger dependency), against which messages are checked."""
    for extension in container.dependencies:
        if isinstance(extension, Ledger):
            return extension
    raise RuntimeError(f"{container.service_name} subscribes to the ledger's events but declares no Ledger: "
                       "messages could not be checked against the ledger")


def _attempts_so_far(message) -> int:
    """Failed attempts of `message` before this delivery, as the subscriber recorded them."""
    return int((message.headers or {}).get(ATTEMPTS, 0))


def _own_headers(message) -> dict:
    """A message's headers without the broker's bookkeeping (dead-letter history, delivery
    count), which a copy starts afresh."""
    return {k: v for k, v in (message.headers or {}).items()
            if not k.startswith(("x-death", "x-first-death", "x-delivery-count"))}


def _first_line(error: BaseException) -> str:
    return (str(error).splitlines() or [""])[0][:300]


subscribe = LedgerSubscriber.decorator

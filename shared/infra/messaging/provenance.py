"""Whether a message is the ledger's own event: anyone who can publish to the exchange could
otherwise rewrite every read model (issue #18: a forged `case.Withdrawn` with the next version
made intake show a submitted case withdrawn, and the real event of that version was later
discarded as a redelivery).

A consumer compares each message with the event the ledger stores at that stream and
version, field by field, as the relay would have published it. The relay publishes only
committed events, so a real message always finds its event; a message that does not is
parked with the reason and reported on the security log, and never marks its version as
applied, so the real event is applied when it comes.
"""

from __future__ import annotations

import json
import logging

from shared.infra.ledger import CaseLedger
from shared.infra.messaging.contracts import IntegrationEventSchema, message_id

security_log = logging.getLogger("caseplatform.security")

# notification_id is the relay's position in the ledger's feed, not part of the event: a
# stream read does not give it, and nothing is applied from it.
_NOT_COMPARED = {"notification_id"}


def not_the_ledgers(ledger: CaseLedger, event: dict, schema: IntegrationEventSchema) -> str | None:
    """Why `event` (an envelope as IntegrationEventSchema loaded it) is not the event the
    ledger stores; None when it is."""
    stored = ledger.recorded(event["stream_id"], event["version"])
    if stored is None:
        return f"the ledger holds no event {message_id(event['stream_id'], event['version'])}"
    expected = schema.load(json.loads(json.dumps(
        {"message_id": message_id(stored.stream_id, stored.version), **stored.as_dict()}, ensure_ascii=False)))
    differing = sorted(k for k in expected.keys() | event.keys()
                       if k not in _NOT_COMPARED and expected.get(k) != event.get(k))
    if differing:
        return f"it differs from the ledger's event {expected['message_id']} in {', '.join(differing)}"
    return None

"""From an outbox row to its channel: the `send` that `outbox.deliver_due` calls.

What a row's payload holds, by channel:
- email: {"subject", "text_zh", "text_en", optionally "to_name"}; `address` is the e-mail address,
  sealed when it is an application's contact's (issue #21): `opened` gives the address to send to,
  or None once its person's data was erased, which parks the notice (no address to try again);
- webhook: the event's data, sent as the envelope's "data"; `address` is the endpoint's id
  (or its URL), which `endpoints` turns into the URL and the secrets: a secret never sits in
  the outbox. An endpoint that is no longer registered is a permanent failure (parked).
"""

from __future__ import annotations

from collections.abc import Callable

import requests
from sqlalchemy.engine import Row

from shared.infra.notify import mail, webhook
from shared.infra.notify.errors import PermanentFailure


def sender(*, smtp: mail.SmtpSettings | None = None,
           endpoints: Callable[[str], webhook.Endpoint | None] | None = None,
           session: requests.Session | None = None,
           opened: Callable[[str], str | None] = lambda address: address) -> Callable[[Row], None]:
    def send(row: Row) -> None:
        payload = row.payload
        if row.channel == "email" and smtp is not None:
            to = opened(row.address)
            if to is None:
                raise PermanentFailure("the address was erased with its person's data: nothing to send to")
            mail.send(mail.Mail(notification_id=row.id, to=to, subject=payload["subject"],
                                text_zh=payload["text_zh"], text_en=payload["text_en"],
                                to_name=payload.get("to_name", "")), smtp)
        elif row.channel == "webhook" and endpoints is not None:
            endpoint = endpoints(row.address)
            if endpoint is None:
                raise PermanentFailure(f"webhook endpoint {row.address} is no longer registered")
            webhook.post(endpoint, row.id, row.kind, payload, session=session)
        else:
            raise PermanentFailure(f"no {row.channel} delivery is configured")
    return send

"""How a delivery failed: temporary (try again later) or permanent (park it now).

A permanent failure is one that the same message to the same address cannot get past by
waiting: an SMTP server refusing the recipient with a 5xx, a webhook endpoint answering
410 Gone. Everything else (the server down, a 4xx, a timeout) is temporary; the retry
policy's bound parks a delivery that keeps failing, so nothing is ever dropped.
"""

from __future__ import annotations


class DeliveryFailed(Exception):
    permanent = False

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class TemporaryFailure(DeliveryFailed):
    permanent = False


class PermanentFailure(DeliveryFailed):
    permanent = True

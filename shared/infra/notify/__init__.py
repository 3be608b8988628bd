"""Delivery of notifications (issue #20): e-mail through SMTP, signed webhooks, retries and the outbox.

The machinery only: who is told what is the domain's (shared/domain/notifications); the
notifications service wraps these modules. Nothing here depends on nameko.

- errors.py: a failed delivery is temporary (retry later) or permanent (park at once)
- mail.py: one message through an SMTP server, its Message-ID derived from the notification's id
- webhook.py: a signed POST, and the verifier a receiving system uses
- retry.py: when to try again, and when to stop and park
- outbox.py: recorded once, claimed under a lease, marked sent or parked
- dispatch.py: an outbox row to its channel (the `send` of outbox.deliver_due)
"""

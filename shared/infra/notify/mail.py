"""One notification as one e-mail, through a real SMTP server (the standard library's smtplib).

The message has two text/plain parts, the Chinese first and then the English, each with its
Content-Language, in a multipart/mixed: every mail client shows them in that order. (A
multipart/alternative would say the parts are the same thing in different formats, and
clients show only the LAST part they can read: Chinese first would show the English.)
Headers with Chinese in them are encoded as RFC 2047 words by the standard library's
SMTP policy; the bodies are UTF-8.

The Message-ID is derived from the notification's id, never made up at send time: when a
crash between "the server accepted it" and "marked sent" makes the outbox send it again,
the receiver sees the same Message-ID and can drop the copy.

Failures are classified (errors.py): the server refusing THIS recipient or THIS message
with a 5xx is permanent; the server down, a timeout, a 4xx, or a refusal of the platform's
own settings (its login, its sender address, TLS) is temporary: the message is not at fault,
and it goes once the server or the settings are mended (or is parked by the retry bound).
"""

from __future__ import annotations

import hashlib
import re
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from shared.infra.notify.errors import PermanentFailure, TemporaryFailure

SECURITY = ("none", "starttls", "ssl")
_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,100}$")


@dataclass(frozen=True)
class SmtpSettings:
    host: str = "127.0.0.1"
    port: int = 25
    security: str = "none"  # "starttls" (submission, 587) or "ssl" (implicit TLS, 465)
    username: str = ""
    password: str = ""
    sender: str = "notifications@caseplatform.invalid"
    sender_name: str = "揭榜挂帅与标志性产品平台"
    message_id_domain: str = "caseplatform.invalid"
    timeout: float = 30.0
    ca_file: str = ""  # a private CA for the server's certificate; the system's CAs otherwise

    def __post_init__(self) -> None:
        if self.security not in SECURITY:
            raise ValueError(f"SMTP security must be one of {', '.join(SECURITY)}, not {self.security!r}")
        if self.username and self.security == "none":
            # The password would cross the network in the clear.
            raise ValueError("SMTP login needs SMTP_SECURITY=starttls or ssl")

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SmtpSettings:
        security = env.get("SMTP_SECURITY", "none")
        default_port = {"none": 25, "starttls": 587, "ssl": 465}.get(security, 25)
        password = env.get("SMTP_PASSWORD", "")
        if env.get("SMTP_PASSWORD_FILE"):
            password = Path(env["SMTP_PASSWORD_FILE"]).read_text().strip()
        return cls(
            host=env.get("SMTP_HOST", cls.host), port=int(env.get("SMTP_PORT", default_port)),
            security=security, username=env.get("SMTP_USERNAME", ""), password=password,
            sender=env.get("SMTP_FROM", cls.sender), sender_name=env.get("SMTP_FROM_NAME", cls.sender_name),
            message_id_domain=env.get("SMTP_MESSAGE_ID_DOMAIN", cls.message_id_domain),
            timeout=float(env.get("SMTP_TIMEOUT", cls.timeout)), ca_file=env.get("SMTP_CA_FILE", ""),
        )


@dataclass(frozen=True)
class Mail:
    notification_id: str
    to: str
    subject: str
    text_zh: str
    text_en: str
    to_name: str = ""


def message_id(notification_id: str, domain: str) -> str:
    """`<id@domain>`: the id itself when it is safe in the header, else its SHA-256."""
    local = notification_id if _SAFE_ID.match(notification_id) else hashlib.sha256(
        notification_id.encode()).hexdigest()
    return f"<{local}@{domain}>"


def build(mail: Mail, settings: SmtpSettings, *, now: datetime | None = None) -> EmailMessage:
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = Address(settings.sender_name, addr_spec=settings.sender)
    message["To"] = Address(mail.to_name, addr_spec=mail.to)
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(now or datetime.now(UTC))
    message["Message-ID"] = message_id(mail.notification_id, settings.message_id_domain)
    message["X-Caseplatform-Notification"] = mail.notification_id
    message["MIME-Version"] = "1.0"
    message.make_mixed()  # before any Content-* header: make_mixed would move them into a part
    message["Content-Language"] = "zh-CN, en"
    for text, language in ((mail.text_zh, "zh-CN"), (mail.text_en, "en")):
        part = EmailMessage(policy=policy.SMTP)
        # base64 for anything not ASCII: an 8bit body needs a server that announces 8BITMIME.
        part.set_content(text, subtype="plain", charset="utf-8", disposition="inline",
                         cte="7bit" if text.isascii() else "base64")
        part["Content-Language"] = language
        message.attach(part)
    return message


def _tls(settings: SmtpSettings) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=settings.ca_file or None)


def _connect(settings: SmtpSettings) -> smtplib.SMTP:
    if settings.security == "ssl":
        return smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout, context=_tls(settings))
    client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
    if settings.security == "starttls":
        client.starttls(context=_tls(settings))
    return client


def _reply(code: int, text: bytes | str) -> str:
    return f"{code} {text.decode(errors='replace') if isinstance(text, bytes) else text}"


def send(mail: Mail, settings: SmtpSettings, *, now: datetime | None = None) -> str:
    """Hands `mail` to the SMTP server; its Message-ID once the server accepted it.

    Raises TemporaryFailure or PermanentFailure (see the module's docstring).
    """
    message = build(mail, settings, now=now)
    try:
        with _connect(settings) as client:
            if settings.username:
                client.login(settings.username, settings.password)
            client.send_message(message, from_addr=settings.sender, to_addrs=[mail.to])
    except smtplib.SMTPRecipientsRefused as exc:
        code, text = exc.recipients.get(mail.to, next(iter(exc.recipients.values()), (451, b"refused")))
        failure = PermanentFailure if code >= 500 else TemporaryFailure
        raise failure(f"recipient refused: {_reply(code, text)}") from exc
    except smtplib.SMTPDataError as exc:
        failure = PermanentFailure if exc.smtp_code >= 500 else TemporaryFailure
        raise failure(f"message refused: {_reply(exc.smtp_code, exc.smtp_error)}") from exc
    except smtplib.SMTPResponseException as exc:
        # The sender address, the login, the greeting: the platform's settings, not this message.
        raise TemporaryFailure(f"server refused: {_reply(exc.smtp_code, exc.smtp_error)}") from exc
    except (smtplib.SMTPException, OSError) as exc:
        # Refused or lost connections, timeouts, names that do not resolve, TLS failures.
        raise TemporaryFailure(f"server unreachable: {type(exc).__name__}: {exc}") from exc
    return str(message["Message-ID"])

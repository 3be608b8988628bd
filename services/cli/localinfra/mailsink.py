"""A local SMTP server that keeps what it receives: each message a `.eml` file in a folder
(`var/mail/` under `caseplatform run`), so a person trying the system can read what was sent.

aiosmtpd (a real SMTP server) on loopback; `caseplatform run` starts it when SMTP_HOST is not
set, and a deployment sets SMTP_HOST/SMTP_PORT to its own server instead. The files are the
recipients' mail: personal data, so the folder and the files are the owner's alone (0700/0600).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from aiosmtpd.controller import Controller

SUFFIX = ".eml"


class KeepToFolder:
    """aiosmtpd's handler: writes each accepted message to `folder`, named by arrival and a counter."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.folder.chmod(0o700)
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        name = self.folder / f"{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{self.count:06d}{SUFFIX}"
        partial = name.with_suffix(".part")
        header = "".join(f"X-Envelope-To: {rcpt}\r\n" for rcpt in envelope.rcpt_tos).encode()
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(header + envelope.original_content)
        partial.rename(name)  # a reader never sees half a message
        return "250 Message accepted for delivery"


class MailSink:
    def __init__(self, folder: str | os.PathLike, host: str = "127.0.0.1", port: int = 8025):
        self.handler = KeepToFolder(Path(folder))
        self.host, self.port = host, port
        self.controller: Controller | None = None

    def start(self) -> MailSink:
        self.controller = Controller(self.handler, hostname=self.host, port=self.port)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def messages(self) -> list[Path]:
        return sorted(self.handler.folder.glob(f"*{SUFFIX}"))


def main() -> int:
    """`python -m services.cli.localinfra.mailsink <folder> <port>`: the sink in a process of its own."""
    import signal
    import sys

    # Blocked before the server's thread starts (it inherits the mask), so that sigwait gets them.
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM, signal.SIGINT})
    sink = MailSink(sys.argv[1], port=int(sys.argv[2])).start()
    print(f"mail sink: smtp://{sink.host}:{sink.port} -> {sink.handler.folder}", flush=True)
    signal.sigwait({signal.SIGTERM, signal.SIGINT})
    sink.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

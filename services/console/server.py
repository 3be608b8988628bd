"""`caseplatform serve console`: the console in its own process, on CONSOLE_HOST:CONSOLE_PORT
(127.0.0.1:8100). Werkzeug's threaded server: the console's work is waiting on the services'
APIs, and a thread per request keeps it simple; no eventlet here."""

from __future__ import annotations

import signal
import threading

from werkzeug.serving import make_server

from services.console.app import create_app
from services.console.settings import ConsoleSettings


def main() -> int:
    settings = ConsoleSettings.from_env()
    server = make_server(settings.host, settings.port, create_app(settings), threaded=True)

    def shutdown(signum, frame):
        # shutdown() waits for serve_forever to return: call it from another thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, shutdown)
    signal.signal(signal.SIGINT, shutdown)
    print(f"console listening on {settings.public_url}/", flush=True)
    server.serve_forever()
    return 0

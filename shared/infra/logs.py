"""One log format for every service process."""

import logging
import os


def configure_logging() -> None:
    logging.basicConfig(
        level=os.environ.get("LOG_LEVEL", "INFO"),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # kombu and nameko are chatty at INFO about every connection.
    logging.getLogger("kombu").setLevel(logging.WARNING)
    logging.getLogger("nameko").setLevel(logging.WARNING)

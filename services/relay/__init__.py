"""The relay process: the ledger's outbox published to RabbitMQ, and nothing else (issue #18)."""

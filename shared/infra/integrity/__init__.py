"""Tamper evidence for the ledger (issue #8): per-aggregate hash chains, an RFC 6962 Merkle
tree over the notification log, Ed25519-signed checkpoints, and the offline audit bundle.

`merkle`, `chain`, `checkpoints` and `bundle` are pure (no I/O, no nameko, no HTTP);
`store` holds the integrity tables in the ledger database and the follower's pass;
`verify` and `export` combine them with the database and the evidence store.
"""

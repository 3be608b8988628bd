"""Crypto-shredding of personal data (issue #21): the key store (keystore.py) and the vault that
seals values for the ledger and reveals them to readers (vault.py)."""

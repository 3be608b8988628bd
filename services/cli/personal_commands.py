"""The privacy officer's commands on the server (issue #21): a person's copy, and who read whose data.

They open the ledger, intake's, verification's and notifications' read models and the key store as the
services do (the environment's settings). The person looked for is read from standard input as JSON, never
from the command line: a mobile number in argv sits in the shell's history and in every process listing.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime


def copy(args) -> int:
    from services.intake import readmodels as intake_rm
    from services.intake.personal import PersonalDataDesk
    from services.notifications import privacy as notifications_privacy
    from services.notifications import readmodels as notifications_rm
    from services.verification import readmodels as verification_rm
    from services.verification.application import Verification
    from shared.domain.access import Caller
    from shared.domain.errors import ValidationFailed
    from shared.infra.config import Settings
    from shared.infra.ledger import CaseLedger
    from shared.infra.personal.keystore import KeyStore
    from shared.infra.personal.vault import Vault
    from shared.infra.readmodels.store import ReadModelStore

    try:
        asked = json.loads(sys.stdin.read() or "{}")
    except ValueError:
        print('standard input must be a JSON object: {"name": ..., "mobile": ..., "email": ...}', file=sys.stderr)
        return 2
    if not isinstance(asked, dict) or set(asked) - {"name", "mobile", "email"}:
        print("standard input must be a JSON object with name, mobile and/or email", file=sys.stderr)
        return 2
    settings = Settings.from_env()
    ledger, keys = CaseLedger(settings.ledger_url, owner="intake"), KeyStore(settings.personal_keys_url)
    store = ReadModelStore(settings.readmodel_url_for("intake"), intake_rm.metadata)
    contacts = ReadModelStore(settings.readmodel_url_for("verification"), verification_rm.metadata)
    addresses = ReadModelStore(settings.readmodel_url_for("notifications"), notifications_rm.metadata)
    notifications_rm.create_kept(addresses.engine)  # as the service does at its start: the outbox, the addresses
    officer, route, now = Caller(sub=args.officer, role="privacy", org=args.org), "caseplatform personal copy", \
        datetime.now(UTC)
    person = {k: str(v) for k, v in asked.items()}
    try:
        vault = Vault(keys)
        found = PersonalDataDesk(ledger, store, vault, now).copy_for(officer, route=route, **person)
        # The other half: the authorities' contacts, verification's own table.
        found["contacts"] = Verification(ledger, contacts, now, vault).contacts_matching(
            officer, route=route, **person)["contacts"]
        # And notifications' own: the address a profile, an organisation or a notice carried.
        if person.get("email"):
            found["addresses"] = notifications_privacy.copy_for(addresses, keys, officer, person["email"], route)
    except ValidationFailed as refused:
        print(json.dumps({"error": str(refused), "fields": refused.fields}, ensure_ascii=False), file=sys.stderr)
        return 2
    finally:
        ledger.close()
        keys.close()
        store.engine.dispose()
        contacts.engine.dispose()
        addresses.engine.dispose()
    print(json.dumps(found, ensure_ascii=False, indent=2))
    return 0


def access(args) -> int:
    from shared.infra.config import Settings
    from shared.infra.personal.keystore import KeyStore

    keys = KeyStore(Settings.from_env().personal_keys_url)
    try:
        for reading in keys.accesses(case_id=args.case_id, sub=args.sub, limit=args.limit):
            print(json.dumps(reading, ensure_ascii=False))
    finally:
        keys.close()
    return 0

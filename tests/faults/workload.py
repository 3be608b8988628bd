"""The commands the fault tests keep sending, and the check that each one was done whole or not at all.

SAMPLE units of Hubei cities upload their evidence and file signature products under a
SAMPLE copy of 工信厅消费函〔2024〕382号 (deadlines moved ahead), and their city bureaus
record checks on the filed cases. Every answer is kept; `unclean_outcomes` then holds them
against the ledger: an accepted command's event is there, a refused one left no trace, and
every refusal is the API's JSON error.
"""

from __future__ import annotations

import itertools
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import date

import requests

from shared.domain.dossier import dossier_id
from shared.domain.forms.samples import SAMPLE_EVIDENCE
from tests.samples import credit_code, sample_382, signature_form

CITIES = ("420100", "420200", "420500", "420600")  # Wuhan, Huangshi, Yichang, Xiangyang
CHECKS = {k: {"passed": True, "note": "SAMPLE 核实"} for k in ("authenticity", "completeness", "validity")}
_seeds = itertools.count(7_000_000 + uuid.uuid4().int % 1_000_000)


class Party:
    """Requests as one party (role and organisation) over HTTP."""

    def __init__(self, platform, role: str, org: str, region: dict | None = None):
        self.platform, self.role, self.org = platform, role, org
        self.token = platform.token_for(sub=f"sample-{role}-{org}", role=role, org=org, region=region)

    def request(self, method: str, service: str, path: str, *, json_body=None, data: bytes | None = None,
                params: dict | None = None, timeout: float = 60) -> requests.Response:
        return requests.request(method, f"{self.platform.base[service]}/{service}{path}", json=json_body,
                                data=data, params=params, headers={"Authorization": f"Bearer {self.token}"},
                                timeout=timeout)


@dataclass
class Outcome:
    kind: str  # "upload", "file" or "checks"
    party: str  # the acting organisation
    case_id: str | None
    status: int
    body: object

    @property
    def accepted(self) -> bool:
        return 200 <= self.status < 300


class Workload:
    def __init__(self, platform):
        self.platform = platform
        self.call_id = f"sample-382-{uuid.uuid4().hex[:8]}"
        ministry = Party(platform, "ministry", "MIIT")
        response = ministry.request("POST", "intake", "/calls", json_body=sample_382(self.call_id, date.today()))
        assert response.status_code == 201, response.text
        self.bureaus = {city: Party(platform, "city", city) for city in CITIES}
        self.outcomes: list[Outcome] = []
        self.cases: list[tuple[str, str]] = []  # (case id, city) of every accepted filing
        self._lock = threading.Lock()
        self._turn = itertools.count()

    def _keep(self, kind: str, party: Party, case_id: str | None, response: requests.Response) -> Outcome:
        try:
            body = response.json()
        except ValueError:
            body = response.text
        outcome = Outcome(kind, party.org, case_id, response.status_code, body)
        with self._lock:
            self.outcomes.append(outcome)
        return outcome

    def new_unit(self, city: str) -> Party:
        code = credit_code(next(_seeds), city)
        return Party(self.platform, "applicant", code, {"province": "420000", "city": city})

    def upload_evidence(self, unit: Party) -> bool:
        """Uploads the SAMPLE files the form names, as the unit does before filing."""
        for content in SAMPLE_EVIDENCE.values():
            for _ in range(20):
                response = unit.request("POST", "documents", "/uploads", data=content,
                                        params={"filename": "SAMPLE证明材料.pdf"})
                # More uploads at once than the service streams (MAX_CONCURRENT_UPLOADS): the
                # answer says when to come back, and a client does.
                if response.status_code != 503 or response.json().get("error") != "uploads_busy":
                    break
                time.sleep(int(response.headers["Retry-After"]))
            if not self._keep("upload", unit, None, response).accepted:
                return False
        return True

    def file(self, city: str) -> Outcome | None:
        """A new unit of `city` uploads its evidence and files; None if an upload was refused."""
        unit = self.new_unit(city)
        if not self.upload_evidence(unit):
            return None
        return self.submit(unit, city)

    def submit(self, unit: Party, city: str) -> Outcome:
        response = unit.request("POST", "intake", f"/calls/{self.call_id}/cases",
                                json_body=signature_form(unit.org, f"SAMPLE 产品 {unit.org[-8:]}"))
        outcome = self._keep("file", unit, None, response)
        if outcome.accepted:
            outcome.case_id = outcome.body["case_id"]
            with self._lock:
                self.cases.append((outcome.case_id, city))
        return outcome

    def check(self, case_id: str, city: str) -> Outcome:
        bureau = self.bureaus[city]
        response = bureau.request("POST", "verification", f"/cases/{case_id}/checks", json_body=CHECKS)
        return self._keep("checks", bureau, case_id, response)

    def step(self) -> None:
        """The next command: every third one files a new case, the others record checks on a filed one."""
        turn = next(self._turn)
        with self._lock:
            cases = list(self.cases)
        if turn % 3 == 0 or not cases:
            self.file(CITIES[turn % len(CITIES)])
        else:
            case_id, city = cases[turn % len(cases)]
            self.check(case_id, city)

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            self.step()


class CommandStream:
    """`workers` threads sending the workload's commands until `stop()`."""

    def __init__(self, workload: Workload, workers: int = 2):
        self.workload = workload
        self.stopping = threading.Event()
        self.errors: list[BaseException] = []
        self.threads = [threading.Thread(target=self._run, daemon=True) for _ in range(workers)]

    def _run(self) -> None:
        try:
            self.workload.run(self.stopping)
        except BaseException as exc:  # noqa: BLE001 - reported by stop()
            self.errors.append(exc)

    def __enter__(self) -> CommandStream:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=180)
        assert not self.errors, f"the command stream broke: {self.errors!r}"


def unclean_outcomes(workload: Workload, events: list[dict]) -> list[str]:
    """Commands that were half-done, or refused without a clean error; empty when every one was whole."""
    problems = []
    for o in workload.outcomes:
        if not o.accepted and not (isinstance(o.body, dict) and {"error", "message", "fields"} <= set(o.body)):
            problems.append(f"{o.kind} by {o.party}: {o.status} without the API's error shape: {o.body!r:.200}")
    by_case: dict[str, list[dict]] = {}
    for event in events:
        by_case.setdefault(event["stream_id"], []).append(event)

    # Filing: one case per unit whose filing was accepted, none for a unit refused.
    filed = Counter(e["payload"]["applicant"]["credit_code"] for e in events if e["type"] == "Submitted")
    for o in (o for o in workload.outcomes if o.kind == "file"):
        if filed[o.party] != (1 if o.accepted else 0):
            problems.append(f"filing by {o.party} answered {o.status} but the ledger holds {filed[o.party]} case(s)")

    # Checks: as many VerificationRecorded on a case as checks accepted for it, each where the answer said.
    accepted_checks = Counter(o.case_id for o in workload.outcomes if o.kind == "checks" and o.accepted)
    for case_id, _ in workload.cases:
        history = by_case.get(case_id, [])
        recorded = [e for e in history if e["type"] == "VerificationRecorded"]
        if len(recorded) != accepted_checks[case_id]:
            problems.append(f"case {case_id}: {accepted_checks[case_id]} checks accepted, {len(recorded)} recorded")
    for o in (o for o in workload.outcomes if o.kind == "checks" and o.accepted):
        at = [e for e in by_case.get(o.case_id, []) if e["version"] == o.body["version"]]
        if not at or at[0]["type"] != "VerificationRecorded":
            problems.append(f"checks on {o.case_id} answered version {o.body['version']}, the ledger has {at}")

    # Uploads: one deposit in the unit's dossier per upload accepted.
    deposited = Counter(e["stream_id"] for e in events if e["type"] == "DocumentDeposited")
    uploads = Counter(str(dossier_id(o.party)) for o in workload.outcomes if o.kind == "upload" and o.accepted)
    for dossier in set(uploads) | {str(dossier_id(o.party)) for o in workload.outcomes if o.kind == "upload"}:
        if deposited[dossier] != uploads[dossier]:
            problems.append(f"dossier {dossier}: {uploads[dossier]} uploads accepted, {deposited[dossier]} recorded")
    return problems

"""The one way to write a command (shared/application/commands.py): its retry rules, and that it is the only way.

The rules are proven on a SQLite ledger with two writers, the other command saving first
while the loser is deciding (the interleaving a race gives, made deterministic): a
collision is retried when the events in between commute with the decision, or when the
contended aggregate is a place others take, and refused otherwise with nothing of the
loser written. Then the services' code is walked to make sure no fourth way creeps back:
no write to the ledger but through `decide` / `change_case`, no wrapper of its own around them,
no retry loop of its own.
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from shared.application.commands import (
    CHECKS_COMMUTE,
    COMMUTING,
    CONTENDED,
    INDEPENDENT,
    SCORES_COMMUTE,
    change_case,
    decide,
)
from shared.domain.access import Caller
from shared.domain.allocation import Allocation
from shared.domain.case import Level, State
from shared.domain.dossier import Dossier
from shared.domain.errors import ConcurrentUpdate, IllegalTransition, PlacesExhausted
from shared.infra.ledger import CaseLedger
from tests.unit.parties import APPLICANT, EXPERT, PROVINCE
from tests.unit.test_case_transitions import OC_CITY, Step, path_to, submit, verify

ROOT = Path(__file__).resolve().parents[2]
READER = None  # a ledger opened by no service reads and appends nothing


@pytest.fixture
def ledger_of(tmp_path):
    """ledger_of(owner) -> that service's CaseLedger on one SQLite ledger; ledger_of(owner, new=True) opens
    another instance, as a second process of the service would."""
    url = f"sqlite:///{tmp_path}/ledger.db"
    opened: dict[str | None, CaseLedger] = {}
    extra: list[CaseLedger] = []

    def of(owner: str | None, new: bool = False) -> CaseLedger:
        if new:
            extra.append(CaseLedger(url, owner=owner))
            return extra[-1]
        if owner not in opened:
            opened[owner] = CaseLedger(url, owner=owner)
        return opened[owner]

    yield of
    for ledger in [*opened.values(), *extra]:
        ledger.close()


def filed(ledger_of, state: str = State.SUBMITTED, **fields) -> str:
    """A case of a city-then-province call brought to `state` through legal commands; its id."""
    case = submit(OC_CITY, **fields)
    ledger_of("intake").save_case(case)
    for step in path_to(OC_CITY, state):
        step.run(case)
        ledger_of(step.owner).save_case(case)
    return str(case.id)


def types(ledger_of, case_id: str) -> list[str]:
    return [e.type for e in ledger_of(READER).history(case_id)]


def save_step(ledger_of, case_id: str, step: Step) -> None:
    """Another command, deciding and saving on its own."""
    case = ledger_of(step.owner).get_case(case_id)
    step.run(case)
    ledger_of(step.owner).save_case(case)


@dataclass(frozen=True)
class Command:
    step: Step  # the service that appends, and what it does to the case
    event: str  # the type of the event it appends


CHECK = Command(verify(Level.CITY), "VerificationRecorded")
ATTACH = Command(Step("documents", "attach", lambda c: c.attach_evidence(
    actor=APPLICANT, sha256="a" * 64, size=1, content_type="application/pdf", filename="a.pdf", step="submission")),
    "EvidenceAttached")
WITHDRAW = Command(Step("intake", "withdraw", lambda c: c.withdraw(actor=APPLICANT, reason="撤回")), "Withdrawn")


def score(expert: str) -> Command:
    return Command(Step("review", f"score-{expert}", lambda c: c.record_expert_review(
        actor=EXPERT, expert=expert, scores={"innovation": 8}, comment="")), "ExpertReviewed")


# (state, the loser's command, what another command saved first, retry, whether the loser is retried)
RULES = [
    (State.SUBMITTED, CHECK, ATTACH, COMMUTING, True),
    (State.SUBMITTED, CHECK, CHECK, COMMUTING, False),
    (State.SUBMITTED, CHECK, CHECK, CHECKS_COMMUTE, True),
    (State.SUBMITTED, CHECK, WITHDRAW, CHECKS_COMMUTE, False),
    (State.PROVINCE_ENDORSED, score("e1"), score("e2"), SCORES_COMMUTE, True),
    (State.PROVINCE_ENDORSED, score("e1"), score("e2"), COMMUTING, False),
    (State.PROVINCE_ENDORSED, score("e1"), ATTACH, SCORES_COMMUTE, True),
    (State.SUBMITTED, ATTACH, WITHDRAW, COMMUTING, False),
    (State.SUBMITTED, ATTACH, WITHDRAW, INDEPENDENT, True),
]


@pytest.mark.parametrize("state, loser, first, retry, retried", RULES, ids=[
    f"{loser.event}-after-{first.event}-{'retried' if retried else 'refused'}"
    for _, loser, first, _, retried in RULES])
def test_a_collision_is_retried_only_when_what_came_in_between_commutes_with_the_decision(
    ledger_of, state, loser, first, retry, retried,
):
    case_id = filed(ledger_of, state)
    before = types(ledger_of, case_id)
    loaded_at: list[int] = []

    def attempt():
        case = ledger_of(loser.step.owner).get_case(case_id)
        loaded_at.append(case.version)
        if len(loaded_at) == 1:
            save_step(ledger_of, case_id, first.step)  # another command saves between our load and our save
        loser.step.run(case)
        return case, []

    if retried:
        saved = decide(ledger_of(loser.step.owner), attempt, retry=retry)
        assert loaded_at == [len(before), len(before) + 1], "decided again on the version the other saved"
        assert types(ledger_of, case_id) == [*before, first.event, loser.event], "both recorded"
        assert saved.version == len(before) + 2
    else:
        with pytest.raises(ConcurrentUpdate):
            decide(ledger_of(loser.step.owner), attempt, retry=retry)
        assert loaded_at == [len(before)], "not decided again"
        assert types(ledger_of, case_id) == [*before, first.event], "nothing of the loser written"


def test_a_command_that_keeps_colliding_on_commuting_events_gives_up_after_its_attempts(ledger_of):
    case_id = filed(ledger_of)
    rounds = []

    def attempt():
        case = ledger_of("verification").get_case(case_id)
        rounds.append(case.version)
        save_step(ledger_of, case_id, Step("documents", "attach", lambda c: c.attach_evidence(
            actor=APPLICANT, sha256=f"{len(rounds):064x}", size=1, content_type="application/pdf",
            filename="a.pdf", step="submission")))
        CHECK.step.run(case)
        return case, []

    with pytest.raises(ConcurrentUpdate):
        decide(ledger_of("verification"), attempt, attempts=3)
    assert rounds == [1, 2, 3]
    assert types(ledger_of, case_id) == ["Submitted"] + ["EvidenceAttached"] * 3


def test_an_attempt_with_nothing_to_do_saves_nothing(ledger_of):
    case_id = filed(ledger_of)
    assert decide(ledger_of("verification"), lambda: None) is None
    assert types(ledger_of, case_id) == ["Submitted"]


PROVINCE_CALLER = Caller(sub=PROVINCE["sub"], role="province", org=PROVINCE["org"])
CALL = "call-2025-bioreactor"


def endorse(ledger: CaseLedger, case_id: str, capacity: int, meanwhile=lambda: None) -> object:
    """Endorses the case taking a place of the province's quota, as verification does; `meanwhile` runs
    after the places are loaded, before they are saved."""
    def endorse(case):
        places = ledger.find_allocation(CALL, "recommendation", case.province) or Allocation.open(
            actor=PROVINCE, call_id=CALL, kind="recommendation", scope=case.province)
        meanwhile()
        case.endorse_by_province(actor=PROVINCE, reason="推荐", rank=1)
        places.take(actor=PROVINCE, case_id=str(case.id), capacity=capacity)
        return [places]

    return change_case(ledger, PROVINCE_CALLER, case_id, ("province",), endorse)


@pytest.mark.parametrize("capacity", [2, 3])
def test_a_contended_allocation_is_retried_until_its_places_run_out(ledger_of, capacity):
    """Two other endorsements take places while ours decides: each collision is retried on the places left."""
    ours, *others = [filed(ledger_of, State.CITY_RECOMMENDED, title=f"SAMPLE {n}") for n in range(3)]
    rival = ledger_of("verification", new=True)
    rounds: list[int] = []

    def meanwhile():
        rounds.append(len(rounds) + 1)
        if len(rounds) <= len(others):
            endorse(rival, others[len(rounds) - 1], capacity)  # another official endorses first

    if capacity == 2:
        with pytest.raises(PlacesExhausted) as refused:
            endorse(ledger_of("verification"), ours, capacity, meanwhile)
        assert refused.value.holders == others
        assert ledger_of(READER).get_case(ours).state == State.CITY_RECOMMENDED, "nothing of ours written"
    else:
        endorse(ledger_of("verification"), ours, capacity, meanwhile)
        assert ledger_of(READER).get_case(ours).state == State.PROVINCE_ENDORSED
    assert rounds == [1, 2, 3], "decided again after each collision"
    places = ledger_of(READER).find_allocation(CALL, "recommendation", "420000")
    assert places.holders == (others if capacity == 2 else [*others, ours])
    assert [ledger_of(READER).get_case(c).state for c in others] == [State.PROVINCE_ENDORSED] * 2


def test_a_decision_that_takes_a_place_is_decided_again_even_when_its_case_changed_and_the_case_refuses_it(
    ledger_of,
):
    """Its other aggregates are the contended ones, so it is retried whatever came in between; the case as
    now stored then decides: returned for correction meanwhile, it is endorsed by nobody, and takes no place."""
    ours = filed(ledger_of, State.CITY_RECOMMENDED)
    rounds: list[int] = []

    def meanwhile():
        rounds.append(len(rounds) + 1)
        if len(rounds) == 1:
            save_step(ledger_of, ours, Step("verification", "return", lambda c: c.return_for_correction(
                actor=PROVINCE, level=Level.PROVINCE, reasons=["补正"])))

    with pytest.raises(IllegalTransition):
        endorse(ledger_of("verification"), ours, 5, meanwhile)
    assert rounds == [1, 2]
    assert ledger_of(READER).get_case(ours).state == State.RETURNED
    assert ledger_of(READER).find_allocation(CALL, "recommendation", "420000") is None


def test_a_place_others_append_to_is_decided_again_only_when_contended(ledger_of):
    """Two uploads of one unit at once both go to its dossier: retried when CONTENDED, refused by default."""
    unit = APPLICANT["org"]
    other = ledger_of("documents", new=True)

    def upload(ledger: CaseLedger, sha256: str):
        dossier = ledger.find_dossier(unit) or Dossier.open(actor=APPLICANT, credit_code=unit)
        dossier.deposit(actor=APPLICANT, sha256=sha256, size=1, content_type="application/pdf", filename="a.pdf")
        return dossier

    def deposit(sha256: str, retry, meanwhile: str):
        rounds: list[int] = []

        def record():
            rounds.append(1)
            dossier = ledger_of("documents").find_dossier(unit) or Dossier.open(actor=APPLICANT, credit_code=unit)
            if len(rounds) == 1:
                other.save_together(upload(other, meanwhile))  # the unit's other upload saves first
            dossier.deposit(actor=APPLICANT, sha256=sha256, size=1, content_type="application/pdf", filename="a.pdf")
            return dossier, []

        try:
            decide(ledger_of("documents"), record, retry=retry)
        finally:
            deposited = set(ledger_of(READER).find_dossier(unit).documents)
        return len(rounds), deposited

    assert deposit("1" * 64, CONTENDED, meanwhile="2" * 64) == (2, {"1" * 64, "2" * 64})
    with pytest.raises(ConcurrentUpdate):
        deposit("3" * 64, COMMUTING, meanwhile="4" * 64)
    assert set(ledger_of(READER).find_dossier(unit).documents) == {"1" * 64, "2" * 64, "4" * 64}


# -- one way only ----------------------------------------------------------------------------

# The idiom, and where each takes the function that decides: decide(ledger, attempt), change_case(..., change).
IDIOM = {"decide": (1, "attempt"), "change_case": (4, "change")}
LEDGER_WRITES = {"save_together", "save_case"}
# The idiom itself, and the ledger it writes through.
EXEMPT = {"shared/application/commands.py", "shared/infra/ledger.py"}


def _called(call: ast.Call) -> str:
    return call.func.id if isinstance(call.func, ast.Name) else getattr(call.func, "attr", "")


def _decider(call: ast.Call) -> ast.expr | None:
    """The function handed to the idiom by `call`, or None if `call` is not the idiom."""
    if _called(call) not in IDIOM:
        return None
    position, keyword = IDIOM[_called(call)]
    if len(call.args) > position:
        return call.args[position]
    return next((k.value for k in call.keywords if k.arg == keyword), None)


def other_ways(source: str, path: str) -> list[str]:
    """Every write to the ledger in `source` that does not go through the idiom, each with why."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and (
            node.func.attr in LEDGER_WRITES or (node.func.attr == "save" and "ledger" in ast.unparse(node.func.value))
        ):
            found.append(f"{path}:{node.lineno}: {ast.unparse(node.func)}() saves outside decide/change_case")
        elif isinstance(node, (ast.For, ast.While)):
            found += [f"{path}:{h.lineno}: a loop catching ConcurrentUpdate retries on its own; decide retries"
                      for h in ast.walk(node) if isinstance(h, ast.ExceptHandler) and h.type is not None
                      and "ConcurrentUpdate" in ast.unparse(h.type)]
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            params = {a.arg for a in (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs)}
            calls = [c for c in ast.walk(node) if isinstance(c, ast.Call)]
            idiom = [c for c in calls if _called(c) in IDIOM]
            handed = {d.id for d in map(_decider, idiom) if isinstance(d, ast.Name) and d.id in params}
            wrapped = {c.func.id for c in calls if isinstance(c.func, ast.Name) and c.func.id in params}
            if idiom and handed | wrapped:
                found.append(f"{path}:{node.lineno}: {node.name}() wraps the idiom around the function it is given "
                             f"({', '.join(sorted(handed | wrapped))}): a variant of its own")
    return found


def test_every_write_of_every_service_goes_through_the_one_idiom():
    found = []
    for path in sorted([*ROOT.glob("services/**/*.py"), *ROOT.glob("shared/**/*.py")]):
        name = path.relative_to(ROOT).as_posix()
        if name not in EXEMPT:
            found += other_ways(path.read_text(encoding="utf-8"), name)
    assert found == [], "\n".join(found)


OTHER_WAYS = {
    "a private variant, as verification's _decide was": """
class Verification:
    def _decide(self, caller, case_id, roles, command, deadline=True):
        def attempt():
            case = require_case(caller, self.ledger.get_case(case_id), *roles)
            return case, command(case, self.ledger.get_call(case.call_id).current) or []
        return decide(self.ledger, attempt)
""",
    "a wrapper handing its attempt on": """
def write(ledger, attempt):
    return decide(ledger, attempt, retry=CONTENDED)
""",
    "a direct save": """
def mark_overdue(self, case):
    case.mark_milestone_overdue(actor=timer.as_actor(), milestone_id="m1", due_on=today)
    self.ledger.save_case(case)
""",
    "a save of the eventsourcing application": """
def close(self, public_list):
    self.ledger.save(public_list)
""",
    "a retry loop of its own": """
def endorse(self, case_id):
    for _ in range(3):
        try:
            return change_case(self.ledger, caller, case_id, ("province",), endorse)
        except ConcurrentUpdate:
            continue
""",
}


@pytest.mark.parametrize("source", OTHER_WAYS.values(), ids=OTHER_WAYS.keys())
def test_the_walk_finds_another_way_to_write(source):
    assert len(other_ways(source, "services/sample/application.py")) == 1


def test_the_walk_accepts_the_idiom_and_what_is_not_the_ledger():
    idiomatic = """
def recommend(self, caller, case_id, reason, rank):
    def recommend(case):
        self._open_call(case, caller)
        case.recommend_by_city(actor=caller.as_actor(), reason=reason, rank=rank)
    return change_case(self.ledger, caller, case_id, ("city",), recommend)

def to_xlsx(self, out):
    book.save(out)  # a workbook, not the ledger
"""
    assert other_ways(idiomatic, "services/sample/application.py") == []


def test_the_application_layer_imports_the_domain_and_the_standard_library_only():
    """So the idiom is the same whatever the ledger: shared.infra.ledger.CaseLedger is one `Ledger`."""
    found = []
    for path in sorted(ROOT.glob("shared/application/**/*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            found += [f"{path.relative_to(ROOT)}:{node.lineno}: {n}" for n in names
                      if n.split(".")[0] not in sys.stdlib_module_names | {"__future__"}
                      and n != "shared.domain" and not n.startswith("shared.domain.")]
    assert found == []

"""Errors at the edge: every error the platform raises has a row in the HTTP layer's one table,
and the domain says nothing of HTTP."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest
import sqlalchemy as sa

from shared.domain.errors import (
    Conflict,
    DeadlinePassed,
    DomainRuleViolation,
    IllegalTransition,
    NotFound,
    PlacesExhausted,
    PlatformError,
)
from shared.infra.objectstore.errors import StoreUnavailable
from shared.infra.web.errors import (
    BUG,
    MEANINGS,
    OUTAGE,
    REFUSALS,
    Refusal,
    answer_to,
    codes_answered_with,
    refusal_of,
    status_of,
)

ROOT = Path(__file__).resolve().parents[2]
HTTP_NAMES = {"status", "code", "status_code", "http_status"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules(*tops: str) -> list[str]:
    return [_module_name(path) for top in tops for path in sorted((ROOT / top).rglob("*.py"))]


def _subclasses(cls: type) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub} | _subclasses(sub)
    return found


def test_every_error_of_shared_and_the_services_has_a_row_in_the_table():
    for name in _modules("shared", "services"):
        importlib.import_module(name)
    errors = {e for e in _subclasses(PlatformError) if e.__module__.startswith(("shared.", "services."))}
    assert len(errors) >= len(REFUSALS)  # the walk found them all, not only the table's own
    unmapped = sorted(f"{e.__module__}.{e.__qualname__}" for e in errors if refusal_of(e) is None)
    assert unmapped == [], f"add a row to shared.infra.web.errors.REFUSALS for {unmapped}"


def test_an_error_without_a_row_of_its_own_answers_as_its_nearest_ancestor_and_one_without_any_does_not():
    class QuotaOfAWorkshop(PlacesExhausted):
        pass

    class Unmapped(PlatformError):
        pass

    assert refusal_of(QuotaOfAWorkshop) == REFUSALS[PlacesExhausted] == Refusal(409, "places_exhausted")
    assert refusal_of(DeadlinePassed("x", "y")) == Refusal(400, "deadline_passed") != refusal_of(DomainRuleViolation)
    assert refusal_of(Unmapped) is None and refusal_of(PlatformError) is None
    with pytest.raises(LookupError, match="Unmapped has no row"):
        status_of(Unmapped)


def test_the_base_error_has_no_row_so_that_a_new_kind_of_error_cannot_pass_unnoticed():
    assert PlatformError not in REFUSALS
    assert all(issubclass(cls, PlatformError) for cls in REFUSALS)


def test_an_error_leaves_with_its_row_and_its_own_message_and_fields():
    answer = answer_to(IllegalTransition("Endorsed", "draft", ("submitted",)), "POST /x")
    assert (answer.status, answer.headers) == (409, None)
    assert answer.body == {"error": "illegal_transition", "fields": {"state": ["draft"]},
                           "message": "cannot record Endorsed: the case is draft (allowed from: submitted)"}
    store_down = answer_to(StoreUnavailable("object store at http://s3 is unreachable"), "POST /x")
    assert (store_down.status, store_down.body["error"], store_down.headers) == (
        503, "store_unavailable", {"Retry-After": "5"})


def test_an_unreachable_database_is_503_with_retry_after_and_an_error_without_a_row_a_logged_500():
    lost = sa.exc.OperationalError("SELECT 1", {}, ConnectionError("connection refused"))
    outage = answer_to(lost, "GET /x")
    assert (outage.status, outage.body["error"], outage.headers) == (503, "service_unavailable", {"Retry-After": "5"})

    class Unmapped(PlatformError):
        pass

    bug = answer_to(Unmapped("a secret detail"), "GET /x")
    assert (bug.status, bug.body["error"]) == (BUG.status, BUG.code) == (500, "internal_error")
    assert "secret" not in bug.body["message"]
    assert answer_to(NotFound("no such case"), "GET /x").body["message"] == "no such case"


def test_the_documents_meanings_cover_exactly_the_statuses_the_table_answers_with():
    statuses = {r.status for r in REFUSALS.values()} | {OUTAGE.status}
    assert set(MEANINGS) == statuses - {500}  # a failure inside the service is no promised refusal
    assert codes_answered_with(503) == [
        "identity_provider_unavailable", "service_unavailable", "store_unavailable"]
    assert codes_answered_with(status_of(Conflict)) == [
        "concurrent_update", "conflict", "illegal_transition", "places_exhausted"]


# -- the domain knows nothing of HTTP ----------------------------------------------------


def _http_in_class(node: ast.ClassDef) -> list[str]:
    found = []
    for child in ast.walk(node):
        targets = child.targets if isinstance(child, ast.Assign) else \
            [child.target] if isinstance(child, (ast.AnnAssign, ast.AugAssign)) else []
        for target in targets:
            name = target.id if isinstance(target, ast.Name) else \
                target.attr if isinstance(target, ast.Attribute) else None
            if name in HTTP_NAMES:
                found.append(f"{node.name}.{name} (line {target.lineno})")
        if isinstance(child, ast.Constant) and type(child.value) is int and 100 <= child.value <= 599:
            found.append(f"{node.name}: {child.value} (line {child.lineno})")
    return found


def _http_imports(tree: ast.Module) -> list[str]:
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names += [node.module or ""] + [alias.name for alias in node.names]
    return [n for n in names if n.split(".")[0] in {"http", "werkzeug"} or n == "HTTPStatus"]


@pytest.mark.parametrize("name", _modules("shared/domain"))
def test_no_error_class_of_the_domain_carries_an_http_status_or_code(name):
    module = importlib.import_module(name)
    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    assert _http_imports(tree) == []
    error_classes = [node for node in ast.walk(tree) if isinstance(node, ast.ClassDef)
                     and isinstance(getattr(module, node.name, None), type)
                     and issubclass(getattr(module, node.name), BaseException)]
    assert [found for node in error_classes for found in _http_in_class(node)] == []


def test_the_check_of_the_domain_finds_a_status_where_there_is_one():
    tree = ast.parse("class Gone(NotFound):\n    status = 410\n\n"
                     "class Late(Conflict):\n    def __init__(self):\n        self.code = 'late'\n")
    assert [found for node in tree.body for found in _http_in_class(node)] == [
        "Gone.status (line 2)", "Gone: 410 (line 2)", "Late.code (line 6)"]
    assert _http_imports(ast.parse("from http import HTTPStatus\nimport werkzeug")) == [
        "http", "HTTPStatus", "werkzeug"]

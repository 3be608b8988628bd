"""The ministry's decisions after review: every case, a case's shortlist, selection (limits in
view), task book and amendments, evaluator; the milestone board with batch acceptance; the
publication lists with their notice, objections and publication.

A refused command re-renders its page with the service's answer beside the form it came
from (and what was typed kept); a command that succeeds redirects (post/redirect/get)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask, redirect, render_template, request

from services.console.apis import Answer
from services.console.batch import run_batch
from services.console.lists import Column
from services.console.pages.common import (
    CHINA,
    Person,
    api,
    done,
    fetch,
    form_list,
    listing_page,
    path_of,
    person,
    state_column,
    word,
)

# The lists each programme's call publishes (shared.domain.publication_list.ListKind).
LIST_KINDS = {"open_competition": ("shortlist", "successful"), "signature_product": ("signature-products",)}
MILESTONE_FIELDS = ("id", "title", "due_on", "deliverable", "evidence_required")
BOARD = ("due_soon", "overdue", "reported", "accepted", "returned")

def list_kind_word(kind: str) -> str:
    return word(f"public.kind.{kind}")


def list_status_word(status: str | None) -> str:
    return word(f"public.status.{status}") if status else word("ministry.list.not_put_up")


CASE_COLUMNS = (
    Column("title", "col.title", "text"),
    Column("call_id", "col.call", "choice"),
    Column("direction", "ministry.col.direction", "choice"),
    Column("province", "ministry.col.region", "choice"),
    state_column(),
    Column("applicant_name", "col.applicant", "text"),
    Column("updated_at", "col.updated"),
)
MILESTONE_COLUMNS = (
    Column("title", "ministry.col.milestone", "text"),
    Column("case_id", "ministry.col.case", "text"),
    Column("milestone_id", "ministry.col.milestone_id"),
    Column("due_on", "ministry.col.due_on", "date"),
    Column("board", "ministry.col.board", "choice", display=lambda code: word(f"ministry.board.{code}")),
    Column("province", "ministry.col.region", "choice"),
)
LIST_COLUMNS = (
    Column("title", "col.title", "text"),
    Column("call_id", "col.call", "choice"),
    Column("kind", "ministry.col.list_kind", "choice", display=list_kind_word),
    Column("status", "col.status", "choice", display=list_status_word),
    Column("notice_ends_on", "ministry.col.notice_ends"),
    Column("entry_count", "col.entries"),
)


def today() -> str:
    return datetime.now(CHINA).date().isoformat()


def _truthy(name: str) -> bool:
    return request.form.get(name) == "yes"


# -- the task book: form rows to the service's body and back ----------------------------------


def task_book_body(form: Any) -> dict:
    """The task book the form describes: targets one a line, milestones as rows, two signatories."""
    rows = zip(*(form.getlist(f"m_{f}") for f in MILESTONE_FIELDS), strict=False)
    milestones = [dict(zip(MILESTONE_FIELDS, (v.strip() for v in row), strict=True)) for row in rows]
    return {
        "targets": [line.strip() for line in form.get("targets", "").splitlines() if line.strip()],
        "deadline": form.get("deadline", ""),
        "milestones": [m for m in milestones if any(m.values())],
        "signatories": [{"party": party, "name": form.get(f"{party}_name", "").strip(),
                         "signed_on": form.get(f"{party}_signed_on", "")} for party in ("ministry", "unit")],
    }


def task_book_form(case: dict, who: Person, posted: Any = None) -> dict:
    """What the task book form shows: what was posted (a refusal keeps it), else the book in force
    (to amend), else a start with two empty milestones."""
    if posted is not None:
        return {**task_book_body(posted), "amendment_id": posted.get("amendment_id", ""),
                "reason": posted.get("reason", "")}
    book = case.get("task_book")
    if book:
        return {**book, "amendment_id": f"a{len(case.get('amendments') or []) + 1}", "reason": ""}
    blank = {f: "" for f in MILESTONE_FIELDS}
    return {"targets": [], "deadline": "", "milestones": [{**blank, "id": "m1"}, {**blank, "id": "m2"}],
            "signatories": [{"party": "ministry", "name": who.caller.name, "signed_on": today()},
                            {"party": "unit", "name": case.get("applicant", {}).get("name", ""),
                             "signed_on": today()}],
            "amendment_id": "", "reason": ""}


# -- pages -----------------------------------------------------------------------------------


def case_page(case_id: str, who: Person, refused: str = "", answer: Answer | None = None, status: int = 200):
    found = fetch("review", path_of("cases", case_id), who)
    case = found.data if found.ok else None
    places = fetch("review", path_of("cases", case_id, "places"), who) if case else None
    evidence = fetch("documents", path_of("cases", case_id, "evidence"), who) if case else None
    posted = request.form if refused in ("task_book", "amendment") else None
    book = task_book_form(case, who, posted) if case else None
    return render_template("ministry/case.html", answer=found, case=case, places=places, evidence=evidence,
                           book=book, refused=refused, refusal=answer), status


def command(case_id: str, who: Person, form: str, path: tuple[str, ...], body: dict, notice: str):
    answer = api("review", "POST", path_of("cases", case_id, *path), who, json=body)
    if answer.ok:
        return done(notice, f"/ministry/cases/{case_id}")
    return case_page(case_id, who, form, answer, answer.status if answer.status >= 400 else 400)


def board_rows(board: dict) -> list[dict]:
    return [{**row, "board": column, "key": f"{row['case_id']}:{row['milestone_id']}"}
            for column in BOARD for row in board.get(column, [])]


def list_rows(calls: list[dict], lists: list[dict]) -> list[dict]:
    """Every list the calls make (put up or not yet), with its status when it has one."""
    known = {row["list_id"]: row for row in lists}
    rows = []
    for call in calls:
        for kind in LIST_KINDS.get(call.get("program", ""), ()):
            list_id = f"{call['call_id']}:{kind}"
            row = known.get(list_id, {})
            rows.append({"list_id": list_id, "call_id": call["call_id"], "kind": kind,
                         "title": row.get("title") or call.get("title", ""), "status": row.get("status") or "",
                         "notice_ends_on": (row.get("notice") or {}).get("ends_on", ""),
                         "entry_count": row.get("entry_count", 0)})
    return rows


def list_page(list_id: str, who: Person, refused: str = "", answer: Answer | None = None, status: int = 200):
    candidates = fetch("publication", path_of("lists", list_id, "candidates"), who)
    # The status is the ledger's (candidates); the entries and the notice are publication's read
    # model, which may be a moment behind a command just made.
    put_up = candidates.ok and bool(candidates.data.get("status"))
    document = fetch("publication", path_of("lists", list_id)) if put_up else None
    objections = fetch("publication", path_of("lists", list_id, "objections"), who) if put_up else None
    call_id, _, kind = list_id.rpartition(":")
    call = fetch("intake", path_of("calls", call_id), who)
    heading = f"{call.data['title'] if call.ok else call_id} · {list_kind_word(kind)}"
    return render_template("ministry/list.html", list_id=list_id, answer=candidates, heading=heading,
                           info=candidates.data if candidates.ok else None,
                           document=document.data if document and document.ok else None,
                           objections=objections, refused=refused, refusal=answer), status


def register(app: Flask) -> None:
    @app.get("/ministry/cases")
    def ministry_cases():
        who = person("ministry")
        answer = fetch("intake", "/cases", who)
        return listing_page("ministry/cases.html", answer.data if answer.ok else None, CASE_COLUMNS,
                            title_key="ministry.cases", answer=answer)

    @app.get("/ministry/cases/<case_id>")
    def ministry_case(case_id: str):
        return case_page(case_id, person("ministry"))

    @app.post("/ministry/cases/<case_id>/shortlist")
    def ministry_shortlist(case_id: str):
        body = {"shortlisted": _truthy("decision"), "reason": request.form.get("reason", "").strip()}
        return command(case_id, person("ministry"), "shortlist", ("shortlist",), body, "ministry.done.shortlist")

    @app.post("/ministry/cases/<case_id>/selection")
    def ministry_select(case_id: str):
        body = {"selected": _truthy("decision"), "reason": request.form.get("reason", "").strip()}
        return command(case_id, person("ministry"), "selection", ("selection",), body, "ministry.done.selection")

    @app.post("/ministry/cases/<case_id>/task-book")
    def ministry_task_book(case_id: str):
        return command(case_id, person("ministry"), "task_book", ("task-book",), task_book_body(request.form),
                       "ministry.done.task_book")

    @app.post("/ministry/cases/<case_id>/task-book/amendments")
    def ministry_amend(case_id: str):
        body = {**task_book_body(request.form), "amendment_id": request.form.get("amendment_id", "").strip(),
                "reason": request.form.get("reason", "").strip()}
        return command(case_id, person("ministry"), "amendment", ("task-book", "amendments"), body,
                       "ministry.done.amendment")

    @app.post("/ministry/cases/<case_id>/evaluator")
    def ministry_evaluator(case_id: str):
        body = {"evaluator": request.form.get("evaluator", "").strip()}
        return command(case_id, person("ministry"), "evaluator", ("evaluator",), body, "ministry.done.evaluator")

    # A page a refused command drew is at the command's address: switching the language there
    # (a redirect to the same address) comes back to the page itself.
    @app.get("/ministry/cases/<case_id>/<path:_command>")
    def ministry_case_again(case_id: str, _command: str):
        return redirect(f"/ministry/cases/{path_of(case_id)[1:]}")

    @app.get("/ministry/lists/<list_id>/<path:_command>")
    def ministry_list_again(list_id: str, _command: str):
        return redirect(f"/ministry/lists/{path_of(list_id)[1:]}")

    @app.get("/ministry/milestones")
    def ministry_milestone_calls():
        who = person("ministry")
        answer = fetch("intake", "/calls", who)
        calls = [c for c in answer.data if c.get("program") == "open_competition"] if answer.ok else None
        return render_template("ministry/milestone_calls.html", answer=answer, calls=calls)

    def board_page(call_id: str, outcomes: list | None = None):
        who = person("ministry")
        answer = fetch("review", path_of("calls", call_id, "milestones"), who)
        rows = board_rows(answer.data) if answer.ok else None
        return listing_page("ministry/milestones.html", rows, MILESTONE_COLUMNS, title_key="nav.milestones",
                            id_key="key", answer=answer, call_id=call_id, board=answer.data if answer.ok else None,
                            outcomes=outcomes)

    @app.get("/ministry/milestones/<call_id>")
    def ministry_board(call_id: str):
        return board_page(call_id)

    # Posted to the board's own address (with its filters), so the page of results keeps the
    # board's filter form and export links working.
    @app.post("/ministry/milestones/<call_id>")
    def ministry_accept(call_id: str):
        who = person("ministry")
        note = request.form.get("note", "").strip()

        def accept(key: str) -> Answer:
            case_id, _, milestone_id = key.partition(":")
            return api("review", "POST", path_of("cases", case_id, "milestones", milestone_id, "decision"), who,
                       json={"accepted": True, "note": note})

        chosen = form_list("case_id")
        if not chosen:
            return board_page(call_id, outcomes=[])
        return board_page(call_id, outcomes=run_batch(chosen, accept))

    @app.get("/ministry/lists")
    def ministry_lists():
        who = person("ministry")
        calls = fetch("intake", "/calls", who)
        lists = fetch("publication", "/lists")
        answer = calls if not calls.ok else lists
        rows = list_rows(calls.data, lists.data) if calls.ok and lists.ok else None
        return listing_page("ministry/lists.html", rows, LIST_COLUMNS, title_key="nav.ministry_lists",
                            id_key="list_id", answer=answer)

    @app.get("/ministry/lists/<list_id>")
    def ministry_list(list_id: str):
        return list_page(list_id, person("ministry"))

    def list_command(list_id: str, form: str, path: tuple[str, ...], body: dict, notice: str, detail=None):
        who = person("ministry")
        answer = api("publication", "POST", path_of("lists", list_id, *path), who, json=body)
        if answer.ok:
            return done(notice, f"/ministry/lists/{list_id}", detail(answer.data) if detail else "")
        return list_page(list_id, who, form, answer, answer.status if answer.status >= 400 else 400)

    @app.post("/ministry/lists/<list_id>/notice")
    def ministry_notice(list_id: str):
        return list_command(list_id, "notice", ("notice",), {"case_ids": form_list("case_id")},
                            "ministry.done.notice", lambda data: (data.get("notice") or {}).get("ends_on", ""))

    @app.post("/ministry/lists/<list_id>/publish")
    def ministry_publish(list_id: str):
        chosen = form_list("case_id")
        return list_command(list_id, "publish", ("publish",), {"case_ids": chosen} if chosen else {},
                            "ministry.done.publish")

    @app.post("/ministry/lists/<list_id>/objections/<case_id>/<objection_id>")
    def ministry_resolve(list_id: str, case_id: str, objection_id: str):
        body = {"upheld": _truthy("upheld"), "resolution": request.form.get("resolution", "").strip()}
        return list_command(list_id, f"objection-{objection_id}",
                            ("entries", case_id, "objections", objection_id, "resolution"), body,
                            "ministry.done.resolution")

"""Review work: the ministry's panels, expert assignments (a batch, conflicts refused per case),
rankings and scores; the experts' assignments, declarations and scores; the evaluators'
commissioned cases and evaluations.

What an expert sees of a case follows the review service: before it has declared no conflict
only the assignment row (title and the units it declares on), never the application; others'
scores only once its own are in (the service answers them, or how many are hidden)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import Flask, render_template, request

from services.console.apis import Answer
from services.console.batch import run_batch
from services.console.lists import Column
from services.console.pages.common import (
    Person,
    api,
    done,
    fetch,
    form_list,
    listing_page,
    message,
    path_of,
    person,
    state_column,
    word,
)

CASE_COLUMNS = (
    Column("title", "col.title", "text"),
    Column("call_id", "col.call", "choice"),
    Column("direction", "review.col.direction", "choice"),
    Column("applicant_name", "col.applicant", "text"),
    Column("province", "review.col.province", "choice"),
    state_column(),
    Column("updated_at", "col.updated"),
)
RANKING_COLUMNS = (
    Column("rank", "review.col.rank"),
    Column("title", "col.title", "text"),
    Column("mean_score", "review.col.mean_score"),
    Column("experts", "review.col.experts"),
    Column("tie", "review.col.tie", "choice"),
    state_column(),
)
ASSIGNMENT_COLUMNS = (
    Column("title", "col.title", "text"),
    Column("call_id", "col.call", "choice"),
    Column("direction", "review.col.direction", "choice"),
    Column("status_word", "review.col.assignment", "choice"),
    Column("scored_word", "review.col.scored", "choice"),
    Column("assigned_at", "review.col.assigned_at", "date"),
)
EVALUATION_COLUMNS = (
    Column("title", "col.title", "text"),
    Column("call_id", "col.call", "choice"),
    Column("direction", "review.col.direction", "choice"),
    Column("applicant_name", "col.applicant", "text"),
    state_column(),
    Column("updated_at", "col.updated"),
)


def _rows(answer: Answer) -> list[dict] | None:
    return answer.data if answer.ok else None


def _titles(who: Person) -> dict[str, str]:
    answer = fetch("review", "/cases", who)
    return {r["case_id"]: r["title"] for r in answer.data} if answer.ok else {}


# -- the ministry ---------------------------------------------------------------------------


def _desk(who: Person, outcomes: list | None = None, panel_form: dict | None = None,
          panel_refusal: Answer | None = None, assign_refusal: Answer | None = None):
    """The cases with the ministry; for one call and direction also its panel and the batch assignment."""
    call, direction = request.args.get("call", ""), request.args.get("direction", "")
    answer = fetch("review", "/cases", who)
    rows = _rows(answer)
    pairs = sorted({(r["call_id"], r["direction"]) for r in rows or []})
    panel = None
    if call and direction:
        rows = [r for r in rows or [] if r["call_id"] == call and r["direction"] == direction]
        panel = fetch("review", path_of("panels", call, direction), who)
    result = {o.case_id: o.answer for o in outcomes or []}
    columns: tuple[Column, ...] = CASE_COLUMNS
    if result:
        said = Column("outcome", "review.col.assign_result", value=lambda r: _said(result.get(r["case_id"])))
        columns = (*CASE_COLUMNS, said)
    return listing_page("review/desk.html", rows, columns, title_key="review.desk", answer=answer,
                        call=call, direction=direction, pairs=pairs, panel=panel, outcomes=outcomes,
                        form=panel_form or {}, refusal=panel_refusal, assign_refusal=assign_refusal)


def _said(answer: Answer | None) -> str:
    if answer is None:
        return ""
    return word("batch.done") if answer.ok else answer.error


def _panel_body(form: Any) -> dict:
    """The panel's form as the service's body: rows left wholly blank are not sent."""
    criteria = [{"id": i.strip(), "name": n.strip(), "max_score": _number(m)}
                for i, n, m in zip(form.getlist("criterion_id"), form.getlist("criterion_name"),
                                   form.getlist("criterion_max"), strict=False) if (i + n + m).strip()]
    experts = [{"id": i.strip(), "name": n.strip(), "unit": u.strip(),
                "relations": [c.strip() for c in r.replace("，", ",").split(",") if c.strip()]}
               for i, n, u, r in zip(form.getlist("expert_id"), form.getlist("expert_name"),
                                     form.getlist("expert_unit"), form.getlist("expert_relations"), strict=False)
               if (i + n + u + r).strip()]
    return {"call_id": form.get("call", ""), "direction": form.get("direction", ""), "criteria": criteria,
            "experts": experts}


def _number(text: str) -> Any:
    """A number typed in a form; anything else goes to the service as typed, which names the rule."""
    try:
        return float(text) if text.strip() else None
    except ValueError:
        return text


def _desk_url(call: str, direction: str) -> str:
    return f"/ministry/review?{urlencode({'call': call, 'direction': direction})}"


def register_ministry(app: Flask) -> None:
    @app.get("/ministry/review")
    def ministry_review():
        return _desk(person("ministry"))

    # The desk's commands post to the desk itself (its call and direction in the query), so the
    # page that answers has the desk's address: its filters, exports and language switch work.
    @app.post("/ministry/review")
    def ministry_review_command():
        who = person("ministry")
        if request.form.get("do") == "panel":
            body = _panel_body(request.form)
            answer = api("review", "POST", "/panels", who, json=body)
            if answer.ok:
                return done("review.panel_formed", _desk_url(body["call_id"], body["direction"]))
            return _desk(who, panel_form=request.form.to_dict(flat=False), panel_refusal=answer), 400
        expert, chosen = request.form.get("expert", "").strip(), form_list("case_id")
        if not chosen:
            return _desk(who, assign_refusal=Answer(status=400, error=word("batch.none"))), 400
        outcomes = run_batch(chosen, lambda case_id: api(
            "review", "POST", path_of("cases", case_id, "experts"), who, json={"expert": expert}))
        return _desk(who, outcomes=outcomes)

    @app.get("/ministry/review/ranking")
    def ministry_ranking():
        who = person("ministry")
        call, direction = request.args.get("call", ""), request.args.get("direction", "")
        answer = fetch("review", path_of("calls", call, "directions", direction, "ranking"), who)
        titles = _titles(who)
        rows = None
        if answer.ok:
            rows = [{**r, "title": titles.get(r["case_id"], r["case_id"]),
                     "tie": word("review.tied") if r["tied"] else ""} for r in answer.data["ranking"]]
        return listing_page("review/ranking.html", rows, RANKING_COLUMNS, title_key="review.ranking",
                            answer=answer, call=call, direction=direction)

    @app.get("/ministry/review/cases/<case_id>/scores")
    def ministry_scores(case_id: str):
        who = person("ministry")
        answer = fetch("review", path_of("cases", case_id, "scores"), who)
        criteria = fetch("review", path_of("cases", case_id, "criteria"), who)
        ids = [c["id"] for c in criteria.data["criteria"]] if criteria.ok else []
        columns = (Column("expert", "review.col.expert", "choice"),
                   *(Column(f"scores.{i}", i) for i in ids),
                   Column("total", "review.col.total"), Column("comment", "review.col.comment", "text"),
                   Column("recorded_at", "review.col.recorded_at"))
        return listing_page("review/scores.html", answer.data["reviews"] if answer.ok else None, columns,
                            title_key="review.scores", id_key="expert", answer=answer, case_id=case_id,
                            title=_titles(who).get(case_id, case_id))


# -- experts --------------------------------------------------------------------------------


def _assignment(who: Person, case_id: str) -> tuple[Answer, dict | None]:
    answer = fetch("review", "/assignments", who)
    row = next((r for r in answer.data if r["case_id"] == case_id), None) if answer.ok else None
    return answer, row


def _expert_case(who: Person, case_id: str, refusal: Answer | None = None, sent: dict | None = None):
    answer, row = _assignment(who, case_id)
    if answer.ok and row is None:
        return message("error.forbidden", 403)
    status = row["status"] if row else ""
    case = criteria = scores = None
    if status in ("assigned", "cleared"):
        # The service shows the case only once the expert has declared no conflict; asked
        # even while the list says "assigned", as the list may not yet have heard of it.
        case = fetch("review", path_of("cases", case_id), who)
        status = "cleared" if case.ok else status
    if status == "cleared":
        criteria = fetch("review", path_of("cases", case_id, "criteria"), who)
        scores = fetch("review", path_of("cases", case_id, "scores"), who)
    else:
        case = None  # never handed to the template before the declaration
    return render_template("review/expert_case.html", answer=answer, row=row, status=status, case=case,
                           criteria=criteria, scores=scores, refusal=refusal, sent=sent or {},
                           case_id=case_id), 400 if refusal is not None else 200


def register_expert(app: Flask) -> None:
    @app.get("/expert/assignments")
    def expert_assignments():
        who = person("expert")
        answer = fetch("review", "/assignments", who)
        rows = [{**r, "status_word": word(f"review.status.{r['status']}"),
                 "scored_word": word("review.yes" if r["scored"] else "review.no")}
                for r in answer.data] if answer.ok else None
        return listing_page("review/assignments.html", rows, ASSIGNMENT_COLUMNS, title_key="review.assignments",
                            answer=answer, base="/expert/cases/")

    @app.get("/expert/cases/<case_id>")
    def expert_case(case_id: str):
        return _expert_case(person("expert"), case_id)

    @app.post("/expert/cases/<case_id>")
    def expert_command(case_id: str):
        who = person("expert")
        return (_score if request.form.get("do") == "scores" else _declare)(who, case_id)


def _declare(who: Person, case_id: str):
    choice = request.form.get("conflict")
    if choice not in ("yes", "no"):
        why = word("review.choose_declaration")
        return _expert_case(who, case_id, Answer(status=400, error=why, fields={"conflict": [why]}))
    body = {"conflict": choice == "yes", "relation": request.form.get("relation", "").strip()}
    answer = api("review", "POST", path_of("cases", case_id, "declaration"), who, json=body)
    if not answer.ok:
        return _expert_case(who, case_id, answer, request.form.to_dict())
    return done(f"review.declared_{choice}", f"/expert/cases/{case_id}")


def _score(who: Person, case_id: str):
    scores = {k[len("score."):]: _number(v) for k, v in request.form.items() if k.startswith("score.")}
    answer = api("review", "POST", path_of("cases", case_id, "scores"), who,
                 json={"scores": scores, "comment": request.form.get("comment", "")})
    if not answer.ok:
        return _expert_case(who, case_id, answer, request.form.to_dict())
    return done("review.scored", f"/expert/cases/{case_id}")


# -- evaluators -----------------------------------------------------------------------------


def _evaluator_case(who: Person, case_id: str, refusal: Answer | None = None, sent: dict | None = None):
    case = fetch("review", path_of("cases", case_id), who)
    evidence = fetch("documents", path_of("cases", case_id, "evidence"), who) if case.ok else None
    status = 400 if refusal is not None else (200 if case.ok else case.status)
    return render_template("review/evaluator_case.html", case=case, evidence=evidence, refusal=refusal,
                           sent=sent or {}, case_id=case_id), status


def _upload_report(who: Person, case_id: str) -> Answer | None:
    """The report file chosen in the form, attached to the case (None when none was chosen)."""
    upload = request.files.get("report_file")
    if upload is None or not upload.filename:
        return None
    return api("documents", "POST", path_of("cases", case_id, "evidence"), who, data=upload.read(),
               params={"filename": upload.filename, "step": "evaluation"})


def register_evaluator(app: Flask) -> None:
    @app.get("/evaluator/assignments")
    def evaluator_assignments():
        who = person("evaluator")
        answer = fetch("review", "/cases", who)
        return listing_page("review/assignments.html", _rows(answer), EVALUATION_COLUMNS,
                            title_key="review.evaluations", answer=answer, base="/evaluator/cases/")

    @app.get("/evaluator/cases/<case_id>")
    def evaluator_case(case_id: str):
        return _evaluator_case(person("evaluator"), case_id)

    @app.post("/evaluator/cases/<case_id>")
    def evaluator_evaluation(case_id: str):
        who = person("evaluator")
        sent = request.form.to_dict()
        uploaded = _upload_report(who, case_id)
        if uploaded is not None and not uploaded.ok:
            uploaded.fields = {"report": [uploaded.error]}
            return _evaluator_case(who, case_id, uploaded, sent)
        report = form_list("report") + ([uploaded.data["sha256"]] if uploaded is not None else [])
        assessment = [{"target": t, "met": request.form.get(f"met.{i}") == "yes",
                       "finding": request.form.get(f"finding.{i}", "").strip()}
                      for i, t in enumerate(request.form.getlist("target"))]
        body = {"assessment": assessment, "score": _number(request.form.get("score", "")),
                "conclusion": request.form.get("conclusion", "").strip(), "report": report}
        answer = api("review", "POST", path_of("cases", case_id, "evaluation"), who, json=body)
        if not answer.ok:
            return _evaluator_case(who, case_id, answer, sent)
        return done("review.evaluated", f"/evaluator/cases/{case_id}")


def register(app: Flask) -> None:
    register_ministry(app)
    register_expert(app)
    register_evaluator(app)

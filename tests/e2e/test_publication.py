"""Publication through the running services: a year's signature-product list put up for 公示 across
the 2026 Spring Festival, objected to (one upheld, one dismissed), closed by the service's own timer,
published, rebuilt from the ledger alone and compared with what the public was served, searched in
the product library, downloaded as CSV and Excel; and the 揭榜挂帅 lists, published without a notice.

Time: the services run with CLOCK_OFFSET_DAYS set so that their "today" is Wednesday 2026-02-11,
whatever day the test runs; the notice's last working day is then 2026-03-02 (worked out by hand in
tests/unit/test_calendar.py from the State Council's 2026 arrangement). The timer is shown closing
the notice by a second publication process of the same system whose clock is set to 2026-03-03: the
same code, the same ledger, read model and queue, a later day. Nothing sleeps for the timer.

Everything filed here is SAMPLE data (tests/samples.py): a SAMPLE copy of 382号 with moved deadlines.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from dataclasses import replace
from datetime import date, datetime

import pytest
import requests
from openpyxl import load_workbook

from services.cli.demo import SAMPLE_PDF, Platform, upload_sample_evidence, walk_open_competition
from shared.domain.forms.samples import SAMPLE_SIGNATURE_PRODUCT_APPLICATION
from shared.domain.publication_list import list_document
from shared.infra.config import SERVICES
from shared.infra.dependencies import CHINA
from shared.infra.ledger import CaseLedger
from tests.samples import credit_code, sample_382, signature_form
from tests.support.localsystem import start_system

pytestmark = pytest.mark.e2e

OPENED = date(2026, 2, 11)  # the services' today: a Wednesday, four days before the Spring Festival break
LAST_DAY = date(2026, 3, 2)  # 2/11, 2/12, 2/13, 2/14(Sat, worked), 2/24, 2/25, 2/26, 2/27, 2/28(Sat, worked), 3/2
CLOSING_DAY = date(2026, 3, 3)
CONTACT_VALUES = [  # what the form says about its people: none of it is ever public
    v for contact in ("contact_1", "contact_2")
    for v in SAMPLE_SIGNATURE_PRODUCT_APPLICATION["cover"][contact].values()
] + [SAMPLE_SIGNATURE_PRODUCT_APPLICATION["applicant"]["legal_representative"],
     SAMPLE_SIGNATURE_PRODUCT_APPLICATION["applicant"]["address"]]


def offset_to(day: date) -> int:
    """CLOCK_OFFSET_DAYS that makes the services' today (China time) `day`."""
    return (day - datetime.now(CHINA).date()).days


def as_party(platform: Platform, role: str, org: str, region: dict | None = None) -> Platform:
    """The same system, called as another organisation of `role`."""
    token = platform.token_for(sub=f"sample-{role}-{org}", role=role, org=org, region=region)
    return replace(platform, tokens={**platform.tokens, role: token})


def public(platform: Platform, path: str, expect: int = 200, **params) -> requests.Response:
    response = requests.get(f"{platform.base['publication']}/publication{path}", params=params or None, timeout=30)
    assert response.status_code == expect, f"GET {path}: {response.status_code} {response.text}"
    return response


@pytest.fixture(scope="module")
def world(make_database, amqp_uri, s3_settings, tmp_path_factory):
    """Every service with their clock on 2026-02-11; the ledger's URL; how to start a later clock."""
    ledger_url = make_database("ledger")
    readmodel_urls = {service: make_database(service) for service in SERVICES}
    started = start_system(data_dir=tmp_path_factory.mktemp("platform"), ledger_url=ledger_url,
                           readmodel_urls=readmodel_urls, amqp_uri=amqp_uri, s3_settings=s3_settings,
                           extra_env={"CLOCK_OFFSET_DAYS": str(offset_to(OPENED))})
    later = []

    def publication_on(day: date) -> Platform:
        """A second publication process of this system whose clock says `day`, its timer every half second."""
        settings = started.platform.settings
        replica = start_system(
            data_dir=tmp_path_factory.mktemp("publication-later"), ledger_url=ledger_url,
            readmodel_urls={"publication": readmodel_urls["publication"]}, amqp_uri=amqp_uri,
            s3_settings=s3_settings, identity=started.identity, extra_env={
                "CLOCK_OFFSET_DAYS": str(offset_to(day)), "NOTICE_SCAN_INTERVAL": "0.5",
                "S3_BUCKET": settings.s3_bucket})
        later.append(replica)
        return replace(started.platform, base={**started.platform.base, **replica.platform.base})

    try:
        yield started.platform, ledger_url, publication_on
    finally:
        for replica in later:
            replica.stop()
        started.stop()


@pytest.fixture(scope="module")
def platform(world):
    return world[0]


@pytest.fixture(scope="module")
def call_id(platform):
    call_id = f"sample-382-pub-{uuid.uuid4().hex[:8]}"
    platform.call("ministry", "POST", "intake", "/calls", json_body=sample_382(call_id, OPENED), expect=201)
    return call_id


def file_product(platform: Platform, call_id: str, n: int, *, select: bool = True) -> str:
    """A Guangdong unit's SAMPLE product, endorsed by Guangdong and (unless told not to) selected."""
    code = credit_code(5000 + n, "440100")
    unit = as_party(platform, "applicant", code, {"province": "440000", "city": "440100"})
    upload_sample_evidence(unit, unit.tokens["applicant"], SAMPLE_SIGNATURE_PRODUCT_APPLICATION)
    case_id = unit.call("applicant", "POST", "intake", f"/calls/{call_id}/cases", expect=201,
                        json_body=signature_form(code, f"SAMPLE 标志性产品 {n}"))["case_id"]
    guangdong = as_party(platform, "province", "440000")
    guangdong.call("province", "POST", "verification", f"/cases/{case_id}/endorse",
                   json_body={"reason": "SAMPLE 推荐理由", "rank": n})
    if select:
        platform.call("ministry", "POST", "review", f"/cases/{case_id}/selection", json_body={"selected": True})
    return case_id


@pytest.fixture(scope="module")
def products(platform, call_id):
    """Four selected SAMPLE products and one endorsed but not selected."""
    selected = [file_product(platform, call_id, n) for n in (1, 2, 3, 4)]
    waiting = file_product(platform, call_id, 5, select=False)
    return selected, waiting


@pytest.fixture(scope="module")
def noticed(platform, call_id, products):
    selected, _ = products
    list_id = f"{call_id}:signature-products"
    candidates = platform.wait_until("the four selected products among the candidates", lambda: (
        lambda found: found if len(found["candidates"]) == 4 else None)(
        platform.call("ministry", "GET", "publication", f"/lists/{list_id}/candidates")))
    assert sorted(c["case_id"] for c in candidates["candidates"]) == sorted(selected)
    opened = platform.call("ministry", "POST", "publication", f"/lists/{list_id}/notice", expect=201,
                           json_body={"case_ids": selected})
    return list_id, opened


def public_list(platform: Platform, list_id: str, until=lambda document: True) -> dict:
    def probe():
        response = requests.get(f"{platform.base['publication']}/publication/lists/{list_id}", timeout=30)
        return response.json() if response.status_code == 200 and until(response.json()) else None

    return platform.wait_until(f"list {list_id} as the public sees it", probe, timeout=60)


def rebuilt_from_the_ledger(ledger_url: str, list_id: str) -> dict:
    """The list from a fresh read of the ledger alone: its stream and its entries' case streams."""
    ledger = CaseLedger(ledger_url)
    try:
        stream = ledger.find_public_list(list_id)
        return list_document(stream, {case_id: ledger.get_case(case_id) for case_id in stream.entries})
    finally:
        ledger.close()


def no_private_data(text: str) -> None:
    leaked = [v for v in CONTACT_VALUES if v and v in text]
    assert not leaked, f"private fields shown: {leaked}"
    assert "credit_code" not in text and "mobile" not in text and "email" not in text


# -- the notice -----------------------------------------------------------------------------------


def test_the_whole_list_goes_up_for_ten_working_days_across_the_spring_festival(platform, noticed, products):
    list_id, opened = noticed
    selected, _ = products
    assert opened["notice"] == {"starts_on": "2026-02-11", "ends_on": LAST_DAY.isoformat(), "working_days": 10,
                                "closed_on": None}
    shown = public_list(platform, list_id)
    assert shown["status"] == "notice_open" and shown["notice"] == opened["notice"]
    assert [e["case_id"] for e in shown["entries"]] == selected
    notices = platform.wait_until("the notice among the notices", lambda: [
        n for n in public(platform, "/notices").json() if n["list_id"] == list_id])
    assert notices[0]["notice"]["ends_on"] == "2026-03-02"
    # Every case of the list is under notice with the same period, in the ledger.
    history = platform.call("auditor", "GET", "audit", f"/cases/{selected[0]}/history")["events"]
    assert history[-1]["type"] == "PublicNoticeOpened"
    assert history[-1]["payload"]["notice_id"] == list_id and history[-1]["payload"]["ends_on"] == "2026-03-02"


def test_only_the_ministry_puts_a_list_up_and_not_twice(platform, noticed, call_id):
    list_id, _ = noticed
    hubei = as_party(platform, "province", "420000")
    hubei.call("province", "POST", "publication", f"/lists/{list_id}/notice", expect=403,
               json_body={"case_ids": [str(uuid.uuid4())]})
    again = platform.call("ministry", "POST", "publication", f"/lists/{list_id}/notice", expect=400,
                          json_body={"case_ids": [str(uuid.uuid4())]})
    assert again["error"] == "rule_violated" and "notice" in again["fields"]
    early = platform.call("ministry", "POST", "publication", f"/lists/{list_id}/publish", expect=400, json_body={})
    assert "2026-03-02" in early["fields"]["notice"][0]
    missing = requests.get(f"{platform.base['publication']}/publication/lists/{list_id}/candidates", timeout=30)
    assert missing.status_code == 401


# -- objections: one upheld, one dismissed ----------------------------------------------------------


@pytest.fixture(scope="module")
def objections(platform, noticed, products):
    list_id, _ = noticed
    selected, _ = products
    before = public_list(platform, list_id)
    # A competing unit (Shenzhen) deposits its evidence first, then objects to the first product.
    rival_code = credit_code(6001, "440300")
    rival = as_party(platform, "applicant", rival_code, {"province": "440000", "city": "440300"})
    evidence = rival.call("applicant", "POST", "documents", "/uploads", expect=201,
                          data=SAMPLE_PDF + b"%SAMPLE objection evidence\n", params={"filename": "SAMPLE异议证据.pdf"})
    upheld = rival.call("applicant", "POST", "publication", f"/lists/{list_id}/entries/{selected[0]}/objections",
                        expect=201,
                        json_body={"reasons": "SAMPLE 该产品专利权属存在争议", "evidence": [evidence["sha256"]]})
    # A provincial official objects to the second with reasons alone.
    hubei = as_party(platform, "province", "420000")
    dismissed = hubei.call("province", "POST", "publication", f"/lists/{list_id}/entries/{selected[1]}/objections",
                           expect=201, json_body={"reasons": "SAMPLE 收到群众反映，产量数据存疑"})
    platform.call("ministry", "POST", "publication",
                  f"/lists/{list_id}/entries/{selected[0]}/objections/{upheld['objection_id']}/resolution",
                  json_body={"upheld": True, "resolution": "SAMPLE 经核实，专利权属争议属实，异议成立"})
    platform.call("ministry", "POST", "publication",
                  f"/lists/{list_id}/entries/{selected[1]}/objections/{dismissed['objection_id']}/resolution",
                  json_body={"upheld": False, "resolution": "SAMPLE 经核实，产量数据属实，异议不成立"})
    after = public_list(platform, list_id, until=lambda d: len(d["entries"]) == 3)
    return {"before": before, "after": after, "upheld": upheld, "dismissed": dismissed, "rival_code": rival_code,
            "evidence": evidence["sha256"], "hubei": hubei}


def test_an_upheld_objection_takes_the_entry_off_and_a_dismissed_one_leaves_it(platform, objections, products):
    selected, _ = products
    assert [e["case_id"] for e in objections["before"]["entries"]] == selected
    assert [e["case_id"] for e in objections["after"]["entries"]] == selected[1:]
    assert [e["position"] for e in objections["after"]["entries"]] == [1, 2, 3]

    delisted = platform.call("auditor", "GET", "audit", f"/cases/{selected[0]}/history")["events"]
    raised, resolved = delisted[-2], delisted[-1]
    assert raised["type"] == "ObjectionRaised" and raised["payload"]["evidence"] == [objections["evidence"]]
    assert (raised["actor"]["role"], raised["actor"]["org"]) == ("applicant", objections["rival_code"])
    assert resolved["type"] == "ObjectionResolved" and resolved["payload"]["upheld"] is True
    assert resolved["payload"]["resolution"] == "SAMPLE 经核实，专利权属争议属实，异议成立"
    state = platform.call("ministry", "GET", "review", f"/cases/{selected[0]}")["state"]
    assert state == "delisted"
    kept = platform.call("ministry", "GET", "review", f"/cases/{selected[1]}")
    assert kept["state"] == "notice_open" and kept["open_objections"] == []


def test_the_ministry_sees_every_objection_an_objector_only_their_own(platform, noticed, objections):
    list_id, _ = noticed
    everything = platform.wait_until("both objections resolved in the read model", lambda: (
        lambda rows: rows if {r["status"] for r in rows} == {"upheld", "dismissed"} else None)(
        platform.call("ministry", "GET", "publication", f"/lists/{list_id}/objections")))
    assert len(everything) == 2
    mine = objections["hubei"].call("province", "GET", "publication", f"/lists/{list_id}/objections")
    assert [(o["objection_id"], o["status"], o["resolution"]) for o in mine] == [
        (objections["dismissed"]["objection_id"], "dismissed", "SAMPLE 经核实，产量数据属实，异议不成立")]


def test_an_objection_is_refused_without_a_token_with_evidence_not_deposited_or_against_no_entry(
        platform, noticed, products, objections):
    list_id, _ = noticed
    selected, waiting = products
    url = f"{platform.base['publication']}/publication/lists/{list_id}/entries/{selected[2]}/objections"
    assert requests.post(url, json={"reasons": "SAMPLE"}, timeout=30).status_code == 401
    stranger = objections["hubei"].call("province", "POST", "publication",
                                        f"/lists/{list_id}/entries/{selected[2]}/objections", expect=400,
                                        json_body={"reasons": "SAMPLE", "evidence": [objections["evidence"]]})
    assert list(stranger["fields"]) == ["evidence[0]"]  # the rival's document, not the province's
    blank = objections["hubei"].call("province", "POST", "publication",
                                     f"/lists/{list_id}/entries/{selected[2]}/objections", expect=400,
                                     json_body={"reasons": ""})
    assert "reasons" in blank["fields"]
    for off_the_list in (selected[0], waiting):
        objections["hubei"].call("province", "POST", "publication",
                                 f"/lists/{list_id}/entries/{off_the_list}/objections", expect=404,
                                 json_body={"reasons": "SAMPLE"})
    history = platform.call("auditor", "GET", "audit", f"/cases/{selected[2]}/history")["events"]
    assert history[-1]["type"] == "PublicNoticeOpened"  # nothing of the refused ones was recorded


# -- the timer, publication, and the ledger ----------------------------------------------------------


@pytest.fixture(scope="module")
def closed(world, noticed, objections):
    platform, _, publication_on = world
    list_id, _ = noticed
    later = publication_on(CLOSING_DAY)
    shown = public_list(platform, list_id, until=lambda d: d["status"] == "notice_closed")
    return later, shown


def test_the_notice_closes_by_itself_the_day_after_its_last_working_day(world, noticed, closed, products):
    platform, ledger_url, _ = world
    list_id, _ = noticed
    _, shown = closed
    assert shown["notice"]["closed_on"] == CLOSING_DAY.isoformat()
    ledger = CaseLedger(ledger_url)
    try:
        stream = ledger.find_public_list(list_id)
        events = [(type(e).__name__, e.actor["role"]) for e in ledger.events.get(stream.id)]
    finally:
        ledger.close()
    assert events == [("ListCreated", "ministry"), ("NoticeOpened", "ministry"), ("EntryDelisted", "ministry"),
                      ("NoticeClosed", "system")]
    assert list_id not in [n["list_id"] for n in public(platform, "/notices").json()]


def test_after_the_close_no_objection_is_taken(noticed, closed, products, objections):
    list_id, _ = noticed
    later, _ = closed
    selected, _ = products
    hubei = replace(later, tokens=objections["hubei"].tokens)
    late = hubei.call("province", "POST", "publication", f"/lists/{list_id}/entries/{selected[2]}/objections",
                      expect=400, json_body={"reasons": "SAMPLE 迟到的异议"})
    assert "objection" in late["fields"]


@pytest.fixture(scope="module")
def published(noticed, closed):
    list_id, _ = noticed
    later, _ = closed
    return later.call("ministry", "POST", "publication", f"/lists/{list_id}/publish", json_body={})


def test_the_ministry_publishes_what_remains_and_the_cases_record_it(world, noticed, published, products):
    platform = world[0]
    list_id, _ = noticed
    selected, _ = products
    assert published["status"] == "published"
    assert [e["case_id"] for e in published["entries"]] == selected[1:]
    for case_id in selected[1:]:
        history = platform.call("auditor", "GET", "audit", f"/cases/{case_id}/history")["events"]
        assert history[-1]["type"] == "Published" and history[-1]["payload"]["list_id"] == list_id


def test_the_list_rebuilt_from_the_ledger_alone_equals_the_published_one(world, noticed, published):
    platform, ledger_url, _ = world
    list_id, _ = noticed
    served = public_list(platform, list_id, until=lambda d: d["status"] == "published")
    assert served == rebuilt_from_the_ledger(ledger_url, list_id)
    assert served["published_at"] == published["published_at"]
    assert served["notice"] == {"starts_on": "2026-02-11", "ends_on": "2026-03-02", "working_days": 10,
                                "closed_on": "2026-03-03"}
    no_private_data(json.dumps(served, ensure_ascii=False))


# -- the product library and the downloads ---------------------------------------------------------------


def test_the_library_finds_published_products_by_year_domain_type_province_and_name(platform, published, products,
                                                                                   call_id):
    selected, _ = products
    everything = platform.wait_until("the products in the library", lambda: (
        lambda page: page if page["total"] == 3 else None)(public(platform, "/products", year=2024).json()))
    assert [p["case_id"] for p in everything["items"]] == selected[1:]
    first, second = (public(platform, "/products", year=2024, per_page=2, page=n).json() for n in (1, 2))
    assert (first["total"], len(first["items"]), len(second["items"])) == (3, 2, 1)
    assert [p["case_id"] for p in first["items"] + second["items"]] == selected[1:]
    assert public(platform, "/products", name="标志性产品 3").json()["items"][0]["case_id"] == selected[2]
    narrowed = public(platform, "/products", year=2024, domain="生物基材料", type="规模替代型",
                      province="440000").json()
    assert narrowed["total"] == 3
    assert public(platform, "/products", province="广东省").json()["total"] == 3
    assert public(platform, "/products", province="420000").json()["total"] == 0
    assert public(platform, "/products", year=2025).json()["total"] == 0
    assert public(platform, "/products", page="0", expect=400).json()["fields"] == {
        "page": ["a whole number from 1 to 100000"]}
    # A misspelt filter is refused, not ignored (ignored, it would answer with all three as if it had filtered).
    misspelt = public(platform, "/products", provnce="420000", expect=400).json()["fields"]
    assert list(misspelt) == ["provnce"] and misspelt["provnce"][0].startswith("not a parameter of this route")
    one = public(platform, f"/products/{selected[1]}").json()
    assert one["product"] == "SAMPLE 标志性产品 2" and one["province_name"] == "广东省"
    assert one["href"] == f"/publication/products/{selected[1]}"
    no_private_data(json.dumps(everything, ensure_ascii=False) + json.dumps(one, ensure_ascii=False))


def test_the_public_api_refuses_every_case_that_is_not_published(platform, published, products, call_id):
    selected, waiting = products
    for case_id in (selected[0], waiting, str(uuid.uuid4())):  # delisted, never selected, no such case
        assert public(platform, f"/products/{case_id}", expect=404).json()["error"] == "not_found"
    public(platform, f"/lists/{call_id}:successful", expect=404)  # wrong kind for this call: never put up
    public(platform, "/lists/not-a-list", expect=404)
    indexed = [entry["list_id"] for entry in public(platform, "/lists").json()]
    assert f"{call_id}:signature-products" in indexed
    everything = json.dumps(public(platform, "/lists").json(), ensure_ascii=False)
    assert waiting not in everything and selected[0] not in everything


def test_the_list_downloads_as_csv_and_excel_with_public_fields_only(platform, noticed, published, products):
    list_id, _ = noticed
    selected, _ = products
    served = public_list(platform, list_id, until=lambda d: d["status"] == "published")
    raw = public(platform, f"/lists/{list_id}/entries.csv")
    assert raw.headers["Content-Type"].startswith("text/csv")
    text = raw.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows[0] == ["序号", "产品名称", "申请单位", "所属征集领域", "所属征集类型", "推荐地区"]
    assert [r[1] for r in rows[1:]] == [e["product"] for e in served["entries"]]
    assert [r[0] for r in rows[1:]] == ["1", "2", "3"]
    no_private_data(text)

    book = load_workbook(io.BytesIO(public(platform, f"/lists/{list_id}/entries.xlsx").content))
    sheet = book.active
    values = [[c for c in row] for row in sheet.iter_rows(values_only=True)]
    assert values[0][0] == served["title"]
    assert "公示期：2026-02-11 至 2026-03-02（10个工作日）" in values[2][0]
    header = values.index(["序号", "产品名称", "申请单位", "所属征集领域", "所属征集类型", "推荐地区"])
    assert [row[1] for row in values[header + 1:]] == [e["product"] for e in served["entries"]]
    assert selected[0] not in json.dumps(values, ensure_ascii=False, default=str)
    no_private_data(json.dumps(values, ensure_ascii=False, default=str))


# -- 揭榜挂帅: lists without a notice ----------------------------------------------------------------------


def test_the_open_competition_lists_are_published_without_a_notice(world):
    platform, ledger_url, _ = world
    walked = walk_open_competition(platform, log=lambda line: None)  # ends by publishing the successful list
    successful = public_list(platform, f"{walked['call_id']}:successful")
    assert successful["status"] == "published" and successful["notice"] is None
    assert [e["case_id"] for e in successful["entries"]] == [walked["case_id"]]

    shortlist_id = f"{walked['call_id']}:shortlist"
    refused = platform.call("ministry", "POST", "publication", f"/lists/{shortlist_id}/notice", expect=400,
                            json_body={"case_ids": [walked["case_id"]]})
    assert "notice" in refused["fields"]
    platform.call("ministry", "POST", "publication", f"/lists/{shortlist_id}/publish",
                  json_body={"case_ids": [walked["case_id"]]})
    shortlist = public_list(platform, shortlist_id)
    (entry,) = shortlist["entries"]
    assert entry["direction_name"] == "SAMPLE 反应器系统方向（示例）" and entry["lead_unit"].startswith("SAMPLE")
    assert set(entry) == {"position", "case_id", "direction", "direction_name", "task", "lead_unit", "members",
                          "province", "province_name"}
    assert shortlist == rebuilt_from_the_ledger(ledger_url, shortlist_id)
    rows = list(csv.reader(io.StringIO(public(platform, f"/lists/{shortlist_id}/entries.csv").text.lstrip("\ufeff"))))
    assert rows[0] == ["序号", "揭榜方向", "任务名称", "牵头单位", "联合申请单位", "推荐地区"]
    assert rows[1][3] == entry["lead_unit"]

"""The generated application forms without a browser: the call's form schema as fields (every
field, labelled in Chinese, nested parts as fieldsets, lists as rows), the posted fields read
back into the JSON the service loads (a SAMPLE application round-trips), and the pages with
the services' answers stubbed: a refusal shown next to its field with the values kept."""

from __future__ import annotations

import re
import time

import pytest
from werkzeug.datastructures import MultiDict

from services.console import apis
from services.console.app import create_app
from services.console.pages.applicant_form_fields import Schema, count_chars, edit_rows, flatten
from services.console.sessions import COOKIE
from services.console.settings import ConsoleSettings
from services.intake.schemas import _shipped
from shared.domain.forms.for_call import application_schema
from shared.domain.forms.open_competition import open_competition_schema
from shared.domain.forms.samples import (
    SAMPLE_CATEGORY,
    SAMPLE_DIRECTIONS,
    SAMPLE_OPEN_COMPETITION_APPLICATION,
    SAMPLE_SIGNATURE_PRODUCT_APPLICATION,
)
from shared.infra.web.openapi import json_schema
from shared.infra.web.tokens import mint_dev_token

SECRET = "SAMPLE-console-unit-test-secret-0123456789"
CALL_382 = _shipped("signature_product_2024_382")
DOMAIN_382 = application_schema(CALL_382)
DOMAIN_220 = open_competition_schema(SAMPLE_CATEGORY, SAMPLE_DIRECTIONS)
SCHEMA_382 = json_schema("Application", DOMAIN_382)
SCHEMA_220 = json_schema("Application", DOMAIN_220)


def leaves(schema_doc, values=None):
    fields = Schema(schema_doc, ("其他",)).fields(values)
    return {f.path: f for top in fields for f in top.walk()}


def test_every_field_of_the_382_form_is_generated_under_the_path_its_refusals_name():
    fields = leaves(SCHEMA_382, SAMPLE_SIGNATURE_PRODUCT_APPLICATION)
    expected = {path for path, _ in flatten(SAMPLE_SIGNATURE_PRODUCT_APPLICATION)}
    assert expected <= set(fields)
    assert fields["product"].kind == "group" and fields["product.equipment"].kind == "group"
    assert fields["product.ip_items"].kind == "list" and len(fields["product.ip_items"].children) == 3
    assert fields["applicant.profile"].kind == "textarea" and fields["applicant.profile"].max_length == 500
    assert fields["product.innovation_highlights"].max_length == 100
    assert fields["applicant.unit_nature"].enum[0] == "central_soe"
    assert fields["applicant.listed"].kind == "checkbox"
    assert fields["applicant.stock_code"].show_when == ("applicant.listed", ("true",))
    assert fields["product.domain_other"].show_when == ("product.domain", ("其他",))
    assert fields["product.ip_items[1].kind_other"].show_when == ("product.ip_items[1].kind", ("other",))
    assert fields["cover.seal"].kind == "evidence" and fields["applicant.profile_evidence[1]"].kind == "evidence"


def test_the_220_form_has_the_lead_members_up_to_four_and_the_unit_conditions():
    fields = leaves(SCHEMA_220, SAMPLE_OPEN_COMPETITION_APPLICATION)
    assert fields["members"].max_items == 4 and len(fields["members"].children) == 3
    assert fields["members[0].user_of"].kind == "checkboxes"
    assert fields["members[0].user_of"].show_when == ("members[0].user_enterprise", ("true",))
    assert fields["lead.cas_institute"].show_when == ("lead.kind", ("research_institute",))
    assert fields["declarations.sound_management_systems"].kind == "checkbox"
    assert fields["summary"].max_length == 1000 and fields["targets[1]"].max_length == 300


@pytest.mark.parametrize(("schema_doc", "domain", "sample"), [
    (SCHEMA_382, DOMAIN_382, SAMPLE_SIGNATURE_PRODUCT_APPLICATION),
    (SCHEMA_220, DOMAIN_220, SAMPLE_OPEN_COMPETITION_APPLICATION),
])
def test_a_sample_application_posted_through_the_fields_reads_back_as_the_same_application(schema_doc, domain,
                                                                                            sample):
    posted = MultiDict(flatten(sample))
    parsed = Schema(schema_doc).parse(posted)
    assert domain.dump(domain.load(parsed)) == domain.dump(domain.load(sample))


def test_blank_rows_are_left_out_and_textarea_line_breaks_count_as_the_domain_counts():
    posted = MultiDict(flatten(SAMPLE_SIGNATURE_PRODUCT_APPLICATION))
    posted.add("product.ip_items[7].name", "")
    posted.add("product.equipment.other[0]", "  ")
    posted.setlist("applicant.profile", ["第一行\r\n第二行 "])
    parsed = Schema(SCHEMA_382).parse(posted)
    assert len(parsed["product"]["ip_items"]) == 3 and parsed["product"]["equipment"]["other"] == []
    assert parsed["applicant"]["profile"] == "第一行\n第二行 " and count_chars("第一行\r\n第二行 ") == 7
    kept = Schema(SCHEMA_382).parse(posted, keep_blank_rows=True)
    assert len(kept["product"]["ip_items"]) == 4


def test_rows_are_added_and_removed_by_path():
    values = {"product": {"ip_items": [{"name": "a"}, {"name": "b"}]}, "targets": ["x"]}
    edit_rows(values, "remove:product.ip_items[0]")
    edit_rows(values, "add:targets")
    edit_rows(values, "add:members")
    assert values == {"product": {"ip_items": [{"name": "b"}]}, "targets": ["x", None], "members": [None]}


# -- the pages, with the services stubbed --------------------------------------------------


@pytest.fixture
def client(tmp_path):
    settings = ConsoleSettings.from_env({"AUTH_MODE": "dev-hs256", "JWT_SECRET": SECRET,
                                         "CASEPLATFORM_DATA_DIR": str(tmp_path), "CONSOLE_PORT": "8199"})
    app = create_app(settings)
    session = app.config["SESSIONS"].new()
    token = mint_dev_token(SECRET, sub="sample-applicant", role="applicant", org="91420100000000001Y",
                           name="SAMPLE applicant")
    session.tokens = {"access_token": token, "refresh_token": "", "id_token": "x", "expires_at": time.time() + 900}
    test_client = app.test_client()
    test_client.set_cookie(COOKIE, session.sid)
    test_client.csrf = session.csrf
    return test_client


@pytest.fixture
def service(monkeypatch):
    """The intake and documents APIs as the form pages call them; `sent` records the commands."""
    sent = []
    call = {**CALL_382, "call_id": "sample-382"}
    refusal = {"product.innovation_highlights": ["不得超过100字（现为101字） / at most 100 characters (101 given)"]}

    def send(base, method, path, token=None, **kwargs):
        sent.append((method, path, kwargs.get("json")))
        if (method, path) == ("GET", "/intake/calls/sample-382"):
            return apis.Answer(call, 200)
        if (method, path) == ("GET", "/intake/calls/sample-382/form"):
            return apis.Answer({"json_schema": SCHEMA_382}, 200)
        if (method, path) == ("GET", "/documents/uploads"):
            return apis.Answer([{"sha256": "ab" * 32, "filename": "SAMPLE.pdf", "size": 10}], 200)
        if (method, path) == ("POST", "/intake/calls/sample-382/cases"):
            highlights = kwargs["json"]["product"]["innovation_highlights"]
            if count_chars(highlights) > 100:
                return apis.Answer(status=400, error="400: the application cannot be filed", code="invalid",
                                   fields=refusal)
            return apis.Answer({"case_id": "SAMPLE-case"}, 201)
        if (method, path) == ("POST", "/intake/drafts"):
            return apis.Answer({"draft_id": "SAMPLE-draft", "call_id": "sample-382", "updated_at": "x"}, 201)
        return apis.Answer(status=404, error="404: not stubbed")

    monkeypatch.setattr(apis, "send", send)
    return sent


def test_the_382_form_page_shows_every_field_labelled_in_chinese(client, service):
    page = client.get("/calls/sample-382/apply").get_data(as_text=True)
    assert '<label for="f-applicant-profile">单位简介' in page
    assert "<legend>二、申请产品情况</legend>" in page and "<legend>知识产权情况" in page
    assert 'name="product.ip_items[0].granted_on"' in page and 'type="date"' in page
    assert '<option value="private" >民营企业</option>' in page
    assert 'data-when="applicant.listed" data-is="true"' in page
    assert 'id="count-f-applicant-profile"' in page and "0 / 500 字" in page
    assert '<option value="abababab' in page and ".pdf" in page  # uploaded documents, accepted types


def test_a_refusal_is_shown_next_to_its_field_with_every_value_kept(client, service):
    posted = MultiDict(flatten(SAMPLE_SIGNATURE_PRODUCT_APPLICATION))
    posted.setlist("product.innovation_highlights", ["长" * 101])
    posted.add("csrf", client.csrf)
    posted.add("op", "submit")
    answer = client.post("/calls/sample-382/apply", data=posted)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    error = re.search(r'<span class="field-error" id="error-f-product-innovation_highlights"[^>]*>([^<]*)', page)
    assert error and "不得超过100字" in error.group(1)
    # The refusal sits right after its own field's counter, which shows the count over the limit.
    field_at = page.index('id="f-product-innovation_highlights"')
    assert field_at < page.index("101 / 100 字") < error.start()
    assert 'class="count over"' in page
    assert '<a href="#f-product-innovation_highlights">产品创新亮点和优势</a>' in page  # the summary links it
    assert 'value="SAMPLE 张样例"' in page and "SAMPLE 样例单位简介" in page  # the other values kept


def test_submitting_a_good_form_redirects_to_the_case_and_saving_makes_a_draft(client, service):
    posted = MultiDict(flatten(SAMPLE_SIGNATURE_PRODUCT_APPLICATION))
    posted.add("csrf", client.csrf)
    saved = client.post("/calls/sample-382/apply", data=MultiDict([*posted.items(multi=True), ("op", "save")]))
    assert saved.headers["Location"] == "/drafts/SAMPLE-draft"
    assert service[-1][0:2] == ("POST", "/intake/drafts")
    assert service[-1][2]["form"]["applicant"]["staff_count"] == 320
    filed = client.post("/calls/sample-382/apply", data=MultiDict([*posted.items(multi=True), ("op", "submit")]))
    assert filed.headers["Location"] == "/cases/SAMPLE-case"
    assert service[-1][2]["product"]["ip_items"][2]["kind"] == "trademark"


def test_add_row_shows_the_form_again_with_one_more_row_and_nothing_lost(client, service):
    posted = MultiDict(flatten(SAMPLE_SIGNATURE_PRODUCT_APPLICATION))
    posted.add("csrf", client.csrf)
    posted.add("op", "add:product.ip_items")
    page = client.post("/calls/sample-382/apply", data=posted).get_data(as_text=True)
    assert 'name="product.ip_items[3].name"' in page and 'value="SAMPLE 样例商标"' in page
    assert not any(method == "POST" for method, _, _ in service)  # nothing sent to the service


def test_the_drafts_list_links_each_draft_and_exports_it(client, monkeypatch):
    def send(base, method, path, token=None, **kwargs):
        if path == "/intake/drafts":
            return apis.Answer([{"draft_id": "SAMPLE-d1", "call_id": "sample-382", "updated_at": "2026-12-04T20:00:00",
                                 "form": {"product": {"name": "SAMPLE 产品"}}}], 200)
        if path == "/intake/calls":
            return apis.Answer([{"call_id": "sample-382", "title": "SAMPLE 征集通知"}], 200)
        return apis.Answer(status=404, error="404: not stubbed")

    monkeypatch.setattr(apis, "send", send)
    page = client.get("/drafts").get_data(as_text=True)
    assert '<tr data-draft="SAMPLE-d1">' in page and '<a href="/drafts/SAMPLE-d1">SAMPLE 征集通知</a>' in page
    assert "SAMPLE 产品" in page
    exported = client.get("/drafts?export=csv").get_data().decode("utf-8-sig")
    assert exported.splitlines()[1].startswith("SAMPLE 征集通知,SAMPLE 产品,2026-12-04")


def test_in_english_the_labels_and_options_are_english(client, service):
    client.post("/language", data={"lang": "en", "csrf": client.csrf})
    page = client.get("/calls/sample-382/apply").get_data(as_text=True)
    assert '<label for="f-applicant-profile">Profile' in page and "<legend>2. The product</legend>" in page
    assert '<option value="private" >private</option>' in page and "0 / 500 characters" in page


class Sent:
    def __init__(self, status: int, body: dict):
        self.status_code, self._body, self.text = status, body, str(body)
        self.content = str(body).encode()

    def json(self):
        return self._body


def test_an_upload_is_forwarded_to_the_documents_service_as_the_person(client, monkeypatch):
    from io import BytesIO

    from services.console import apis

    forwarded = []

    def request(method, url, *, headers, params, data, timeout, **_):
        assert method == "POST"
        forwarded.append((url, params, data.read(), headers["Authorization"].startswith("Bearer ")))
        if params["filename"].endswith(".exe"):
            return Sent(415, {"error": "unsupported_file_type", "message": "a file named .exe is not accepted",
                              "fields": {"filename": [".exe names a program"]}})
        return Sent(201, {"sha256": "cd" * 32, "size": 9, "content_type": "application/pdf",
                          "filename": params["filename"]})

    monkeypatch.setattr(apis.requests, "request", request)
    xhr = {"X-CSRF-Token": client.csrf, "X-Requested-With": "XMLHttpRequest"}
    answer = client.post("/uploads", headers=xhr, data={"file": (BytesIO(b"%PDF-1.4 x"), "SAMPLE.pdf")})
    assert answer.status_code == 201 and answer.get_json()["sha256"] == "cd" * 32
    assert forwarded[0][0].endswith("/documents/uploads") and forwarded[0][1:] == ({"filename": "SAMPLE.pdf"},
                                                                                     b"%PDF-1.4 x", True)
    refused = client.post("/uploads", headers=xhr, data={"file": (BytesIO(b"MZ"), "SAMPLE.exe")})
    assert refused.status_code == 415 and refused.get_json()["fields"] == {"filename": [".exe names a program"]}
    # Without form.js: a plain form post, and back to the page it came from with the digest.
    plain = client.post("/uploads", data={"csrf": client.csrf, "next": "/drafts/SAMPLE-d1",
                                          "file": (BytesIO(b"%PDF-1.4 x"), "SAMPLE.pdf")})
    assert plain.headers["Location"] == "/drafts/SAMPLE-d1"
    assert "cd" * 32 in client.get("/").get_data(as_text=True)  # the notice on the next page


def test_a_call_is_open_until_its_applicant_deadline_has_passed():
    from services.console.pages.applicant_form import is_open

    assert is_open({"deadlines": {"applicant": {"due": None}}})
    assert is_open({"deadlines": {"applicant": {"due": "2999-01-01"}}})
    assert not is_open({"deadlines": {"applicant": {"due": "2000-01-01"}}})


def test_enter_in_a_field_shows_the_form_again_and_sends_nothing(client, service):
    posted = MultiDict(flatten(SAMPLE_SIGNATURE_PRODUCT_APPLICATION))
    posted.add("csrf", client.csrf)
    posted.add("op", "keep")  # the form's first button, which Enter presses
    page = client.post("/calls/sample-382/apply", data=posted).get_data(as_text=True)
    assert page.index('value="keep"') < page.index('value="remove:')
    assert 'value="SAMPLE 样例商标"' in page and 'name="product.ip_items[3].name"' not in page
    assert not any(method == "POST" for method, _, _ in service)

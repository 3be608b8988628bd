"""Sealing and revealing personal values (issue #21): the vault on a SQLite key store.

What is sealed is exactly what `personal_paths` finds; a value opens only under its own key, in
a view of its own case; a destroyed key reads as erased; an altered or transplanted sealed value
is never opened; a reading is recorded with who, which case and route, and which subjects.
"""

from __future__ import annotations

import copy

import pytest

from shared.domain.forms.samples import SAMPLE_SIGNATURE_PRODUCT_APPLICATION
from shared.domain.forms.signature_product import signature_product_schema
from shared.domain.sealed import ERASED, PREFIX, SEALED, looks_sealed, parse, seal_text, sealed_keys, sealed_values
from shared.infra.notify import dispatch
from shared.infra.notify.errors import PermanentFailure
from shared.infra.personal.keystore import KeyStore
from shared.infra.personal.vault import Vault
from shared.infra.web.http import unstorable_text

CASE, OTHER = "c" * 32, "d" * 32
READER = {"sub": "sample-applicant", "role": "applicant", "org": "91420100000000001Y"}


@pytest.fixture
def vault(tmp_path):
    store = KeyStore(f"sqlite:///{tmp_path}/keys.db")
    yield Vault(store)
    store.close()


@pytest.fixture
def application():
    schema = signature_product_schema(["生物基材料"], ["规模替代型"])
    return schema, schema.dump(schema.load(copy.deepcopy(SAMPLE_SIGNATURE_PRODUCT_APPLICATION)))


def test_every_personal_value_is_sealed_and_nothing_else(vault, application):
    schema, document = application
    sealed = vault.seal(CASE, schema, document)
    paths = {path for path, _ in sealed_values(sealed)}
    assert paths == {f"cover.{c}.{f}" for c in ("contact_1", "contact_2") for f in ("name", "post", "mobile", "email")
                     } | {"applicant.legal_representative"}
    assert sealed["product"] == document["product"]  # not a person's: as filed
    assert document["cover"]["contact_1"]["mobile"] == "13800138000"  # the caller's copy is untouched
    assert "13800138000" not in str(sealed)
    # One key per data subject: a contact's four fields share one, the two contacts do not.
    keys = {path.rsplit(".", 1)[0]: s.key_id for path, s in sealed_values(sealed) if path.startswith("cover.")}
    assert keys["cover.contact_1"] != keys["cover.contact_2"]
    assert len(sealed_keys(sealed)) == 3


def test_a_second_sealing_of_the_same_case_uses_the_same_keys(vault, application):
    schema, document = application
    assert sealed_keys(vault.seal(CASE, schema, document)) == sealed_keys(vault.seal(CASE, schema, document))
    assert sealed_keys(vault.seal(CASE, schema, document)).isdisjoint(sealed_keys(vault.seal(OTHER, schema, document)))


def test_a_view_of_the_case_opens_its_values_and_the_reading_is_recorded(vault, application):
    schema, document = application
    sealed = vault.seal(CASE, schema, document)
    shown = vault.reveal({"case_id": CASE, "application": sealed}, case_id=CASE, reader=READER,
                         route="GET /intake/cases/<case_id>")
    assert shown["application"] == document
    [reading] = vault.store.accesses(case_id=CASE)
    assert (reading["sub"], reading["route"]) == ("sample-applicant", "GET /intake/cases/<case_id>")
    assert set(reading["subjects"]) == {"cover.contact_1", "cover.contact_2", "applicant.legal_representative"}


def test_a_view_of_another_case_does_not_open_them_nor_record_anything(vault, application):
    schema, document = application
    sealed = vault.seal(CASE, schema, document)
    shown = vault.reveal({"application": sealed}, case_id=OTHER, reader=READER, route="GET /x")
    assert shown["application"]["cover"]["contact_1"]["mobile"] == SEALED
    assert vault.store.accesses() == []


def test_an_altered_or_relabelled_sealed_value_is_never_opened(vault, application):
    schema, document = application
    sealed = vault.seal(CASE, schema, document)
    value = parse(sealed["cover"]["contact_1"]["mobile"])
    other = parse(sealed["cover"]["contact_2"]["mobile"])
    flipped = value.token[:-3] + ("A" if value.token[-3] != "A" else "B") + value.token[-2:]
    relabelled = seal_text(other.key_id, value.token)  # contact 1's ciphertext under contact 2's key id
    opened, _ = vault.open([seal_text(value.key_id, flipped), relabelled], CASE)
    assert opened == [SEALED, SEALED]


def test_a_destroyed_key_reads_as_erased_and_the_other_subjects_still_read(vault, application):
    schema, document = application
    sealed = vault.seal(CASE, schema, document)
    contact_1 = parse(sealed["cover"]["contact_1"]["email"]).key_id
    assert vault.destroy([contact_1]) == 1
    assert vault.destroy([contact_1]) == 0  # idempotent
    opened, shown = vault.open(sealed, CASE)
    assert opened["cover"]["contact_1"] == {"name": ERASED, "post": ERASED, "mobile": ERASED, "email": ERASED}
    assert opened["cover"]["contact_2"] == document["cover"]["contact_2"]
    assert shown == {"cover.contact_2", "applicant.legal_representative"}
    # Named again after the erasure, the person gets a new key; the erased values stay erased.
    again = vault.seal(CASE, schema, document)
    assert parse(again["cover"]["contact_1"]["email"]).key_id != contact_1
    assert vault.open(again, CASE)[0]["cover"]["contact_1"] == document["cover"]["contact_1"]
    assert vault.open(sealed, CASE)[0]["cover"]["contact_1"]["email"] == ERASED


def test_the_sender_opens_a_contact_s_address_and_parks_a_notice_to_an_erased_one(vault, application):
    schema, document = application
    sealed = vault.seal(CASE, schema, document)
    address = sealed["cover"]["contact_1"]["email"]
    assert vault.open_for_delivery(address) == document["cover"]["contact_1"]["email"]
    assert vault.open_for_delivery("office@sample.example.com") == "office@sample.example.com"
    vault.destroy([parse(address).key_id])
    assert vault.open_for_delivery(address) is None

    class Row:
        id, channel, kind, payload = "n-1", "email", "returned", {"subject": "s", "text_zh": "z", "text_en": "e"}

    Row.address = address
    send = dispatch.sender(smtp=object(), opened=vault.open_for_delivery)  # type: ignore[arg-type]
    with pytest.raises(PermanentFailure, match="erased"):
        send(Row)


@pytest.mark.parametrize("text", [PREFIX + "a" * 32 + ":AAAA", " Sealed:v1:x", "sealed:v2:"])
def test_no_request_may_carry_text_that_looks_sealed(text):
    assert looks_sealed(text)
    assert unstorable_text({"cover": {"contact_1": {"name": text}}}) == {
        "cover.contact_1.name": ["text may not start with 'sealed:v', the platform's mark of encrypted data"]}


def test_ordinary_text_is_not_taken_for_sealed():
    assert parse("sealed: the envelope was sealed") is None
    assert not looks_sealed("密封 sealed")


# -- a panel's experts ----------------------------------------------------------------------------

EXPERTS = [{"id": "sample-expert-a", "name": "SAMPLE 专家甲", "unit": "12100000SAMPLEEA01", "relations": []},
           {"id": "sample-expert-b", "name": "SAMPLE 专家乙", "unit": "12100000SAMPLEEB02",
            "relations": ["91420100000000001Y"]}]
MINISTRY = {"sub": "sample-ministry", "role": "ministry", "org": "MIIT"}


def formed_panel(vault):
    from services.review.panel_privacy import sealed_experts
    from shared.domain.actors import Actor
    from shared.domain.panel import Panel

    experts = sealed_experts(vault, "sample-call", "SAMPLE-R1", copy.deepcopy(EXPERTS))
    return Panel.form(actor=Actor(**MINISTRY), call_id="sample-call", direction="SAMPLE-R1",
                      criteria=[{"id": "q", "name": "SAMPLE", "max_score": 10}], experts=experts)


def test_an_expert_s_name_and_declared_relation_are_sealed_under_their_own_key_and_the_rest_is_not(vault):
    from services.review.panel_privacy import sealed_relation
    from shared.domain.actors import Actor

    panel = formed_panel(vault)
    stored = list(panel.experts.values())
    assert [parse(e["name"]) is not None for e in stored] == [True, True]
    # What the conflict rule decides on stays readable: the id, the unit, the related units.
    assert [(e["id"], e["unit"], e["relations"]) for e in stored] == [
        (e["id"], e["unit"], e["relations"]) for e in EXPERTS]
    assert {k.subject for k in vault.store.of_case(str(panel.id))} == {"experts.0", "experts.1"}
    assert panel.assign(actor=Actor(**MINISTRY), case_id="c1", expert="sample-expert-b",
                        units={"91420100000000001Y": "applicant"}) is not None  # refused: a declared relation

    relation = sealed_relation(vault, panel, "sample-expert-a", "SAMPLE 曾任该单位顾问")
    assert parse(relation).key_id == parse(stored[0]["name"]).key_id  # the same person, the same key
    assert sealed_relation(vault, panel, "sample-expert-a", "  ") == "  "  # blank: left for the domain to refuse
    opened = vault.reveal({"experts": stored, "relation": relation}, case_id=str(panel.id), reader=MINISTRY,
                          route="GET /review/panels/<call_id>/<direction>")
    assert [e["name"] for e in opened["experts"]] == ["SAMPLE 专家甲", "SAMPLE 专家乙"]
    assert opened["relation"] == "SAMPLE 曾任该单位顾问"


def test_a_panel_records_an_expert_s_erasure_then_reads_them_as_erased(vault):
    from shared.domain.actors import Actor
    from shared.domain.errors import DomainRuleViolation
    from shared.domain.panel import Panel

    panel = formed_panel(vault)
    keys = vault.store.of_case(str(panel.id))
    held, first = {k.subject for k in keys}, [k.key_id for k in keys if k.subject == "experts.0"]
    officer = Actor(sub="sample-privacy-officer", role="privacy", org="MIIT-PRIVACY")
    with pytest.raises(DomainRuleViolation, match=r"holds no personal data of experts\.5"):
        panel.erase_personal_data(actor=officer, subjects=["experts.5"], keys=[], held=held, request="R", reason="S")
    with pytest.raises(DomainRuleViolation, match="at least one"):
        panel.erase_personal_data(actor=officer, subjects=[], keys=[], held=held, request="R", reason="S")
    panel.erase_personal_data(actor=officer, subjects=["experts.0"], keys=first, held=held,
                              request="SAMPLE-PIPL-1", reason="SAMPLE")
    [erased] = [e for e in panel.collect_events() if isinstance(e, Panel.PersonalDataErased)]
    assert (erased.subjects, erased.keys, erased.request) == (["experts.0"], first, "SAMPLE-PIPL-1")
    assert panel.erased_keys == first
    with pytest.raises(DomainRuleViolation, match="already erased"):
        panel.erase_personal_data(actor=officer, subjects=["experts.0"], keys=first, held=held, request="R",
                                  reason="S")
    vault.destroy(panel.erased_keys)
    names = vault.reveal([e["name"] for e in panel.experts.values()], case_id=str(panel.id), reader=MINISTRY,
                         route="GET /review/panels/<call_id>/<direction>")
    assert names == [ERASED, "SAMPLE 专家乙"]
    assert [s["erased"] for s in vault.subjects(str(panel.id), panel.erased_keys)] == [True, False]


def test_a_panel_snapshot_of_before_erasures_reads_with_none_erased():
    from shared.domain.panel import Panel

    state: dict = {}
    Panel.upcast_v1_v2(state)
    assert state == {"erased_keys": []} and Panel.class_version == 2


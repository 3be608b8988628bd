"""A refusal never repeats a person's data (issue #21, item 6): every personal field of the SAMPLE
382 application, made invalid in a way that keeps the sample value inside it, is refused naming
its field, and no message holds the value; nor does the example database hypothesis keeps.

The running services are held to the same in tests/e2e/test_personal_leaks.py (their answers,
logs and the summary table).
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from marshmallow import ValidationError

from shared.domain import personal
from shared.domain.forms.samples import SAMPLE_SIGNATURE_PRODUCT_APPLICATION
from shared.domain.forms.signature_product import signature_product_schema
from shared.domain.validation import flatten_messages

SCHEMA = signature_product_schema(["生物基材料"], ["规模替代型"])
PERSONAL = personal.personal_paths(SCHEMA, SAMPLE_SIGNATURE_PRODUCT_APPLICATION)


def spoiled(value: str, path: str) -> str:
    if path.endswith("mobile"):
        return value + "9"  # twelve digits
    if path.endswith("email"):
        return value + "@@"
    return value + "长" * 300  # over every limit


def at(document: dict, path: str, value: str) -> dict:
    changed = copy.deepcopy(document)
    *parents, last = path.split(".")
    node = changed
    for key in parents:
        node = node[key]
    node[last] = value
    return changed


def test_the_sample_has_personal_fields_to_spoil():
    assert len(PERSONAL) == 9  # two contacts of four fields, and the legal representative


@pytest.mark.parametrize("path", [v.path for v in PERSONAL])
def test_a_refused_personal_field_is_named_and_its_value_not_repeated(path):
    original = SAMPLE_SIGNATURE_PRODUCT_APPLICATION
    value = original
    for key in path.split("."):
        value = value[key]
    bad = spoiled(value, path)
    with pytest.raises(ValidationError) as refused:
        SCHEMA.load(at(original, path, bad))
    messages = flatten_messages(refused.value.messages)
    assert path in messages
    text = repr(messages)
    assert value not in text and bad not in text


def test_an_unknown_field_holding_a_mobile_is_refused_by_its_name_alone():
    mobile = SAMPLE_SIGNATURE_PRODUCT_APPLICATION["cover"]["contact_1"]["mobile"]
    document = copy.deepcopy(SAMPLE_SIGNATURE_PRODUCT_APPLICATION)
    document["cover"]["contact_1"]["wechat"] = mobile
    with pytest.raises(ValidationError) as refused:
        SCHEMA.load(document)
    messages = flatten_messages(refused.value.messages)
    assert "cover.contact_1.wechat" in messages and mobile not in repr(messages)


def test_the_hypothesis_example_database_holds_no_sample_person():
    # `constants` is hypothesis' cache of the literals in the project's own source (samples.py's
    # text itself), not examples of a run; `unicode_data` is hypothesis' own tables.
    root = Path(__file__).resolve().parents[2] / ".hypothesis"
    stored = [p for p in root.rglob("*") if p.is_file() and not p.name.startswith(".")
              and p.relative_to(root).parts[0] not in ("constants", "unicode_data")] if root.is_dir() else []
    if not stored:
        pytest.skip("no hypothesis example database in this checkout")
    values = [v for c in ("contact_1", "contact_2")
              for v in SAMPLE_SIGNATURE_PRODUCT_APPLICATION["cover"][c].values()]
    for path in stored:
        content = path.read_bytes()
        assert [v for v in values if v.encode() in content] == [], path

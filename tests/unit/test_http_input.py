"""Bad input refused at the HTTP boundary, naming where it is, before any service sees it: text no
database can store, and query parameters a route does not take."""

from __future__ import annotations

import json

from marshmallow import fields
from werkzeug.datastructures import MultiDict

from shared.domain.errors import ValidationFailed
from shared.infra.web.http import Api, unstorable_text

RULE = ["text may not contain NUL (\\u0000) or an unpaired surrogate (\\ud800-\\udfff)"]


def test_nul_and_unpaired_surrogates_are_found_wherever_they_are_with_their_paths():
    body = json.loads('{"reason": "a\\u0000b", "checks": [{"note": "ok"}, {"note": "\\ud800"}], '
                      '"nested": {"deep": {"x": "\\udfff tail"}}}')
    assert unstorable_text(body) == {"reason": RULE, "checks[1].note": RULE, "nested.deep.x": RULE}


def test_a_key_that_cannot_be_stored_is_reported_at_its_object():
    assert unstorable_text({"form": {"bad\x00key": 1}}) == {"form": RULE}
    assert unstorable_text({"\x00": 1}) == {"_body": RULE}


def test_any_other_text_passes_chinese_emoji_and_control_characters_a_database_stores_included():
    # Line breaks and tabs are text a database keeps; rules about them belong to the field (file names).
    body = {"name": "湖北省经济和信息化厅", "note": "😀 paired surrogates are one code point", "lines": "a\nb\tc",
            "numbers": [1, 2.5, None, True]}
    assert unstorable_text(body) == {}


# -- query parameters: a route takes the ones it declares, and only those ----------------


def _refusal(api: Api, query: list[tuple[str, str]]) -> dict:
    try:
        api._check_query(MultiDict(query))
    except ValidationFailed as exc:
        return exc.fields
    return {}


def test_a_misspelt_filter_is_refused_naming_it_and_the_parameters_the_route_takes():
    # Ignored, `?provnce=` would answer with every province's products as if it had filtered.
    products = Api("GET", "/products", roles=("ministry",),
                   query={"province": fields.String(), "page": fields.String()})
    assert _refusal(products, [("provnce", "440000")]) == {
        "provnce": ["not a parameter of this route; it takes page, province"]}
    assert _refusal(products, [("province", "440000"), ("page", "2")]) == {}


def test_a_route_without_parameters_refuses_any():
    inbox = Api("GET", "/inbox", roles=("province",))
    assert _refusal(inbox, [("debug", "1")]) == {"debug": ["this route takes no query parameters"]}
    assert _refusal(inbox, []) == {}


def test_a_parameter_given_twice_is_refused_rather_than_one_of_its_values_picked():
    board = Api("GET", "/board", roles=("ministry",), query={"due_within": fields.String()})
    assert _refusal(board, [("due_within", "30"), ("due_within", "90")]) == {
        "due_within": ["given more than once; give it once"]}


def test_declared_parameters_are_still_checked_by_their_schema():
    state = Api("GET", "/state", roles=("auditor",), query={"version": fields.Integer()})
    assert _refusal(state, [("version", "x")]) == {"version": ["Not a valid integer."]}

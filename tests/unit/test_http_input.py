"""Text no database can store is bad input, refused naming where it is, before any service sees it."""

from __future__ import annotations

import json

from shared.http import unstorable_text

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

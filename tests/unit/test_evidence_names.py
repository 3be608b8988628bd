"""A file's name is metadata: never a path, never at odds with what its bytes are."""

from __future__ import annotations

import pytest

from services.documents.application import clean_filename
from services.documents.evidence_types import check_name, check_name_before_reading
from shared.domain.errors import DomainRuleViolation, UnsupportedFileType
from shared.infra.web.errors import refusal_of


@pytest.mark.parametrize("name", ["申请书.pdf", "营业执照", "2024 年度 报告.v2.pdf", "a" * 255])
def test_a_plain_file_name_is_kept_as_given(name):
    assert clean_filename(name) == name


def test_a_name_keeps_its_text_but_not_its_surrounding_blanks_and_is_normalised():
    assert clean_filename("  申请书.pdf ") == "申请书.pdf"
    assert clean_filename("Cafe\u0301.pdf") == "Café.pdf"  # NFC: one code point for é


@pytest.mark.parametrize("name,rule", [
    ("../../etc/passwd", "not a path"), ("/etc/passwd", "not a path"), ("a/b.pdf", "not a path"),
    ("C:\\evidence\\a.pdf", "not a path"), ("..\\a.pdf", "not a path"), (".", "not a path"), ("..", "not a path"),
    ("a\x00.pdf", "no control characters"), ("a.pdf\n", "no control characters"), ("a\tb.pdf", "no control characters"),
    ("a\u202eb.pdf", "no control characters"),  # right-to-left override: makes "exe.pdf" read as "fdp.exe"
    ("", "required"), ("   ", "required"), ("a" * 256, "at most 255"),
])
def test_a_path_or_a_name_with_control_characters_is_refused_naming_the_rule(name, rule):
    with pytest.raises(DomainRuleViolation) as refused:
        clean_filename(name)
    assert refused.value.field == "filename" and rule in refused.value.rule


@pytest.mark.parametrize("name,mime", [
    ("a.pdf", "application/pdf"), ("A.PDF", "application/pdf"), ("a.jpeg", "image/jpeg"),
    ("a.docx", "application/zip"), ("a.doc", "application/x-ole-storage"), ("a", "image/png"),
    ("a.v2", "application/pdf"), (".pdf", "image/png"),  # a dot-file has no extension: the bytes decide
])
def test_a_name_that_names_no_type_or_the_bytes_type_passes(name, mime):
    # Both checks refuse by raising UnsupportedFileType; accepting is returning nothing.
    assert check_name_before_reading(name) is None
    assert check_name(name, mime) is None


@pytest.mark.parametrize("name,mime", [("a.pdf", "image/png"), ("a.png", "application/pdf"),
                                       ("a.xlsx", "application/pdf"), ("a.zip", "application/pdf")])
def test_a_name_that_says_another_type_than_the_bytes_is_refused(name, mime):
    with pytest.raises(UnsupportedFileType) as refused:
        check_name(name, mime)
    assert refusal_of(refused.value).status == 415 and mime in refused.value.fields["file"][0]


@pytest.mark.parametrize("name", ["setup.exe", "a.pdf.exe", "index.HTML", "logo.svg", "run.sh", "x.js"])
def test_a_name_that_says_program_or_web_page_is_refused_before_the_body_is_read(name):
    with pytest.raises(UnsupportedFileType) as refused:
        check_name_before_reading(name)
    assert list(refused.value.fields) == ["filename"]

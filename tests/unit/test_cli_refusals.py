"""The operator's commands answer a refusal with its reason and exit 1, never with a traceback."""

import uuid

import pytest

from services.cli.main import main


@pytest.mark.parametrize("command", [["replay"], ["state"], ["export-bundle", "--no-checkpoint"]])
def test_a_case_that_does_not_exist_is_named_not_traced(command, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CASEPLATFORM_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LEDGER_URL", f"sqlite:///{tmp_path}/ledger.db")
    missing = str(uuid.uuid4())

    status = main([*command[:1], missing, *command[1:]])

    err = capsys.readouterr().err
    assert status == 1
    assert f"caseplatform {command[0]}: no case {missing}" in err
    assert "Traceback" not in err

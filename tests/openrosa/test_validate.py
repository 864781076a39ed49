"""ODK Validate (bundled with pyxform, run on Java) accepts every published form."""
from __future__ import annotations

import shutil

import pytest

from tracker.openrosa import forms


@pytest.mark.skipif(shutil.which("java") is None, reason="ODK Validate needs Java")
@pytest.mark.parametrize("form_id", forms.FORM_IDS)
def test_odk_validate_accepts_the_published_form(form_id: str) -> None:
    warnings: list[str] = []
    xform = forms.compile_form(form_id, validate=True, warnings=warnings)
    assert xform.encode("utf-8") == forms.published(form_id).xml
    assert not [w for w in warnings if "error" in w.lower()], warnings


def test_forms_xlsx_writes_a_workbook_that_compiles_to_the_same_form(runner, tmp_path) -> None:
    from pyxform.xls2xform import convert

    path = tmp_path / "household.xlsx"
    result = runner.invoke(args=["forms", "xlsx", "household", str(path)])
    assert result.exit_code == 0, result.output
    assert convert(str(path), form_name="household").xform.encode("utf-8") == forms.published("household").xml

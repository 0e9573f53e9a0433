"""The apps import only downwards (scripts/check_arrows.py, also run by `make test`)."""

from pathlib import Path

from scripts.check_arrows import violations


def test_no_app_imports_against_the_arrows() -> None:
    assert violations() == []


def test_an_import_against_the_arrows_inside_a_function_is_reported(tmp_path: Path) -> None:
    (tmp_path / "audit").mkdir()
    (tmp_path / "audit" / "views.py").write_text(
        "def page():\n    from projects.access import scope_for\n    return scope_for\n"
    )
    (tmp_path / "hours").mkdir()
    (tmp_path / "hours" / "selectors.py").write_text(
        "import maps.models\nfrom layers import tiles\n"
    )
    assert sorted(violations(tmp_path)) == [
        "audit/views.py:2: audit imports projects",
        "hours/selectors.py:1: hours imports maps",
    ]

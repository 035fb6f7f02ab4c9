"""The README's retention schedule is the one the platform ships: every record class with
its rule and its authority, so a DPO reading the README reads what the services apply."""

from __future__ import annotations

from pathlib import Path

from safeguarding_kit.retention.schedule import load_schedule

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_readme_lists_every_record_class_of_the_default_schedule_with_its_rule_and_authority():
    readme = README.read_text(encoding="utf-8")
    for record_class, entry in load_schedule().record_classes.items():
        row = next(
            (line for line in readme.splitlines() if line.startswith(f"| `{record_class.value}` |")), None
        )
        assert row is not None, f"README's retention schedule has no row for {record_class.value}"
        assert f"| {entry.keep.describe()} |" in row, record_class
        assert " ".join(entry.authority.split()) in row, record_class
        assert str(entry.source) in row, record_class

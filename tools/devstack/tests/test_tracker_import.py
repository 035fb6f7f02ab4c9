"""`make import FILE=...`: a spreadsheet tracker loaded through POST /api/v1/referrals/migrated
over HTTP (here the service's test client), all rows or none."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from referral_scenarios import HUB_MANAGER, SOCIAL_WORKER, bearer

from devstack.demo_data import DEMO_DATA_ADMINISTRATOR
from devstack.tracker_import import RowProblem, import_tracker, parse_time, print_report

EXAMPLE = Path(__file__).resolve().parents[3] / "deploy" / "tracker" / "example-tracker.csv"


def admin_token(tokens) -> str:
    return tokens(**DEMO_DATA_ADMINISTRATOR)


def referrals_held(client, tokens) -> list[dict]:
    return client.get(
        "/api/v1/referrals", params={"limit": 100}, headers=bearer(tokens, SOCIAL_WORKER)
    ).json()["items"]


def edited(tmp_path: Path, changes: dict[tuple[int, str], str]) -> Path:
    """The example tracker with some cells changed, by (line, column)."""
    rows = list(csv.DictReader(EXAMPLE.open(newline="", encoding="utf-8")))
    for (line, column), value in changes.items():
        rows[line - 2][column] = value
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    path = tmp_path / "tracker.csv"
    path.write_text(out.getvalue(), encoding="utf-8")
    return path


def test_the_example_tracker_loads_every_row_with_its_original_dates_and_again_changes_nothing(
    client, tokens
):
    report = import_tracker(EXAMPLE, client, admin_token(tokens))
    assert report.ok, (report.problems, report.stopped)
    rows = sum(1 for _ in csv.DictReader(EXAMPLE.open(encoding="utf-8")))
    assert len(report.loaded) == rows == 7

    held = referrals_held(client, tokens)
    assert len(held) == rows
    assert all(r["migrated"] for r in held)
    by_reference = {r["source_reference"]: r for r in held}
    signposted = by_reference["CET-2023-003"]
    assert (signposted["status"], signposted["signposted_to"]) == ("closed", "community-youth-team")
    assert signposted["received_at"].startswith("2023-06-01T23:00:00")  # midnight in England
    police = by_reference["CET-2023-002"]  # 18/05/2023, still allocated
    assert (police["agency_type"], police["status"]) == ("police", "allocated")
    assert police["received_at"].startswith("2023-05-17T23:00:00")
    assert by_reference["CET-2024-007"]["status"] == "received"

    again = import_tracker(EXAMPLE, client, admin_token(tokens))
    assert again.ok
    assert len(again.loaded) == rows
    assert len(referrals_held(client, tokens)) == rows


def test_a_file_with_two_bad_rows_reports_both_by_line_and_column_and_loads_nothing(
    client, tokens, tmp_path, capsys
):
    path = edited(
        tmp_path,
        {
            (3, "received_date"): "31/02/2023",
            (6, "signposted_to"): "Youth club",
            (6, "outcome"): "signposted",
        },
    )
    report = import_tracker(path, client, admin_token(tokens))
    assert not report.ok
    assert {(p.line, p.column) for p in report.problems} == {(3, "received_date"), (6, "signposted_to")}
    assert report.loaded == []
    assert referrals_held(client, tokens) == []

    print_report(path, report)
    said = capsys.readouterr().err
    assert "line 3, column received_date" in said
    assert "line 6, column signposted_to" in said
    assert "nothing was loaded" in said


def test_times_out_of_order_or_in_the_future_and_unknown_agencies_are_reported_by_column(
    client, tokens, tmp_path
):
    path = edited(
        tmp_path,
        {
            (2, "closed_date"): "2023-04-01",  # before its decision
            (4, "received_date"): "2099-01-01",
            (5, "source_agency"): "a-made-up-agency",
            (7, "date_of_birth"): "1990-01-01",  # 33 when referred
            (8, "concern_types"): "criminal_exploitation;gang_stuff",
        },
    )
    report = import_tracker(path, client, admin_token(tokens))
    assert {(p.line, p.column) for p in report.problems} >= {
        (2, "closed_date"),
        (4, "received_date"),
        (5, "source_agency"),
        (7, "date_of_birth"),
        (8, "concern_types"),
    }
    assert referrals_held(client, tokens) == []


def test_an_unknown_or_missing_column_is_reported_on_the_header_line(client, tokens, tmp_path):
    path = tmp_path / "tracker.csv"
    path.write_text(
        "source_reference,received_date,favourite_colour\nX-1,2023-01-01,blue\n", encoding="utf-8"
    )
    report = import_tracker(path, client, admin_token(tokens))
    assert RowProblem(1, "favourite_colour", "not a column of the tracker format") in report.problems
    assert (1, "source_agency") in {(p.line, p.column) for p in report.problems}
    assert referrals_held(client, tokens) == []


def test_a_row_the_platform_refuses_stops_the_load_and_says_which(client, tokens):
    report = import_tracker(EXAMPLE, client, tokens(**HUB_MANAGER))  # no migrates_records
    assert report.stopped is not None
    assert report.stopped.startswith("line 2: ")
    assert "HTTP 403" in report.stopped
    assert report.loaded == []
    assert "could not read" in (import_tracker(EXAMPLE, client, "not-a-token").stopped or "")


def test_a_plain_date_is_midnight_in_england():
    assert parse_time("2023-07-01") == "2023-07-01T00:00:00+01:00"
    assert parse_time("01/12/2023") == "2023-12-01T00:00:00+00:00"
    assert parse_time("2023-07-01T10:15:00Z") == "2023-07-01T10:15:00+00:00"

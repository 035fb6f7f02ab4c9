"""``make import FILE=tracker.csv``: load a partnership's spreadsheet tracker (one row per
referral) through ``POST /api/v1/referrals/migrated`` over HTTP, as any client would.

Every row is checked first (its columns, the operation's own body rules, and the agencies
and services of the partnership agreement, read from ``GET /api/v1/partnership``); if
any row is bad, each problem is reported by line and column and nothing is loaded. A
load stopped part way (the platform refusing a row for a reason the checks could not
see, or going down) can be run again once fixed: rows already loaded answer their first
answer again (the operation is idempotent by source reference), they are not doubled.

Columns (header names, any order; blank cells are left out):

==================== =====================================================================
source_reference     required; the tracker's own reference, unique per source agency
source_agency        required; the referring agency's slug in the agreement
received_date        required; ``2023-05-10`` (midnight in England), ``10/05/2023``, or an
                     ISO 8601 time with offset; so are decided_date, first_contact_date and
                     closed_date
given_name, family_name, date_of_birth, gender         required (date_of_birth as above)
ethnicity, looked_after, sen_or_disability, nhs_number, home_ward_code, school   optional
                     (looked_after, sen_or_disability: yes/no)
concern_types        required; separated by ``;`` (``criminal_exploitation;county_lines``)
summary              required; what was seen or heard
lawful_basis         required; ``consent`` or ``safeguarding_without_consent``
lawful_basis_reason  required without consent
urgency              optional; routine (default), urgent or immediate
referrer_name, referrer_role    optional (both or neither)
outcome              optional; allocated, signposted or no_further_action, with decided_date
decision_reason      required for no_further_action
allocated_team, allocated_agency, allocated_worker   for allocated (team and agency required)
signposted_to        for signposted: a service slug of the agreement
first_contact_date, closed_date, closure_reason      optional (closing needs a decision)
==================== =====================================================================
"""

from __future__ import annotations

import argparse
import csv
import fnmatch
import os
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from pydantic import ValidationError

from devstack.demo_data import DEMO_DATA_ADMINISTRATOR
from devstack.stack import StackConfig
from referral_api.referrals.schemas import MigratedReferralCreate
from safeguarding_kit.auth.dev_issuer import mint_dev_token

MIGRATE = "/api/v1/referrals/migrated"
ENGLAND = ZoneInfo("Europe/London")
# Waiting out a rate limit or a brief outage: safe, as a resent row is answered again.
MAX_WAITS_PER_ROW = 5

CHILD_COLUMNS = (
    "given_name",
    "family_name",
    "date_of_birth",
    "gender",
    "ethnicity",
    "looked_after",
    "sen_or_disability",
    "nhs_number",
    "home_ward_code",
    "school",
)
TIME_COLUMNS = {
    "received_date": "received_at",
    "decided_date": "decided_at",
    "first_contact_date": "first_contact_at",
    "closed_date": "closed_at",
}
PLAIN_COLUMNS = (
    "source_reference",
    "source_agency",
    "summary",
    "urgency",
    "outcome",
    "decision_reason",
    "allocated_team",
    "allocated_worker",
    "allocated_agency",
    "signposted_to",
    "closure_reason",
)
OTHER_COLUMNS = ("concern_types", "lawful_basis", "lawful_basis_reason", "referrer_name", "referrer_role")
COLUMNS = frozenset((*CHILD_COLUMNS, *TIME_COLUMNS, *PLAIN_COLUMNS, *OTHER_COLUMNS))
REQUIRED_COLUMNS = (
    "source_reference",
    "source_agency",
    "received_date",
    "given_name",
    "family_name",
    "date_of_birth",
    "gender",
    "concern_types",
    "summary",
    "lawful_basis",
)
# Where a body field's problem is reported in the file.
FIELD_COLUMNS = {
    **{body: column for column, body in TIME_COLUMNS.items()},
    "child": "date_of_birth",
    "child_id": "given_name",
    "referrer": "referrer_name",
}
TRUE_WORDS = frozenset({"yes", "y", "true", "1"})
FALSE_WORDS = frozenset({"no", "n", "false", "0"})


@dataclass(frozen=True, order=True)
class RowProblem:
    """A bad cell: its line in the file (the header is line 1), its column, and why."""

    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}, column {self.column}: {self.message}"


@dataclass(frozen=True)
class TrackerRow:
    line: int
    body: dict[str, Any]


@dataclass(frozen=True)
class PartnershipLists:
    """The agencies (slugs and patterns) and services of the agreement."""

    agencies: tuple[str, ...]
    services: tuple[str, ...]

    @classmethod
    def from_view(cls, view: Mapping[str, Any]) -> PartnershipLists:
        agencies = tuple(a.get("slug") or a.get("pattern") or "" for a in view.get("agencies", []))
        return cls(agencies=agencies, services=tuple(s["slug"] for s in view.get("services", [])))

    def knows_agency(self, slug: str) -> bool:
        return any(fnmatch.fnmatchcase(slug, entry) for entry in self.agencies if entry)


@dataclass
class ImportReport:
    """What a run did: the problems found (nothing loaded if any), or the rows loaded."""

    problems: list[RowProblem] = field(default_factory=list)
    loaded: list[int] = field(default_factory=list)
    stopped: str | None = None
    rows: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems and self.stopped is None


class CellError(ValueError):
    pass


def parse_time(text: str) -> str:
    """An ISO 8601 time with offset from a cell: a plain date is midnight in England."""
    text = text.strip()
    day = _parse_date(text, allow_time=True)
    if isinstance(day, datetime):
        return day.isoformat()
    return datetime.combine(day, clock_time(0), tzinfo=ENGLAND).isoformat()


def _parse_date(text: str, *, allow_time: bool = False) -> date:
    for layout in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text, layout).date()
        except ValueError:
            continue
    if allow_time:
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            if moment.tzinfo is None:
                raise CellError("a time needs its offset (e.g. +01:00), or give the date alone")
            return moment
    raise CellError(f"'{text}' is not a date (2023-05-10 or 10/05/2023)")


def _parse_flag(text: str) -> bool:
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise CellError(f"'{text}' is not yes or no")


def row_body(cells: Mapping[str, str]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The operation's body from one row's cells, and the (column, problem) of cells that
    could not be read."""
    value = {k: (v or "").strip() for k, v in cells.items() if k in COLUMNS and (v or "").strip()}
    problems: list[tuple[str, str]] = []
    body: dict[str, Any] = {k: value[k] for k in PLAIN_COLUMNS if k in value}
    for column, name in TIME_COLUMNS.items():
        if column in value:
            try:
                body[name] = parse_time(value[column])
            except CellError as exc:
                problems.append((column, str(exc)))
    child: dict[str, Any] = {k: value[k] for k in CHILD_COLUMNS if k in value}
    if "date_of_birth" in child:
        try:
            child["date_of_birth"] = _parse_date(child["date_of_birth"]).isoformat()
        except CellError as exc:
            problems.append(("date_of_birth", str(exc)))
    for flag in ("looked_after", "sen_or_disability"):
        if flag in child:
            try:
                child[flag] = _parse_flag(child[flag])
            except CellError as exc:
                problems.append((flag, str(exc)))
    body["child"] = child
    if "concern_types" in value:
        body["concern_types"] = [c.strip() for c in value["concern_types"].split(";") if c.strip()]
    if "lawful_basis" in value:
        body["lawful_basis"] = {"basis": value["lawful_basis"], "reason": value.get("lawful_basis_reason")}
    if "referrer_name" in value or "referrer_role" in value:
        body["referrer"] = {"name": value.get("referrer_name", ""), "role": value.get("referrer_role", "")}
    return body, problems


def _column_of(loc: Sequence[int | str]) -> str:
    """The CSV column a body field's problem belongs to."""
    if not loc:
        return "(row)"
    head = str(loc[0])
    if head == "child" and len(loc) > 1:
        return str(loc[1])
    if head == "lawful_basis":
        return "lawful_basis" if len(loc) > 1 and loc[1] == "basis" else "lawful_basis_reason"
    if head == "referrer" and len(loc) > 1:
        return f"referrer_{loc[1]}"
    return FIELD_COLUMNS.get(head, head)


def check_row(
    line: int, cells: Mapping[str, str], partnership: PartnershipLists
) -> tuple[dict[str, Any], list[RowProblem]]:
    """The row's body and every problem with it, each by line and column."""
    body, unreadable = row_body(cells)
    problems = [RowProblem(line, column, message) for column, message in unreadable]
    unreadable_columns = {column for column, _ in unreadable}
    try:
        MigratedReferralCreate.model_validate(body)
    except ValidationError as exc:
        for error in exc.errors():
            column = _column_of(error["loc"])
            if column not in unreadable_columns:  # said already, better
                problems.append(RowProblem(line, column, error["msg"]))
    for column in ("source_agency", "allocated_agency"):
        slug = body.get(column)
        if slug and not partnership.knows_agency(slug):
            problems.append(
                RowProblem(line, column, f"'{slug}' is not an agency of the partnership agreement")
            )
    service = body.get("signposted_to")
    if service and service not in partnership.services:
        known = ", ".join(partnership.services)
        problems.append(
            RowProblem(line, "signposted_to", f"'{service}' is not a service of the agreement ({known})")
        )
    return body, sorted(set(problems))


def read_tracker(path: Path, partnership: PartnershipLists) -> tuple[list[TrackerRow], list[RowProblem]]:
    """Every row of the file as a body, and every problem found in any of them."""
    problems: list[RowProblem] = []
    rows: list[TrackerRow] = []
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        header = [h.strip() for h in reader.fieldnames or []]
        reader.fieldnames = header
        for unknown in sorted(set(header) - COLUMNS):
            problems.append(RowProblem(1, unknown, "not a column of the tracker format"))
        for missing in REQUIRED_COLUMNS:
            if missing not in header:
                problems.append(RowProblem(1, missing, "required column missing"))
        if problems:
            return [], problems
        seen: dict[tuple[str, str], int] = {}
        line = 1
        for cells in reader:
            start, line = line + 1, reader.line_num
            if not any((v or "").strip() for v in cells.values() if isinstance(v, str)):
                continue  # a blank line, as spreadsheets leave at the end
            if None in cells:
                problems.append(RowProblem(start, "(row)", "more cells than the header has columns"))
                continue
            body, found = check_row(start, cells, partnership)
            problems += found
            key = (str(body.get("source_agency")), str(body.get("source_reference")))
            if key in seen:
                problems.append(
                    RowProblem(start, "source_reference", f"already used on line {seen[key]} for this agency")
                )
            seen.setdefault(key, start)
            rows.append(TrackerRow(start, body))
    return rows, sorted(problems)


def import_tracker(path: Path, client: httpx.Client, token: str) -> ImportReport:
    """Check every row of ``path``, then (only if all are good) load each through the
    platform with ``client`` (its base URL the gateway's) and the bearer ``token``."""
    headers = {"Authorization": f"Bearer {token}"}
    view = client.get("/api/v1/partnership", headers=headers)
    if view.status_code != 200:
        return ImportReport(stopped=f"could not read the partnership agreement: {_said(view)}")
    rows, problems = read_tracker(path, PartnershipLists.from_view(view.json()))
    report = ImportReport(problems=problems, rows=len(rows))
    if problems:
        return report
    for row in rows:
        response = _post_row(client, row, headers)
        if response.status_code != 201:
            report.stopped = f"line {row.line}: the platform refused the row: {_said(response)}"
            return report
        report.loaded.append(row.line)
    return report


def _post_row(client: httpx.Client, row: TrackerRow, headers: dict[str, str]) -> httpx.Response:
    for _ in range(MAX_WAITS_PER_ROW):
        response = client.post(MIGRATE, json=row.body, headers=headers)
        if response.status_code not in (429, 503):
            return response
        time.sleep(min(float(response.headers.get("retry-after", "1") or 1), 60.0))
    return response


def _said(response: httpx.Response) -> str:
    try:
        problem = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    if not isinstance(problem, dict):
        return f"HTTP {response.status_code}"
    errors = "; ".join(
        f"{e.get('pointer') or e.get('parameter')}: {e.get('detail')}" for e in problem.get("errors", [])
    )
    return f"HTTP {response.status_code} {problem.get('title', '')}: {problem.get('detail', '')}" + (
        f" ({errors})" if errors else ""
    )


def default_token(data_dir: Path) -> str:
    """A dev token of the demonstration agreement's data administrator (``make run``'s issuer)."""
    return mint_dev_token(data_dir / "dev-issuer", **DEMO_DATA_ADMINISTRATOR)


def print_report(path: Path, report: ImportReport) -> None:
    """Problems and stops on stderr, the count loaded on stdout."""
    if report.problems:
        for problem in report.problems:
            print(f"{path}: {problem}", file=sys.stderr)
        bad = len({p.line for p in report.problems})
        print(f"{path}: {bad} bad row(s); nothing was loaded.", file=sys.stderr)
        return
    if report.stopped:
        print(f"{path}: {report.stopped}", file=sys.stderr)
        print(
            f"{path}: {len(report.loaded)} of {report.rows} row(s) loaded before it stopped; fix the row and "
            "run again (rows already loaded are answered again, not doubled).",
            file=sys.stderr,
        )
        return
    print(
        f"{path}: {len(report.loaded)} referral(s) loaded "
        "(rows loaded by an earlier run are answered again, not doubled)."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devstack.tracker_import", description=__doc__.split("\n\n")[0] if __doc__ else None
    )
    parser.add_argument("file", type=Path, help="the tracker as CSV (UTF-8), one row per referral")
    parser.add_argument(
        "--gateway-url",
        default=os.environ.get("GATEWAY_URL") or StackConfig(data_dir=Path("data")).gateway_url,
        help="the platform's gateway (env GATEWAY_URL; default: the `make run` stack)",
    )
    parser.add_argument(
        "--token",
        default=os.environ.get("TOKEN"),
        help="a data administrator's bearer token (env TOKEN; default: a dev token of the demo "
        "agreement's data administrator, from --data-dir)",
    )
    parser.add_argument(
        "--data-dir", type=Path, default=Path("data"), help="where `make run` keeps its dev issuer"
    )
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per request")
    args = parser.parse_args(argv)
    if not args.file.is_file():
        parser.error(f"no such file: {args.file}")
    token = args.token or default_token(args.data_dir)
    try:
        with httpx.Client(base_url=args.gateway_url, timeout=args.timeout) as client:
            report = import_tracker(args.file, client, token)
    except httpx.HTTPError as exc:
        print(f"{args.file}: cannot reach the platform at {args.gateway_url}: {exc}", file=sys.stderr)
        return 1
    print_report(args.file, report)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())

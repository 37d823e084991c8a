"""Exports: `Accept: text/csv` streams every match of a search, not just one page."""

from __future__ import annotations

import csv
import io
import json

from app.schemas.bindings import BindingSchema
from app.schemas.events import EventSchema
from tests.audit_seed import ago, seed_bindings, seed_events

CSV = {"Accept": "text/csv"}


def table(answer) -> list[dict[str, str]]:
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))


def test_the_auditor_exports_every_binding_across_pages(rides, auditor, gateway):
    seed_bindings(gateway, "rides", 1234, ago(days=3), tag="bulk")

    answer = auditor.get("/v1/bindings?limit=10", headers=CSV)

    assert answer.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert answer.is_streamed
    exported = table(answer)
    assert len(exported) == 1234
    assert list(exported[0]) == list(BindingSchema().fields)
    assert len({row["id"] for row in exported}) == 1234
    assert exported[0]["created_at"].endswith("Z") and exported[0]["record_calls"] == "false"
    assert exported[0]["subs_id"] == "bulk-1234" and exported[-1]["subs_id"] == "bulk-1"


def test_an_export_keeps_the_filters_and_the_callers_own_scope(
    rides, make_caller, auditor, gateway
):
    seed_bindings(gateway, "rides", 30, ago(days=1), tag="mine", phone_a="13800000077")
    make_caller("scooters")
    seed_bindings(gateway, "scooters", 20, ago(days=1), tag="theirs", phone_a="13800000077")

    own = table(rides.get("/v1/bindings?phone=13800000077", headers=CSV))
    everyone = table(auditor.get("/v1/bindings?phone=13800000077", headers=CSV))

    assert {row["client"] for row in own} == {"rides"} and len(own) == 30
    assert len(everyone) == 50


def test_events_export_as_csv_with_parameters_as_json(rides, auditor, gateway):
    seed_bindings(gateway, "rides", 300, ago(days=2), tag="trips")
    seed_events(gateway, tag="trips", per_binding=2)

    exported = table(auditor.get("/v1/events?outcome=requested", headers=CSV))

    assert len(exported) == 300
    assert list(exported[0]) == list(EventSchema().fields)
    assert json.loads(exported[0]["params"]) == {"PhoneNoA": "13800000001", "OutId": "seeded"}
    assert exported[0]["upstream_code"] == ""


def test_an_empty_export_is_just_the_header(auditor):
    answer = auditor.get("/v1/events?action=Nothing", headers=CSV)

    assert answer.get_data(as_text=True).strip() == ",".join(EventSchema().fields)


def test_a_bad_cursor_fails_before_the_download_starts(auditor):
    answer = auditor.get("/v1/events?cursor=garbage", headers=CSV)

    assert answer.status_code == 422
    assert "cursor" in answer.get_json()["errors"]


def test_a_spreadsheet_formula_in_an_order_id_is_defused(rides, auditor):
    rides.bind(out_id="=HYPERLINK(1)")

    (row,) = table(auditor.get("/v1/bindings", headers=CSV))

    assert row["out_id"] == "'=HYPERLINK(1)"


def test_json_stays_the_default(auditor):
    answer = auditor.get("/v1/bindings", headers={"Accept": "*/*"})

    assert answer.mimetype == "application/json"

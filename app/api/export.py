"""CSV exports of the audit lists: `Accept: text/csv` streams every match, page by page.

Columns are the JSON fields, rendered by the same schema; only one page of rows is
in memory at a time, and each page is a short query of its own.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from typing import Any

from flask import Response, request, stream_with_context
from marshmallow import Schema
from sqlalchemy import Row

CSV = "text/csv"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_RESPONSE = {
    "schema": {"type": "string"},
    "content_type": CSV,
    "description": "One JSON page, or with `Accept: text/csv` every match as CSV.",
    "success": True,
}


def wants_csv() -> bool:
    return request.accept_mimetypes.best_match(("application/json", CSV)) == CSV


def csv_response(pages: Iterable[list[Row]], schema: Schema, name: str) -> Response:
    return Response(
        stream_with_context(_lines(pages, schema)),
        mimetype=CSV,
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


def _lines(pages: Iterable[list[Row]], schema: Schema) -> Iterator[str]:
    columns = [field.data_key or name for name, field in schema.fields.items()]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for page in pages:
        for item in schema.dump(page, many=True):
            writer.writerow([_cell(item[column]) for column in columns])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def _cell(value: Any) -> str:
    """JSON-like text; a caller-supplied value that a spreadsheet would run as a formula
    (=, +, -, @) is quoted with a leading apostrophe (OWASP CSV injection)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text

"""A row renders the same whatever shape the database layer handed it in."""

from collections import namedtuple

import sqlalchemy as sa
from marshmallow import fields

from app.schemas.rows import RowSchema


class Pair(RowSchema):
    name = fields.String()
    note = fields.String(allow_none=True)


def test_a_named_tuple_a_sqlalchemy_row_and_a_dict_render_alike():
    as_tuple = namedtuple("Row", "name note")("rides", None)
    with sa.create_engine("sqlite://").connect() as conn:
        as_row = conn.execute(sa.text("SELECT 'rides' AS name, NULL AS note")).one()
    as_dict = {"name": "rides", "note": None}

    rendered = [Pair().dump(row) for row in (as_tuple, as_row, as_dict)]

    assert rendered == [{"name": "rides", "note": None}] * 3


def test_a_field_the_row_lacks_is_left_out_not_rendered_as_null():
    assert Pair().dump(namedtuple("Row", "name")("rides")) == {"name": "rides"}
    assert Pair().dump({"name": "rides"}) == {"name": "rides"}

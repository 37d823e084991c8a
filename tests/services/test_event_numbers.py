"""An auditor searching a phone number finds every event of its bindings, whoever wrote it:
events inserted without numbers get their binding's from the database."""

from tests.conftest import rows

INSERT_EVENT = (
    "INSERT INTO binding_events (occurred_at, binding_id, client_id, action, outcome{columns})"
    " SELECT now(), id, client_id, :action, 'ok'{values} FROM bindings WHERE id = :id"
)


def numbers_of(gateway, action: str) -> tuple:
    (event,) = rows(
        gateway,
        "SELECT phone_a, phone_b, phone_x FROM binding_events WHERE action = :action",
        action=action,
    )
    return tuple(event)


def test_an_event_written_without_numbers_gets_its_bindings(gateway, rides):
    binding = rides.bind()

    rows(gateway, INSERT_EVENT.format(columns="", values=""), action="note", id=binding["id"])

    assert numbers_of(gateway, "note") == (
        binding["phone_a"],
        binding["phone_b"],
        binding["phone_x"],
    )


def test_an_event_written_with_numbers_keeps_them(gateway, rides):
    binding = rides.bind()
    insert = INSERT_EVENT.format(columns=", phone_a, phone_b, phone_x", values=", :a, :b, :x")

    rows(gateway, insert, action="note", id=binding["id"], a="13800009999", b=None, x="17000000000")

    assert numbers_of(gateway, "note") == ("13800009999", None, "17000000000")

"""Interactive list messages over real HTTP: the client sends Meta's documented shape, the
simulator checks it as Meta does, and a pick comes back as an `interactive.list_reply`."""

from __future__ import annotations

import pytest
import requests

from messaging.whatsapp import InvalidMessage, OutsideWindow
from tests.messaging.conftest import PATIENT, PHONE_NUMBER_ID, TOKEN

ROWS = [{"id": f"appt_slot_{n}:7", "title": f"Tue 9 Dec, 10:{n}0 AM"} for n in range(3)]


def test_a_list_goes_out_inside_the_window_and_a_pick_comes_back(client, sim, receiver):
    sim.open_window(PATIENT)
    sent = client.send_list(PATIENT, body="Choose a time", button="Choose a time", rows=ROWS)
    assert sent.wamid
    [shown] = sim.received(PATIENT)
    assert shown["list"]["rows"] == ROWS and shown["body"] == "Choose a time"
    request = sim.message_requests()[-1]
    assert request["type"] == "interactive"
    assert request["interactive"]["action"]["sections"][0]["rows"] == ROWS

    sim.choose_from_list(PATIENT, "appt_slot_1:7")
    [hook] = receiver.wait_for(
        1, lambda body: "messages" in body["entry"][0]["changes"][0]["value"]
    )
    message = hook.value["messages"][0]
    assert message["type"] == "interactive"
    assert message["interactive"] == {
        "type": "list_reply",
        "list_reply": {"id": "appt_slot_1:7", "title": "Tue 9 Dec, 10:10 AM"},
    }


def test_a_list_outside_the_window_is_refused(client, sim):
    with pytest.raises(OutsideWindow):
        client.send_list(PATIENT, body="Choose a time", button="Choose", rows=ROWS)


def test_the_client_refuses_what_meta_would(client, sim):
    with pytest.raises(InvalidMessage, match="1 to 10 rows"):
        client.send_list(PATIENT, body="x", button="Choose", rows=ROWS * 4)
    with pytest.raises(InvalidMessage, match="row title"):
        client.send_list(PATIENT, body="x", button="Choose", rows=[{"id": "a", "title": "x" * 25}])
    with pytest.raises(InvalidMessage, match="list button"):
        client.send_list(PATIENT, body="x", button="Choose a time, please", rows=ROWS)
    assert sim.message_requests() == []


@pytest.mark.parametrize(
    ("rows", "error"),
    [
        ([{"id": f"r{n}", "title": "t"} for n in range(11)], "1 to 10 rows"),
        ([{"id": "r", "title": "x" * 25}], "at most 24"),
        ([{"id": "r", "title": "a"}, {"id": "r", "title": "b"}], "unique"),
    ],
)
def test_the_simulator_refuses_lists_meta_refuses(sim, rows, error):
    sim.open_window(PATIENT)
    body = {
        "messaging_product": "whatsapp",
        "to": PATIENT,
        "type": "interactive",
        "interactive": {
            "type": "list",
            "body": {"text": "Choose"},
            "action": {"button": "Choose", "sections": [{"rows": rows}]},
        },
    }
    answer = requests.post(
        f"{sim.base_url}/v25.0/{PHONE_NUMBER_ID}/messages",
        json=body,
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=3,
    )
    assert answer.status_code == 400 and error in answer.json()["error"]["error_data"]["details"]


def test_the_phone_page_picks_a_row_through_the_control_api(client, sim, receiver):
    sim.open_window(PATIENT)
    client.send_list(PATIENT, body="Choose a time", button="Choose a time", rows=ROWS)
    state = requests.get(f"{sim.base_url}/_control/state", timeout=3).json()
    [shown] = [m for c in state["conversations"] for m in c["messages"]]
    assert shown["list"]["rows"][0]["title"] == ROWS[0]["title"]
    answer = requests.post(
        f"{sim.base_url}/_control/reply",
        json={"wa_id": PATIENT, "list_reply_id": ROWS[2]["id"]},
        timeout=3,
    )
    assert answer.status_code == 200
    [hook] = receiver.wait_for(
        1, lambda body: "messages" in body["entry"][0]["changes"][0]["value"]
    )
    assert hook.value["messages"][0]["interactive"]["list_reply"]["id"] == ROWS[2]["id"]
    unknown = requests.post(
        f"{sim.base_url}/_control/reply",
        json={"wa_id": PATIENT, "list_reply_id": "nope"},
        timeout=3,
    )
    assert unknown.status_code == 400

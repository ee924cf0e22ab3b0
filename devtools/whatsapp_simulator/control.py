"""The control API (`/_control/...`): what the phone page and tests use to play the patient and
to make the simulator misbehave. Each POST action is one function of the simulator and the JSON
object sent; a missing or malformed field answers 400.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from devtools.whatsapp_simulator.reply import Reply

if TYPE_CHECKING:
    from devtools.whatsapp_simulator.server import Simulator

OK = {"ok": True}


def control(sim: Simulator, method: str, action: str, read_json: Callable[[], Any]) -> Reply:
    """Answer one control request; `read_json` parses the body (raising for one not JSON)."""
    if method == "GET":
        reply = _read(sim, action)
        if reply is not None:
            return reply
    if method == "DELETE" and action == "errors":
        sim.clear_errors()
        return Reply(200, OK)
    if method != "POST":
        return Reply(405, {"detail": "Method not allowed."})
    data = read_json() or {}
    if not isinstance(data, dict):
        return Reply(400, {"detail": "Send a JSON object."})
    act = POST_ACTIONS.get(action)
    if act is None:
        return Reply(404, {"detail": "Unknown control action."})
    try:
        return act(sim, data)
    except (KeyError, TypeError, ValueError) as exc:
        return Reply(400, {"detail": str(exc) or "Invalid request."})


def _read(sim: Simulator, action: str) -> Reply | None:
    if action == "state":
        return Reply(200, sim.state.snapshot() | {"webhooks": sim.webhooks.settings()})
    if action.startswith("media/"):
        media = sim.state.media.get(action.removeprefix("media/"))
        if media is None:
            return Reply(404, {"detail": "No such media."})
        return Reply(200, media.data, media.mime_type)
    return None


def _reply(sim: Simulator, data: dict[str, Any]) -> Reply:
    if data.get("list_reply_id"):  # the patient picks a row of a list message
        wamid = sim.choose_from_list(
            str(data.get("wa_id", "")),
            str(data["list_reply_id"]),
            context_id=data.get("context_id") or None,
        )
        return Reply(200, {"id": wamid})
    wamid = sim.reply(
        str(data.get("wa_id", "")),
        data.get("text") or "",
        phone_number_id=data.get("phone_number_id") or None,
        button_payload=data.get("button_payload") or None,
        button_text=data.get("button_text") or None,
        context_id=data.get("context_id") or None,
        name=data.get("name") or "",
        user_id=data.get("user_id") or None,
    )
    return Reply(200, {"id": wamid})


def _errors(sim: Simulator, data: dict[str, Any]) -> Reply:
    code = data.get("code")
    sim.inject(
        int(code) if str(code).isdigit() and str(code) != "502" else str(code),
        count=data.get("count", 1),
        recipient=data.get("recipient") or None,
        endpoint=data.get("endpoint") or "messages",
        delay=float(data.get("delay", 5.0)),
        via=data.get("via") or "response",
    )
    return Reply(200, {"injections": [i.as_dict() for i in sim.state.injections]})


def _template_status(sim: Simulator, data: dict[str, Any]) -> Reply:
    changed = sim.set_template_status(
        str(data.get("name", "")), data.get("language") or None, str(data["status"])
    )
    return Reply(200 if changed else 404, {"changed": len(changed)})


def _window(sim: Simulator, data: dict[str, Any]) -> Reply:
    if data.get("open", True):
        sim.open_window(str(data["wa_id"]), data.get("phone_number_id"))
    else:
        sim.close_window(str(data["wa_id"]), data.get("phone_number_id"))
    return Reply(200, OK)


def _unreachable(sim: Simulator, data: dict[str, Any]) -> Reply:
    sim.mark_unreachable(str(data["wa_id"]), bool(data.get("unreachable", True)))
    return Reply(200, OK)


def _webhooks(sim: Simulator, data: dict[str, Any]) -> Reply:
    options = ("statuses", "order", "duplicate", "delay", "seed", "url")
    sim.configure_webhooks(**{k: data[k] for k in options if k in data})
    return Reply(200, sim.webhooks.settings())


def _reset(sim: Simulator, data: dict[str, Any]) -> Reply:
    sim.reset()
    return Reply(200, OK)


POST_ACTIONS: dict[str, Callable[[Simulator, dict[str, Any]], Reply]] = {
    "reply": _reply,
    "errors": _errors,
    "templates/status": _template_status,
    "window": _window,
    "unreachable": _unreachable,
    "webhooks": _webhooks,
    "reset": _reset,
}

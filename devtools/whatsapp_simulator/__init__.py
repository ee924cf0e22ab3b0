"""A local WhatsApp Cloud API for development and tests (no Meta account, no network).

`manage.py whatsapp_simulator` runs it; tests use `running_simulator(...)`. It speaks the wire
format in shared/spec/whatsapp.md, stores what each recipient received, sends signed webhooks
and can be told to fail in the ways the real API fails. Standard library only.
"""

from devtools.whatsapp_simulator.server import RecordedRequest, Simulator, running_simulator
from devtools.whatsapp_simulator.state import SimNumber
from devtools.whatsapp_simulator.webhooks import Delivery

__all__ = ["Delivery", "RecordedRequest", "SimNumber", "Simulator", "running_simulator"]

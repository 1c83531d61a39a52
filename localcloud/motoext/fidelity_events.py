"""EventBridge TestEventPattern, which moto 5.2.1 leaves as a stub (empty response, no Result).

The match itself is moto's own rule matcher (the one PutEvents uses), so a pattern that
passes here is a pattern moto would route. As in AWS, the event must carry the envelope
fields, or the call fails with ValidationException.
"""

import json

from moto.events.exceptions import ValidationException
from moto.events.models import EventPattern
from moto.events.responses import EventsHandler

ENVELOPE = ("id", "account", "source", "time", "region", "detail-type")

_original = {}


def test_event_pattern(self):
    raw_pattern = self._get_param("EventPattern")
    raw_event = self._get_param("Event")
    try:
        event = json.loads(raw_event)
    except (TypeError, ValueError):
        raise ValidationException("Parameter Event is not valid.")
    if not isinstance(event, dict) or any(field not in event for field in ENVELOPE):
        raise ValidationException(f"Parameter Event is not valid: it needs {', '.join(ENVELOPE)}.")
    pattern = EventPattern.load(raw_pattern)  # raises InvalidEventPatternException like AWS
    return json.dumps({"Result": pattern.matches_event(event)})


# unittest collects module-level names starting with "test" in some runners: keep it off the module.
_handler = test_event_pattern
del test_event_pattern


def install():
    if _original:
        return
    _original["test_event_pattern"] = EventsHandler.test_event_pattern
    EventsHandler.test_event_pattern = _handler

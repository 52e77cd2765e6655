"""What the store accepts as a profile name, a channel name and a retention setting.

The command line and the window check input with these functions before anything is
saved, and the store checks again when saving (a bad value never reaches the file, and a
bad value written by an older version is refused before it is used). Each returns the
reason a value is refused, or None when it is fine.
"""

from __future__ import annotations

import math
import re
import unicodedata

from sfmonitor.streaming.events import CHANNEL_EXAMPLES as CHANNEL_EXAMPLES  # shown in forms
from sfmonitor.streaming.events import channel_problem

PROFILE_NAME_MAX = 100  # characters
CHANNEL_NAME_MAX = 255  # characters before a PushTopic filter (names are 25-80 in practice)
CHANNEL_FILTER_MAX = 1300  # a PushTopic filter, like its SOQL query (reference §6)
KEEP_EVENTS_MAX = 2**63 - 1  # SQLite INTEGER
KEEP_DAYS_MAX = 36_500.0  # a hundred years
# one ``Field=value`` of a filtered PushTopic subscription (values URL-encoded or quoted)
_FILTER_TERM = re.compile(r"[A-Za-z][A-Za-z0-9_]*=[A-Za-z0-9_.~%'+:\-]*")
_HIDDEN = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}  # control, format, surrogate, unassigned


def hidden_character(text: str) -> int | None:
    """The position of the first control, format (e.g. a bidi override), surrogate or
    unassigned character: text a person cannot see as it is."""
    for i, ch in enumerate(text):
        if not ch.isprintable() and unicodedata.category(ch) in _HIDDEN:
            return i
    return None


def profile_name_problem(name: object) -> str | None:
    """Why ``name`` cannot name a profile (it is shown in menus, titles and messages)."""
    if not isinstance(name, str) or not name.strip():
        return "a profile name cannot be empty"
    if len(name) > PROFILE_NAME_MAX:
        return f"a profile name has at most {PROFILE_NAME_MAX} characters (this one {len(name):,})"
    bad = hidden_character(name)
    if bad is not None:
        return f"a profile name cannot contain control characters (U+{ord(name[bad]):04X})"
    if name != name.strip():
        return "a profile name cannot start or end with spaces"
    return None


def channel_name_problem(channel: object) -> str | None:
    """Why ``channel`` is not a channel to subscribe to: the client's rules (prefix and
    name), then a length limit and, for a filtered PushTopic (``/topic/X?Field=value``),
    the filter's shape."""
    if not isinstance(channel, str):
        return "a channel name must be text"
    base, mark, query = channel.partition("?")
    if len(base) > CHANNEL_NAME_MAX:
        return f"a channel name has at most {CHANNEL_NAME_MAX} characters (this one {len(base):,})"
    bad = hidden_character(channel)
    if bad is not None or " " in channel:
        return "a channel name cannot contain spaces or control characters"
    problem = channel_problem(channel)
    if problem is not None:
        return problem
    if not mark:
        return None
    if not base.startswith("/topic/"):
        return "only PushTopic channels (/topic/...) take a filter after '?'"
    if len(query) > CHANNEL_FILTER_MAX:
        return f"a PushTopic filter has at most {CHANNEL_FILTER_MAX} characters"
    terms = query.split("&")
    if not all(_FILTER_TERM.fullmatch(term) for term in terms):
        return (
            f"{query[:60]!r} is not a PushTopic filter: Field=value pairs joined by & "
            "(e.g. /topic/Accounts?Industry=Retail)"
        )
    return None


def keep_events_problem(value: object) -> str | None:
    if value is None:
        return None
    if type(value) is not int:
        return "keep-events must be a whole number of events"
    if not 1 <= value <= KEEP_EVENTS_MAX:
        return f"keep-events must be between 1 and {KEEP_EVENTS_MAX:,}"
    return None


def keep_days_problem(value: object) -> str | None:
    if value is None:
        return None
    if type(value) not in (int, float) or not math.isfinite(value):  # type: ignore[arg-type]
        return "keep-days must be a finite number of days"
    if not 0 < value <= KEEP_DAYS_MAX:  # type: ignore[operator]
        return f"keep-days must be more than 0 and at most {KEEP_DAYS_MAX:,.0f}"
    return None


def retention_problem(keep_events: object, keep_days: object) -> str | None:
    """Why a retention setting would be nonsense (and, applied, could delete every event:
    ``keep -5 events``, a cutoff in the future, an overflow)."""
    return keep_events_problem(keep_events) or keep_days_problem(keep_days)


REPLAY_ID_MAX = 2**63 - 1  # Salesforce's replay ids are Java longs; SQLite's INTEGER too
_REPLAY_ID = re.compile(r"-?[0-9]{1,19}")


def replay_policy_problem(policy: object) -> str | None:
    """Why ``policy`` is not where a channel may start: ``new``, ``all``, or a replay id
    (0 to 2^63-1; -1 and -2 are Salesforce's own spellings of new and all)."""
    if policy in ("new", "all"):
        return None
    if (
        isinstance(policy, str)
        and _REPLAY_ID.fullmatch(policy)
        and -2 <= int(policy) <= REPLAY_ID_MAX
    ):
        return None
    shown = repr(policy) if len(repr(policy)) <= 40 else repr(policy)[:40] + "…"
    return f"replay must be new, all or a replay id from 0 to {REPLAY_ID_MAX}, not {shown}"

"""“Publish…”: a test event on a platform event (a form from its describe) or a payload
pushed on a generic channel, sent off the Qt thread; Salesforce's answer goes to the status
bar and the delivered event is selected in the table when it arrives (by its EventUuid).

The channel is the one selected in the sidebar when it can be published to; otherwise the
person picks one of the org's platform events and generic channels (from the last
discovery, and the profile's own channels). The payloads sent are kept per profile and
channel in the capture file (``store.notes``). A production org asks before sending.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sfmonitor.discovery import (
    EventForm,
    Kind,
    PublishError,
    PublishResult,
    PushResult,
    describe_event,
    publish,
)
from sfmonitor.store import Profile, notes

from .delivered import DeliveredHighlight
from .discovery_flow import FAILURES
from .publish_dialog import PublishDialog
from .publish_payloads import publish_outcome

if TYPE_CHECKING:
    from .main_window import MainWindow

PROBLEM = "Publish"  # the status bar's source of a refused publish


def publishable(channel: str) -> bool:
    """Custom platform events (REST publish) and generic channels (push)."""
    event = channel.startswith("/event/") and channel.endswith("__e")
    return event or (channel.startswith("/u/") and len(channel) > 3)


class PublishFlow:
    def __init__(self, window: MainWindow) -> None:
        self.w = window
        self.delivered = DeliveredHighlight(window)

    async def publish(self, channel: str | None = None) -> None:
        w = self.w
        profile = w.profile
        if profile is None or profile.read_only or profile.id is None:
            await w.dialogs.inform("Publish", "Open or create a profile first.")
            return
        target = channel or await self._target(profile)
        if target is None:
            return
        dialog = await self._dialog(profile, target)
        if dialog is None:
            return
        try:
            payload = dialog.value() if await w.dialogs.run(dialog) else None
            history = dialog.history()
        finally:
            dialog.deleteLater()
        if payload is None:
            return
        if profile.is_production and not await w.dialogs.confirm(
            "Publish in a production org?",
            f"Publish to {target} in {profile.name}?",
            "Every subscriber of the org receives it, and so do the flows and triggers "
            "that listen to it.",
        ):
            return
        await w.worker.run(notes.set_texts, w.store, profile.id, notes.publish_key(target), history)
        await self.send(profile, target, payload)

    async def _target(self, profile: Profile) -> str | None:
        """The selected channel, or one the person picks."""
        selected = [c for c in self.w.sidebar.selected() if publishable(c)]
        if len(selected) == 1:
            return selected[0]
        found = await self.w.discovery.cached(profile)
        known = [
            c.channel
            for c in (found.channels if found else ())
            if c.kind in (Kind.PLATFORM_EVENT, Kind.GENERIC)
        ]
        own = [c for c in self.w.sidebar.channels() if publishable(c)]
        choices = list(dict.fromkeys([*own, *(c for c in known if publishable(c))]))
        if not choices:
            await self.w.dialogs.inform(
                "Publish",
                "No platform event or generic channel is known for this profile yet.",
                "Channels → Add channels… lists the org's channels.",
            )
            return None
        return await self.w.dialogs.choose("Publish", "Publish to:", choices)

    async def _dialog(self, profile: Profile, target: str) -> PublishDialog | None:
        """The dialog for ``target``: the event's form from its describe, or a push."""
        w = self.w
        assert profile.id is not None
        form: EventForm | str = target
        if target.startswith("/event/"):
            w.status.show_activity(f"Reading the fields of {target}…")
            try:
                form = await w.access.call(
                    profile,
                    lambda a: describe_event(
                        a.instance_url, a.token, target, a.api_version, http=a.http
                    ),
                )
            except FAILURES as exc:
                w.status.show_activity("")
                await w.dialogs.warn("Publish", f"Could not read the fields of {target}.", str(exc))
                return None
            w.status.show_activity("")
        history = await w.worker.run(notes.texts, w.store, profile.id, notes.publish_key(target))
        return PublishDialog(form, history, w, production=profile.is_production)

    async def send(self, profile: Profile, target: str, payload: Any) -> None:
        """Publish, say Salesforce's answer, and look out for the delivered event."""
        w = self.w
        w.status.show_activity(f"Publishing to {target}…")
        answer: PublishResult | PushResult | BaseException
        try:
            answer = await w.access.call(
                profile,
                lambda a: publish(
                    a.instance_url, a.token, target, payload, a.api_version, http=a.http
                ),
            )
        except (PublishError, *FAILURES) as exc:
            answer = exc
        outcome = publish_outcome(answer, target)
        if not outcome.ok:
            w.status.show_activity("")
            w.status.show_problem(PROBLEM, outcome.detail)
            return
        w.status.clear_problem(PROBLEM)
        w.status.show_activity(outcome.summary)
        if isinstance(answer, PublishResult) and answer.event_uuid:
            if target in w.sidebar.channels() and w.controller.capturing(profile):
                self.delivered.expect(target, answer.event_uuid)
            else:
                w.status.show_activity(f"{outcome.summary} (not captured here)")

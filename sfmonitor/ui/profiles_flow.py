"""Profiles from the window: create, open, connect, edit, duplicate, delete; the demo;
who and where a login is, once the org has said it.

Secrets go to the keyring; when it refuses them, the same dialog comes back with what was
typed still in it and "this session only" ticked. A profile whose kind keeps no secret
(``sf-cli``, ``jwt``) never asks the keyring. The Demo profile always reopens as the demo
(its emulator is started again), never as an org to log in to.
"""

from __future__ import annotations

import contextlib
import functools
from dataclasses import replace
from typing import TYPE_CHECKING

from sfmonitor.store import Environment, KeyringUnavailableError, Profile, Secrets

from .profile_dialog import ProfileDialog

if TYPE_CHECKING:
    from .main_window import MainWindow


class ProfilesFlow:
    def __init__(self, window: MainWindow) -> None:
        self.w = window

    # --- menu ----------------------------------------------------------------------------

    async def refresh_menu(self) -> None:
        w = self.w
        profiles = await w.worker.run(w.store.profiles)
        menu = w.profiles_menu
        menu.clear()
        for action in (w.new_profile_action, w.demo_action, w.import_action):
            menu.addAction(action)
        menu.addSeparator()
        for action in (w.edit_profile_action, w.duplicate_profile_action, w.delete_profile_action):
            menu.addAction(action)
        menu.addAction(w.auto_connect_action)
        menu.addSeparator()
        for profile in profiles:
            label = profile.name
            if profile.is_production:
                label += "  [PRODUCTION]"
            elif profile.read_only:
                label += "  [opened export]"
            elif profile.environment is Environment.DEMO:
                label += "  [demo]"
            action = menu.addAction(label, functools.partial(self._open_later, profile))
            action.setCheckable(True)
            action.setChecked(w.profile is not None and profile.id == w.profile.id)
        if not profiles and w.profile is None:
            w.stack.setCurrentWidget(w.welcome)

    def _open_later(self, profile: Profile) -> None:
        self.w.tasks.spawn(self.open_saved(profile))

    # --- connect -------------------------------------------------------------------------

    async def connect_clicked(self) -> None:
        """Connect the profile on screen; with none (or an export), create one."""
        current, c = self.w.profile, self.w.controller
        if (
            current is not None
            and not current.read_only
            and not (c.capturing(current) and c.connected)
        ):
            await self.open_saved(current)
        else:
            await self.new_profile()

    async def new_profile(self) -> None:
        taken = await self._names()
        dialog = ProfileDialog(self.w, taken_names=taken, settings=self.w.settings)
        saved = await self._ask_and_save(dialog)
        if saved is not None:
            await self.open_profile(*saved)

    async def open_saved(self, profile: Profile) -> None:
        if self.w.controller.capturing(profile) and self.w.controller.connected:
            await self.open_profile(profile, None)  # capturing already: just show it
            return
        if profile.environment is Environment.DEMO:
            await self.start_demo()
            return
        if profile.read_only:
            await self.open_profile(profile, None)
            return
        secrets, problem = await self._load_secrets(profile)
        if secrets is None:
            # no secrets (another machine, a wiped keyring): ask, keeping the profile
            dialog = ProfileDialog(self.w, profile, problem, settings=self.w.settings)
            saved = await self._ask_and_save(dialog, profile)
            if saved is None:
                await self.open_profile(profile, None)  # shown, not connected
                return
            profile, secrets = saved
        await self.open_profile(profile, secrets)

    async def open_profile(self, profile: Profile, secrets: Secrets | None) -> None:
        """Show a profile's capture; connect it when secrets are given (which ends the
        capture of another profile). Only showing one, an export say, stops nothing."""
        w = self.w
        await w.show_profile(profile)
        if secrets is not None and not profile.read_only:
            await w.controller.connect_profile(profile, secrets)
        await self.refresh_menu()
        w.update_actions()

    async def start_demo(self) -> None:
        """The built-in emulator with demo traffic, and the Demo profile connected to it."""
        w = self.w
        if w.start_demo is None:
            await w.dialogs.inform("Demo", "The demo is not available in this window.")
            return
        if w.demo is None:
            w.demo = await w.start_demo(w.store)
        if w.controller.capturing(w.demo.profile) and w.controller.connected:
            await self.open_profile(w.demo.profile, None)
        else:
            await self.open_profile(w.demo.profile, w.demo.secrets)

    # --- edit, duplicate, delete ---------------------------------------------------------

    async def edit_current(self) -> None:
        profile = self.w.profile
        if profile is None or profile.read_only or profile.environment is Environment.DEMO:
            return
        stored, problem = await self._load_secrets(profile)
        taken = await self._names() - {profile.name}
        dialog = ProfileDialog(
            self.w,
            profile,
            problem,
            taken_names=taken,
            secrets_stored=stored is not None,
            title=f"Edit {profile.name}",
            settings=self.w.settings,
        )
        saved = await self._ask_and_save(dialog, profile, stored)
        if saved is not None:
            if saved[0].name != profile.name:
                await self._forget_secrets(profile.name)
            await self.open_profile(*saved)

    async def duplicate_current(self) -> None:
        profile = self.w.profile
        if profile is None or profile.read_only or profile.environment is Environment.DEMO:
            return
        stored, problem = await self._load_secrets(profile)
        taken = await self._names()
        copy = replace(profile, name=_free_name(f"{profile.name} copy", taken), id=None)
        dialog = ProfileDialog(
            self.w,
            copy,
            problem,
            taken_names=taken,
            secrets_stored=stored is not None,
            title=f"Duplicate {profile.name}",
            settings=self.w.settings,
        )
        saved = await self._ask_and_save(dialog, None, stored)
        if saved is not None:
            subs = await self.w.worker.run(self.w.store.subscriptions, profile.id)
            for sub in subs:
                await self.w.worker.run(self.w.store.set_subscription, saved[0].id, sub)
            await self.open_profile(*saved)

    async def delete_current(self) -> None:
        w = self.w
        profile = w.profile
        if profile is None or profile.id is None:
            return
        count = sum((await w.worker.run(w.store.channel_counts, profile.id)).values())
        what = "opened export" if profile.read_only else "profile"
        detail = f"Its {count:,} captured events are deleted from this computer" + (
            "; the export file itself stays."
            if profile.read_only
            else ", its secrets from the keyring."
        )
        if not await w.dialogs.confirm(f"Delete {what}", f"Delete {profile.name!r}?", detail):
            return
        if w.controller.capturing(profile):
            await w.controller.disconnect_profile()
        sinks = await w.worker.run(w.store.saved_sinks, profile.id)
        await w.worker.run(w.store.delete_profile, profile.id)
        await self._forget_secrets(profile.name)
        for sink in sinks:  # the sinks' passwords go with it
            with contextlib.suppress(KeyringUnavailableError):
                await w.worker.run(w.vault.delete_sink_secret, profile.id, sink.sink_id)
        await w.show_profile(None)
        await self.refresh_menu()
        w.update_actions()

    # --- helpers -------------------------------------------------------------------------

    async def _names(self) -> frozenset[str]:
        return frozenset(p.name for p in await self.w.worker.run(self.w.store.profiles))

    async def _load_secrets(self, profile: Profile) -> tuple[Secrets | None, str]:
        """The stored secrets (or None), and why none could be read."""
        if not profile.auth_kind.keyring_secrets:  # sf-cli, jwt: nothing of ours to read
            return Secrets(), ""
        try:
            return await self.w.worker.run(self.w.vault.load, profile.name), ""
        except KeyringUnavailableError as exc:
            return None, str(exc)

    async def _forget_secrets(self, name: str) -> None:
        with contextlib.suppress(KeyringUnavailableError):
            await self.w.worker.run(self.w.vault.delete, name)

    async def _ask_and_save(
        self, dialog: ProfileDialog, existing: Profile | None = None, stored: Secrets | None = None
    ) -> tuple[Profile, Secrets] | None:
        """Show ``dialog`` until it is cancelled or its secrets are kept somewhere."""
        w = self.w
        try:
            while await w.dialogs.run(dialog):
                profile, secrets = dialog.result_profile(existing.id if existing else None, stored)
                if not profile.auth_kind.keyring_secrets:
                    await self._forget_secrets(profile.name)  # of a kind it had before
                elif dialog.session_only.isChecked():
                    w.vault.remember(profile.name, secrets)
                else:
                    try:
                        await w.worker.run(w.vault.save, profile.name, secrets)
                    except KeyringUnavailableError as exc:
                        dialog.show_keyring_problem(str(exc))  # again, with the input kept
                        continue
                profile = await w.worker.run(w.store.save_profile, profile)
                return profile, secrets
            return None
        finally:
            await dialog.close_tasks()  # a browser login under way ends with the dialog
            dialog.deleteLater()

    # --- who and where -------------------------------------------------------------------

    def identity_known(self, profile: Profile) -> None:
        """The org said who and where the capture's login is: the profile on screen shows
        it (and is marked production if the org says so, whatever its URL)."""
        w = self.w
        if w.profile is None or w.profile.id != profile.id:
            return
        w.profile = replace(w.profile, org=profile.org)
        w.show_identity()
        w.tasks.spawn(self.refresh_menu())


def _free_name(name: str, taken: frozenset[str]) -> str:
    candidate, n = name, 2
    while candidate in taken:
        candidate, n = f"{name} {n}", n + 1
    return candidate

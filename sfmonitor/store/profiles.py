"""Profiles, their subscriptions and each channel's replay state: the rows that say what
to capture and where each channel resumes. ``CaptureStore`` inherits these."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from .models import (
    COMETD,
    AuthKind,
    Environment,
    OrgInfo,
    Profile,
    ReplayState,
    Subscription,
    now_ms,
)
from .transports import pubsub_endpoint_problem, subscription_problem, transport_problem
from .validation import (
    channel_name_problem,
    profile_name_problem,
    replay_policy_problem,
    retention_problem,
)

_COLUMNS = (
    "name",
    "environment",
    "login_url",
    "auth_kind",
    "username",
    "client_id",
    "api_version",
    "keep_events",
    "keep_days",
    "source",
    "callback_port",
    "sf_org",
    "key_file",
    "org_id",
    "org_name",
    "org_user",
    "org_kind",
    "transport",
    "pubsub_endpoint",
)


def _org_values(org: OrgInfo) -> tuple[str, str, str, str]:
    return org.org_id, org.org_name, org.user, org.kind


def _profile_of(row: Sequence[Any]) -> Profile:
    """A profile from a row of ``_COLUMNS`` and the id."""
    (name, env, url, auth, username, client_id, version, keep_events, keep_days, source) = row[:10]
    port, sf_org, key_file, org_id, org_name, org_user, org_kind = row[10:17]
    transport, pubsub_endpoint, pid = row[17:]
    return Profile(
        name,
        Environment(env),
        url,
        AuthKind(auth),
        username,
        client_id,
        version,
        keep_events,
        keep_days,
        source,
        pid,
        callback_port=port,
        sf_org=sf_org,
        key_file=key_file,
        org=OrgInfo(org_id, org_name, org_user, org_kind),
        transport=transport,
        pubsub_endpoint=pubsub_endpoint,
    )


class ProfileRecords:
    """What a capture is set up to do, read and written through the store's connection."""

    if TYPE_CHECKING:

        def _read(self, sql: str, params: Sequence[Any] = ()) -> list[Any]: ...

        def _transaction(self) -> contextlib.AbstractContextManager[sqlite3.Connection]: ...

        def _delete_chunks(self, select: str, params: tuple[Any, ...]) -> int: ...

    # --- profiles --------------------------------------------------------------------------

    def save_profile(self, profile: Profile) -> Profile:
        """Insert or update (by id); returns the profile with its id. Raises ValueError
        for a name or a retention setting that ``validation`` refuses."""
        problem = (
            profile_name_problem(profile.name)
            or retention_problem(profile.keep_events, profile.keep_days)
            or transport_problem(profile.transport)
            or pubsub_endpoint_problem(profile.pubsub_endpoint)
        )
        if problem is None and not 0 < profile.callback_port < 65536:
            problem = f"the callback port must be 1 to 65535, not {profile.callback_port}"
        if problem is not None:
            raise ValueError(problem)
        values = (
            profile.name,
            profile.environment.value,
            profile.login_url,
            profile.auth_kind.value,
            profile.username,
            profile.client_id,
            profile.api_version,
            profile.keep_events,
            profile.keep_days,
            profile.source,
            profile.callback_port,
            profile.sf_org,
            profile.key_file,
            *_org_values(profile.org),
            profile.transport,
            profile.pubsub_endpoint,
        )
        columns = ", ".join(_COLUMNS)
        with self._transaction() as conn:
            if profile.id is None:
                cur = conn.execute(
                    f"INSERT INTO profiles ({columns}, created_at) "
                    f"VALUES ({', '.join('?' * (len(_COLUMNS) + 1))})",
                    (*values, now_ms()),
                )
                return replace(profile, id=cur.lastrowid)
            assignments = ", ".join(f"{c} = ?" for c in _COLUMNS)
            conn.execute(f"UPDATE profiles SET {assignments} WHERE id = ?", (*values, profile.id))
            return profile

    def set_profile_org(self, profile_id: int, org: OrgInfo) -> None:
        """Keep who and where a login of this profile was (only these columns: an edit of
        the profile made meanwhile stays)."""
        with self._transaction() as conn:
            conn.execute(
                "UPDATE profiles SET org_id = ?, org_name = ?, org_user = ?, org_kind = ? "
                "WHERE id = ?",
                (*_org_values(org), profile_id),
            )

    def profiles(self) -> list[Profile]:
        rows = self._read(
            f"SELECT {', '.join(_COLUMNS)}, id FROM profiles ORDER BY name COLLATE NOCASE"
        )
        return [_profile_of(r) for r in rows]

    def profile(self, name: str) -> Profile | None:
        return next((p for p in self.profiles() if p.name == name), None)

    def delete_profile(self, profile_id: int) -> None:
        """Remove a profile with its subscriptions, replay state, gaps and events (the
        events first, in small transactions)."""
        self._delete_chunks("SELECT id FROM events WHERE profile_id = ? LIMIT ?", (profile_id,))
        with self._transaction() as conn:
            conn.execute("DELETE FROM events WHERE profile_id = ?", (profile_id,))
            conn.execute("DELETE FROM profiles WHERE id = ?", (profile_id,))

    # --- subscriptions and replay state ----------------------------------------------------

    def set_subscription(self, profile_id: int, sub: Subscription) -> None:
        """Add a channel, or change its policy. A channel that is added (again) starts
        from its policy: replay state left from an earlier subscription (events still in
        flight when it was removed write one) is forgotten, so "new events only" means it."""
        problem = (
            channel_name_problem(sub.channel)
            or replay_policy_problem(sub.replay_policy)
            or subscription_problem(sub.channel, sub.transport)
        )
        if problem is not None:
            raise ValueError(problem)
        with self._transaction() as conn:
            known = conn.execute(
                "SELECT 1 FROM subscriptions WHERE profile_id = ? AND channel = ?",
                (profile_id, sub.channel),
            ).fetchone()
            if known is None:
                conn.execute(
                    "DELETE FROM replay_state WHERE profile_id = ? AND channel = ?",
                    (profile_id, sub.channel),
                )
            conn.execute(
                "INSERT INTO subscriptions (profile_id, channel, enabled, replay_policy, "
                "transport, position) VALUES (?, ?, ?, ?, ?, "
                "(SELECT count(*) FROM subscriptions WHERE profile_id = ?)) "
                "ON CONFLICT (profile_id, channel) DO UPDATE SET enabled = excluded.enabled, "
                "replay_policy = excluded.replay_policy, transport = excluded.transport",
                (
                    profile_id,
                    sub.channel,
                    int(sub.enabled),
                    sub.replay_policy,
                    sub.transport,
                    profile_id,
                ),
            )

    def subscriptions(self, profile_id: int) -> list[Subscription]:
        rows = self._read(
            "SELECT channel, enabled, replay_policy, transport FROM subscriptions "
            "WHERE profile_id = ? ORDER BY position, channel",
            (profile_id,),
        )
        return [Subscription(r[0], bool(r[1]), r[2], r[3]) for r in rows]

    def remove_subscription(self, profile_id: int, channel: str, delete_events: bool) -> None:
        """Forget a channel; its captured events are kept unless ``delete_events``."""
        with self._transaction() as conn:
            conn.execute(
                "DELETE FROM subscriptions WHERE profile_id = ? AND channel = ?",
                (profile_id, channel),
            )
            conn.execute(
                "DELETE FROM replay_state WHERE profile_id = ? AND channel = ?",
                (profile_id, channel),
            )
        if delete_events:
            self._delete_chunks(
                "SELECT id FROM events WHERE profile_id = ? AND channel = ? LIMIT ?",
                (profile_id, channel),
            )

    def replay_states(self, profile_id: int) -> dict[str, ReplayState]:
        rows = self._read(
            "SELECT channel, replay_id, created_at, live_since, replay_bytes, transport "
            "FROM replay_state WHERE profile_id = ?",
            (profile_id,),
        )
        return {r[0]: ReplayState(*r) for r in rows}

    def mark_live_since(
        self, profile_id: int, channel: str, since_ms: int, transport: str = COMETD
    ) -> None:
        """A channel went live with "new events only": remember when, until its first
        event. A position of the other transport is replaced (never converted)."""
        with self._transaction() as conn:
            conn.execute(
                "INSERT INTO replay_state (profile_id, channel, live_since, updated_at, "
                "transport) VALUES (?, ?, ?, ?, ?) ON CONFLICT (profile_id, channel) DO UPDATE "
                "SET live_since = excluded.live_since, updated_at = excluded.updated_at, "
                "transport = excluded.transport, replay_id = NULL, replay_bytes = NULL, "
                "created_at = NULL WHERE replay_state.transport != excluded.transport OR "
                "(replay_state.replay_id IS NULL AND replay_state.replay_bytes IS NULL "
                "AND replay_state.live_since IS NULL)",
                (profile_id, channel, since_ms, now_ms(), transport),
            )

"""Seeded, realistic org traffic: records created, updated and deleted (firing PushTopic and
CDC events), platform events, generic pushes and login events, at a chosen rate.

One generator serves ``--demo``, the tests and the benchmarks, so that what a user sees in
the demo is what the suite checks.
"""

from __future__ import annotations

import asyncio
import random
import string
import time
import uuid
from collections.abc import Callable

from .catalog_seed import seed_demo
from .org import Org

DEMO_CHANNELS: tuple[str, ...] = (
    "/topic/AccountUpdates",
    "/topic/BigOpportunities",
    "/data/ChangeEvents",
    "/event/Order_Placed__e",
    "/u/notifications",
    "/event/LoginEventStream",
)

_INDUSTRIES = ("Technology", "Banking", "Retail", "Energy", "Healthcare", "Media")
_STAGES = ("Prospecting", "Qualification", "Proposal", "Negotiation", "Closed Won", "Closed Lost")
_COMPANIES = (
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Wonka",
    "Tyrell",
    "Cyberdyne",
    "Soylent",
    "Hooli",
    "Vandelay",
)
_SUFFIXES = ("Corp", "Inc", "Ltd", "GmbH", "Group", "Labs")
_USERS = ("ada@example.com", "grace@example.com", "linus@example.com", "alan@example.com")


class Scenario:
    """Traffic generator over an ``Org``. ``step()`` performs one action."""

    def __init__(self, org: Org, seed: int = 1, rate: float = 5.0) -> None:
        self.org = org
        self.rng = random.Random(seed)
        self.rate = rate
        self.steps = 0
        self.accounts: list[str] = []
        self.opportunities: list[str] = []
        self.setup()
        self._actions: list[tuple[Callable[[], str], int]] = [
            (self.create_account, 3),
            (self.update_account, 6),
            (self.create_opportunity, 3),
            (self.update_opportunity, 4),
            (self.place_order, 4),
            (self.push_notification, 2),
            (self.login, 2),
            (self.delete_account, 1),
        ]

    def setup(self) -> None:
        """Create the topics and channels the demo subscribes to (idempotent)."""
        org = self.org
        if "AccountUpdates" not in org.push_topics:
            org.create_push_topic(
                {
                    "Name": "AccountUpdates",
                    "Query": "SELECT Id, Name, Industry, Phone, AnnualRevenue FROM Account",
                    "Description": "All account changes",
                }
            )
        if "BigOpportunities" not in org.push_topics:
            org.create_push_topic(
                {
                    "Name": "BigOpportunities",
                    "Query": "SELECT Id, Name, Amount, StageName FROM Opportunity "
                    "WHERE Amount > 10000",
                    "NotifyForFields": "Referenced",
                }
            )
        org.platform_events.add("Order_Placed__e")
        org.create_streaming_channel("/u/notifications")
        seed_demo(org)  # more of every kind of channel, for discovery

    # --- actions ---------------------------------------------------------------------------

    def _company(self) -> str:
        return f"{self.rng.choice(_COMPANIES)} {self.rng.choice(_SUFFIXES)}"

    def create_account(self) -> str:
        rid = self.org.create_record(
            "Account",
            {
                "Name": self._company(),
                "Industry": self.rng.choice(_INDUSTRIES),
                "Phone": f"+1 415 555 {self.rng.randrange(10000):04d}",
                "AnnualRevenue": self.rng.randrange(1, 500) * 100_000,
            },
        )
        self.accounts.append(rid)
        return f"Account {rid} created"

    def update_account(self) -> str:
        if not self.accounts:
            return self.create_account()
        rid = self.rng.choice(self.accounts)
        field = self.rng.choice(("Phone", "Industry", "AnnualRevenue"))
        value: object = {
            "Phone": f"+1 415 555 {self.rng.randrange(10000):04d}",
            "Industry": self.rng.choice(_INDUSTRIES),
            "AnnualRevenue": self.rng.randrange(1, 500) * 100_000,
        }[field]
        self.org.update_record(rid, {field: value})
        return f"Account {rid} {field} updated"

    def delete_account(self) -> str:
        if len(self.accounts) < 5:
            return self.create_account()
        rid = self.accounts.pop(self.rng.randrange(len(self.accounts)))
        self.org.delete_record(rid)
        return f"Account {rid} deleted"

    def create_opportunity(self) -> str:
        # the opening cycle makes a big deal so that /topic/BigOpportunities fires at once
        amount = self.rng.randrange(1, 100) * 1000 if self.steps > len(self._actions) else 50_000
        rid = self.org.create_record(
            "Opportunity",
            {
                "Name": f"{self._company()} renewal",
                "Amount": amount,
                "StageName": "Prospecting",
                "CloseDate": "2027-03-31",
            },
        )
        self.opportunities.append(rid)
        return f"Opportunity {rid} created ({amount})"

    def update_opportunity(self) -> str:
        if not self.opportunities:
            return self.create_opportunity()
        rid = self.rng.choice(self.opportunities)
        self.org.update_record(
            rid,
            {"StageName": self.rng.choice(_STAGES), "Amount": self.rng.randrange(5, 100) * 1000},
        )
        return f"Opportunity {rid} updated"

    def place_order(self) -> str:
        number = f"ORD-{self.rng.randrange(100000):05d}"
        self.org.publish_platform_event(
            "Order_Placed__e",
            {
                "Order_Number__c": number,
                "Amount__c": round(self.rng.uniform(10, 5000), 2),
                "Customer__c": self._company(),
            },
        )
        return f"Order {number} placed"

    def push_notification(self) -> str:
        text = self.rng.choice(
            (
                "Deployment finished",
                "Nightly batch started",
                "Cache rebuilt",
                "Integration user password expires soon",
                "Sandbox refresh complete",
            )
        )
        self.org.publish_generic("/u/notifications", text)
        return f"notification: {text}"

    def login(self) -> str:
        user = self.rng.choice(_USERS)
        status = "Success" if self.rng.random() > 0.15 else "Invalid Password"
        self.org.publish_monitoring(
            "LoginEventStream",
            {
                "Username": user,
                "UserId": self.org.ids.new("005"),
                "SourceIp": f"203.0.113.{self.rng.randrange(1, 255)}",
                "Status": status,
                "LoginType": "Application",
                "Application": "Browser",
                "EventIdentifier": str(uuid.UUID(int=self.rng.getrandbits(128), version=4)),
                "LoginKey": self._key(),  # 16 characters, like QfNecrLXSII6fsBq
                "SessionKey": self._key(),
            },
        )
        return f"login {user} {status}"

    def _key(self) -> str:
        return "".join(self.rng.choice(string.ascii_letters + string.digits) for _ in range(16))

    def step(self) -> str:
        """One action; the first steps cycle through every action so every channel fires."""
        self.steps += 1
        if self.steps <= len(self._actions):
            return self._actions[self.steps - 1][0]()
        actions = [a for a, _ in self._actions]
        weights = [w for _, w in self._actions]
        action: Callable[[], str] = self.rng.choices(actions, weights)[0]
        return action()

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Perform about ``rate`` actions per second until ``stop`` is set (or cancelled)."""
        tick = 0.05 if self.rate > 20 else 1.0 / max(self.rate, 0.001)
        started = time.monotonic()
        done = 0
        while stop is None or not stop.is_set():
            due = int((time.monotonic() - started) * self.rate) + 1
            while done < due:
                self.step()
                done += 1
            await asyncio.sleep(tick)

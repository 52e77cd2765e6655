"""All-in-one clients: every mixin plus a connector."""

from __future__ import annotations

from typing import Any

import aiohttp

from .connectors import PasswordSalesforceStreaming, RefreshTokenSalesforceStreaming
from .mixins import AllMixin


class SimpleSalesforceStreaming(AllMixin, PasswordSalesforceStreaming):
    """Password flow with replay, auto version, auto reconnect and subscribe retries."""

    def __init__(
        self,
        username: str,
        password: str,
        client_id: str,
        client_secret: str,
        *,
        sandbox: bool = False,
        version: str = "42.0",
        loop: Any = None,
        connector: aiohttp.BaseConnector | None = None,
        login_connector: aiohttp.BaseConnector | None = None,
        retry_sub_duration: float = 0.1,
        retry_factor: float = 1.0,
        retry_max_duration: float = 30.0,
        retry_max_count: int = 20,
        **options: Any,
    ) -> None:
        super().__init__(
            username=username,
            password=password,
            client_id=client_id,
            client_secret=client_secret,
            sandbox=sandbox,
            version=version,
            loop=loop,
            connector=connector,
            login_connector=login_connector,
            retry_sub_duration=retry_sub_duration,
            retry_factor=retry_factor,
            retry_max_duration=retry_max_duration,
            retry_max_count=retry_max_count,
            **options,
        )


class SimpleRefreshTokenSalesforceStreaming(AllMixin, RefreshTokenSalesforceStreaming):
    """Refresh-token flow with every mixin."""

    def __init__(
        self,
        refresh_token: str,
        client_id: str,
        client_secret: str,
        *,
        sandbox: bool = False,
        version: str = "42.0",
        loop: Any = None,
        connector: aiohttp.BaseConnector | None = None,
        login_connector: aiohttp.BaseConnector | None = None,
        retry_sub_duration: float = 0.1,
        retry_factor: float = 1.0,
        retry_max_duration: float = 30.0,
        retry_max_count: int = 20,
        **options: Any,
    ) -> None:
        super().__init__(
            refresh_token=refresh_token,
            client_id=client_id,
            client_secret=client_secret,
            sandbox=sandbox,
            version=version,
            loop=loop,
            connector=connector,
            login_connector=login_connector,
            retry_sub_duration=retry_sub_duration,
            retry_factor=retry_factor,
            retry_max_duration=retry_max_duration,
            retry_max_count=retry_max_count,
            **options,
        )

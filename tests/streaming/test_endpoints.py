"""Which instance_url a login may hand the token to (sfmonitor/streaming/endpoints.py)."""

from __future__ import annotations

import pytest

from sfmonitor.streaming import InsecureEndpointError
from sfmonitor.streaming.endpoints import check_instance_url, check_login_url, is_loopback


@pytest.mark.parametrize(
    "instance",
    [
        "https://acme.my.salesforce.com",
        "https://acme--uat.sandbox.my.salesforce.com",
        "https://na123.salesforce.com",
        "https://acme.lightning.force.com",
        "https://acme.my.salesforce.mil",
        "https://acme.my.sfcrmproducts.cn",
        "https://ACME.My.Salesforce.com.",
    ],
)
def test_salesforce_hosts_are_sensible_instances(instance: str) -> None:
    assert check_instance_url(instance, "https://login.salesforce.com")


@pytest.mark.parametrize(
    "instance",
    [
        "http://acme.my.salesforce.com",
        "https://salesforce.com.evil.example",
        "https://evilsalesforce.com",
        "https://user:pw@acme.my.salesforce.com",
        "https://acme.my.salesforce.com?x=1",
        "ftp://acme.my.salesforce.com",
        "https://10.0.0.1",
        "not a url",
    ],
)
def test_other_instances_are_refused(instance: str) -> None:
    with pytest.raises(InsecureEndpointError):
        check_instance_url(instance, "https://login.salesforce.com")


def test_trusted_hosts_take_names_and_domains() -> None:
    login = "https://login.salesforce.com"
    assert check_instance_url("https://sf.proxy.corp.example", login, [".corp.example"])
    assert check_instance_url("https://gw.example", login, ["gw.example"])
    with pytest.raises(InsecureEndpointError):
        check_instance_url("https://gw.example", login, ["other.example"])


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("http://127.0.0.1:8080", True),
        ("http://localhost:1", True),
        ("http://[::1]:1", True),
        ("https://login.salesforce.com", True),
        ("http://login.salesforce.com", False),
        ("http://192.168.1.10", False),
        ("ftp://127.0.0.1", False),
    ],
)
def test_login_urls(url: str, ok: bool) -> None:
    if ok:
        check_login_url(url)
    else:
        with pytest.raises(InsecureEndpointError):
            check_login_url(url)


def test_loopback_names() -> None:
    assert is_loopback("127.8.9.1") and is_loopback("::1") and is_loopback("app.localhost")
    assert not is_loopback("localhost.example.com") and not is_loopback("10.0.0.1")

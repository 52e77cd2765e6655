"""``python -m sfmonitor.emulator``: serve the emulated org until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
import signal
import ssl
import sys

from .config import (
    DEFAULT_CALLBACK_URL,
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_PASSWORD,
    DEFAULT_REFRESH_TOKEN,
    DEFAULT_USERNAME,
    EmulatorConfig,
)
from .server import Emulator

EPILOG = f"""\
default credentials (password, refresh_token and client_credentials grants):
  username       {DEFAULT_USERNAME}
  password       {DEFAULT_PASSWORD}   (no security token needed: loopback is trusted)
  client id      {DEFAULT_CLIENT_ID}
  client secret  {DEFAULT_CLIENT_SECRET}
  refresh token  {DEFAULT_REFRESH_TOKEN}
browser login (web-server flow with PKCE, no secret): client id {DEFAULT_CLIENT_ID},
  callback URL {DEFAULT_CALLBACK_URL}
login URL = the printed base URL; CometD endpoint = <base URL>/cometd/62.0
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m sfmonitor.emulator",
        description="Emulator of the Salesforce Streaming API for offline development and tests.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback)")
    p.add_argument("--port", type=int, default=0, help="port (default 0: a free one)")
    p.add_argument(
        "--scenario",
        choices=("demo", "large", "none"),
        default="none",
        help="traffic to generate (demo: records, platform events, logins...; large: the "
        "demo's traffic in an org with 500+ channels to discover)",
    )
    p.add_argument("--rate", type=float, default=5.0, help="scenario actions per second")
    p.add_argument("--seed", type=int, default=1, help="scenario random seed")
    p.add_argument(
        "--connect-timeout",
        type=float,
        default=110.0,
        help="seconds a /meta/connect is held (advice.timeout)",
    )
    p.add_argument(
        "--session-timeout",
        type=float,
        default=40.0,
        help="seconds without a connect after which a session expires",
    )
    p.add_argument("--max-batch", type=int, default=1000, help="events per connect reply")
    p.add_argument(
        "--auto-approve",
        action="store_true",
        help="browser logins get a code at once for the default user (no login page)",
    )
    p.add_argument(
        "--block-password-flow",
        action="store_true",
        help="refuse the password grant as orgs created since Summer '23 do",
    )
    p.add_argument(
        "--no-view-setup",
        action="store_true",
        help="the default user lacks View Setup and Configuration (Tooling discovery and "
        "/limits/ are refused)",
    )
    p.add_argument(
        "--page-size", type=int, default=2000, help="records per query page (nextRecordsUrl)"
    )
    p.add_argument("--tls-cert", help="serve HTTPS with this certificate (PEM)")
    p.add_argument("--tls-key", help="private key for --tls-cert (PEM)")
    p.add_argument(
        "--pubsub-port",
        type=int,
        default=None,
        help="also serve the Pub/Sub API (gRPC) on this port (0: a free one); TLS with "
        "--tls-cert/--tls-key, else plaintext",
    )
    return p.parse_args(argv)


async def serve(args: argparse.Namespace) -> None:
    config = EmulatorConfig(
        connect_timeout=args.connect_timeout,
        max_interval=args.session_timeout,
        max_events_per_reply=args.max_batch,
        auto_approve=args.auto_approve,
        block_password_flow=args.block_password_flow,
        catalog="large" if args.scenario == "large" else "basic",
        query_page_size=args.page_size,
    )
    if args.no_view_setup:
        config.users[0].view_setup = False
    context = None
    if args.tls_cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.tls_cert, args.tls_key)
    emulator = Emulator(config)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    url = await emulator.start(args.host, args.port, ssl_context=context)
    line = f"sfmonitor-emulator listening on {url}"
    if args.pubsub_port is not None:
        tls = None
        if args.tls_cert:
            with open(args.tls_cert, "rb") as cert, open(args.tls_key, "rb") as key:
                tls = (cert.read(), key.read())
        line += " pubsub " + await emulator.start_pubsub(args.host, args.pubsub_port, tls)
    if args.scenario in ("demo", "large"):
        emulator.start_scenario(seed=args.seed, rate=args.rate)
    print(line, flush=True)
    try:
        await stop.wait()
    finally:
        await emulator.stop()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if bool(args.tls_cert) != bool(args.tls_key):
        print("error: --tls-cert and --tls-key go together", file=sys.stderr)
        return 2
    asyncio.run(serve(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())

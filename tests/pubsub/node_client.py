"""Salesforce developer relations' Node client (npm ``salesforce-pubsub-api-client``, pinned
in tests/pubsub/node/package-lock.json): installed with ``npm ci`` on first use, run
unmodified against an emulator (tests/pubsub/node/run.mjs)."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import orjson

from sfmonitor.emulator import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET

NODE_DIR = Path(__file__).resolve().parent / "node"


def node_ready() -> str | None:
    """Install the pinned client if needed; the reason it cannot run, or None."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        return "needs node and npm (the Node third-party client)"
    installed = NODE_DIR / "node_modules" / ".package-lock.json"
    lock = NODE_DIR / "package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
        out = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"],
            cwd=NODE_DIR,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if out.returncode != 0:
            raise RuntimeError(f"npm ci failed: {out.stderr[-2000:]}")
    return None


async def run_node(
    login_url: str, endpoint: str, topic: str, count: int, publish_topic: str, ca: Path
) -> list[dict[str, Any]]:
    """Run run.mjs; its JSON lines. The secret goes through the environment, not argv."""
    env = {
        **os.environ,
        "LOGIN_URL": login_url,
        "CLIENT_ID": DEFAULT_CLIENT_ID,
        "CLIENT_SECRET": DEFAULT_CLIENT_SECRET,
        "NODE_EXTRA_CA_CERTS": str(ca),  # for its HTTPS login (undici)
    }
    args = [endpoint, topic, str(count)] + ([publish_topic] if publish_topic else [])
    proc = await asyncio.create_subprocess_exec(
        "node",
        "run.mjs",
        *args,
        cwd=NODE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), 300)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    if proc.returncode != 0:
        raise RuntimeError(f"node exited {proc.returncode}: {err.decode()[-3000:]}")
    return [orjson.loads(line) for line in out.splitlines() if line.strip()]

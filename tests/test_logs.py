"""Log files rotate and mask secrets and access tokens."""

from __future__ import annotations

import logging
from pathlib import Path

from sfmonitor import logs


def test_logs_rotate_and_mask(tmp_path: Path) -> None:
    path = logs.setup_logging(tmp_path, "DEBUG")
    handler = next(h for h in logging.getLogger().handlers if getattr(h, "sfmonitor", False))
    handler.maxBytes = 20_000  # type: ignore[attr-defined]
    logs.register_secret("Very-Secret-Pw-123")
    log = logging.getLogger("sfmonitor.test")
    try:
        for i in range(2000):
            log.info(
                "line %d password is Very-Secret-Pw-123, token 00D5g000004ABCD!AQ8AQJqPxyzxyz1234",
                i,
            )
        log.debug("Authorization: Bearer abcdefghijklmnop client_secret=cs-top-secret")
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()
    files = sorted(p.name for p in path.parent.iterdir())
    assert files == ["sfmonitor.log", *[f"sfmonitor.log.{i}" for i in range(1, 6)]]
    text = "".join(p.read_text() for p in path.parent.iterdir())
    for secret in ("Very-Secret-Pw-123", "AQ8AQJqPxyzxyz1234", "abcdefghijklmnop", "cs-top-secret"):
        assert secret not in text
    assert "…(masked)" in text and "client_secret=***" in text

"""Log files: rotated, in the data folder, and never holding a secret.

Every record passes ``Redactor``: the secrets of the profiles in use (registered when they
are loaded) are replaced by ``***``, the access tokens the client received (registered as
they arrive, the last ``TOKENS_KEPT``) likewise, and anything shaped like an access token (a
Salesforce session id ``00D…!…``, a JWT ``eyJ….….…``, ``Bearer …``, ``access_token=…``) is
masked to its first characters.
"""

from __future__ import annotations

import contextlib
import io
import logging
import logging.handlers
import os
import re
import sys
import threading
from collections import deque
from pathlib import Path

LOG_NAME = "sfmonitor.log"
MAX_BYTES = 5 << 20
BACKUPS = 5
TOKENS_KEPT = 64
_TOKEN = re.compile(
    r"(?P<sid>\b00D[A-Za-z0-9]{12,15}![A-Za-z0-9._\-]{8,})"
    r"|(?P<jwt>\beyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-.]*)"  # a JWT, or its start
    r"|(?P<bearer>\bBearer\s+[A-Za-z0-9._\-!]{8,})"
    r"|(?P<field>(?:access_token|refresh_token|client_secret|password)[\"']?\s*[:=]\s*[\"']?[^\s\"'&,}]{3,})"
)
_secrets: set[str] = set()
_tokens: deque[str] = deque(maxlen=TOKENS_KEPT)  # new tokens keep coming: bounded
_lock = threading.Lock()


def register_secret(*values: str) -> None:
    """Mask these values in every log record from now on (short ones are ignored)."""
    with _lock:
        _secrets.update(v for v in values if v and len(v) >= 4)


def register_token(token: str) -> None:
    """Mask this access token in every log record (whatever its shape); the newest
    ``TOKENS_KEPT`` tokens are remembered."""
    if token and len(token) >= 8:
        with _lock:
            if token not in _tokens:
                _tokens.append(token)


def _mask_token(match: re.Match[str]) -> str:
    text = match.group(0)
    if match.group("field"):
        key = re.split(r"[\"']?\s*[:=]", text, maxsplit=1)[0]
        return f"{key}=***"
    return text[:8] + "…(masked)"


def redact(text: str) -> str:
    with _lock:
        secrets = sorted(_secrets.union(_tokens), key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, "***")
    return _TOKEN.sub(_mask_token, text)


class Redactor(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            message += "\n" + logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
            record.exc_text = None
        record.msg = redact(message)
        record.args = None
        return True


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating log whose files are readable by their owner only (logs quote event
    data and server replies): created 0600, and rotation renames, so each keeps it."""

    def _open(self) -> io.TextIOWrapper:
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        return open(fd, "a", encoding=self.encoding, errors=self.errors)


def setup_logging(folder: Path, level: str = "INFO") -> Path | None:
    """Log to ``folder/logs/sfmonitor.log`` (rotated: 5 files of 5 MB); returns the path,
    or None when the folder cannot hold a log (a read-only file system: read-only
    commands still work there), after saying so on stderr."""
    logs = folder / "logs"
    path: Path | None = logs / LOG_NAME
    try:
        logs.mkdir(parents=True, exist_ok=True, mode=0o700)
        for old in (logs, *logs.glob(LOG_NAME + "*")):  # tighten files of older versions
            with contextlib.suppress(OSError):
                old.chmod(0o700 if old == logs else 0o600)
        handler: logging.Handler = PrivateRotatingFileHandler(
            logs / LOG_NAME, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8"
        )
    except OSError as exc:
        print(
            f"sfmonitor: no log file ({exc.strerror or exc}: {logs}); logging to nowhere",
            file=sys.stderr,
        )
        handler = logging.NullHandler()
        path = None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(Redactor())
    root = logging.getLogger()
    for old_handler in [h for h in root.handlers if getattr(h, "sfmonitor", False)]:
        root.removeHandler(old_handler)
        old_handler.close()
    handler.sfmonitor = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(getattr(logging, level.upper(), logging.INFO))
    return path

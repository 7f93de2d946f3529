"""Secrets never leave the process: every place that writes parameters out
(the report, ``metrics.json``, MLflow parameters and tags, log lines) passes
them through :func:`redact_tree` first.

What counts as a secret:

* the password of a URL (``postgresql://user:pw@host/db`` →
  ``postgresql://user:***@host/db``);
* a URL's query value whose name says it is a key (``?apikey=…``,
  ``token``, ``key``, ``secret``, ``password``, ``access_token``);
* an RPC provider's key in a URL's path: a segment of 20 or more letters and
  digits mixing both (``https://mainnet.infura.io/v3/<key>``,
  ``https://eth-mainnet.g.alchemy.com/v2/<key>``);
* the whole value of a parameter whose name says it is a secret
  (``password``, ``secret``, ``token``, ``api_key``, ``credentials``).

The values themselves are unchanged where the code uses them: redaction is
applied to copies at the point of writing, so a trial or a resumed study
still connects.
"""

from __future__ import annotations

import re
from typing import Any

MASK = "***"
_SECRET_NAME = re.compile(r"(password|passwd|secret|token|api_?key|credentials)$", re.I)
_USERINFO = re.compile(
    r"(?P<scheme>[a-zA-Z][\w+.-]*://)(?P<user>[^:@/\s]*):(?P<pw>[^@/\s]+)@"
)
_QUERY = re.compile(
    r"(?P<name>[?&;](?:api[_-]?key|apikey|key|token|access[_-]?token|secret|password)=)"
    r"(?P<value>[^&;#\s]+)",
    re.I,
)
_PATH_KEY = re.compile(
    r"(?P<prefix>https?://[^\s/]+(?:/[^\s/?#]*)*?/)(?P<key>[A-Za-z0-9_-]{20,})(?=[/?#\s]|$)"
)


def _looks_like_key(segment: str) -> bool:
    return any(c.isdigit() for c in segment) and any(c.isalpha() for c in segment)


def redact(text: str) -> str:
    """``text`` with every password, key and token in its URLs masked."""
    if "://" not in text:
        return text
    text = _USERINFO.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", text)
    text = _QUERY.sub(lambda m: f"{m['name']}{MASK}", text)
    return _PATH_KEY.sub(
        lambda m: m["prefix"] + (MASK if _looks_like_key(m["key"]) else m["key"]), text
    )


def redact_tree(value: Any, name: str = "") -> Any:
    """A copy of ``value`` (dicts, lists, strings) with its secrets masked;
    ``name`` is the key it was found under (a secret's name masks it all)."""
    if isinstance(value, dict):
        return {k: redact_tree(v, str(k)) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(redact_tree(v, name) for v in value)
    if isinstance(value, str):
        leaf = name.rsplit(".", 1)[-1]
        if value and _SECRET_NAME.search(leaf):
            return MASK
        return redact(value)
    return value

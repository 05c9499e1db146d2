"""Credentials out of every message. `mask(text)` hides the secret part of anything that looks like
a URI with credentials, or like a named secret, wherever it sits in the text; `clip` cuts a text
only after masking it (a URI cut before its `@` no longer looks like one). reconciler/output.py
applies `mask` to everything the process prints, logs and warns, the GitHub client to everything
it sends, and the error handler to the crash log, so a new message cannot forget it.

What is masked (the user name and the host are kept, so the message still says which registry):
- the userinfo of a URI, however mistyped: `postgres://bob:***@db`, `htps://`, `http//`,
  `http:/bob:***@db`, and bare `bob:***@db`; a user alone after `//` (a token: `https://***@host`);
  a password that holds `@`, `/`, `:` or quotes (everything up to the last `@` of the word);
- a URI cut before its `@` (`http://bob:***`), when what follows the colon is no port;
- `key=value` and `"key": "value"` whose key names a secret (`password=***`, `?token=***`,
  `X-Amz-Signature=***`, `PWD=***;`), and `Authorization: Bearer ***`;
- GitHub tokens (`ghp_…`, `ghs_…`, `github_pat_…`).
A word is a run of characters other than white space, so a password with white space in it cannot
be told from the words around it; nor can an e-mail address (`bob@example.com`, kept) from a token
without a scheme. `models:/name@alias` (MLflow's model URI) is kept.
"""

from __future__ import annotations

import re

MASK = "***"
# The patterns are linear in the text: a word is matched whole, then its key is looked at.
_SECRET_KEY = re.compile(r"(?i)password|passwd|pwd|secret|token|credential|signature|sig|key")
_SECRET_QUOTED_KEY = re.compile(r"(?i)password|passwd|pwd|secret|token|credential")
_KEY = re.compile(r"(?<![\w.-])[\w.-]+=")
_VALUE = re.compile(r"""'[^'\n]*'|"[^"\n]*"|[^\s&#;'"<>=][^\s&#;'"<>]*""")
_QUOTED = re.compile(r"""(["'])([^"'\s]+)\1(\s*[:=]\s*)(?:"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')""")
_HEADER = re.compile(r"(?i)(\bauthorization[\"']?\s*[:=]\s*[\"']?(?:(?:bearer|basic|token|digest)\s+)?)[^\s\"',;]+")
_BEARER = re.compile(r"(?i)(\bbearer\s+)[A-Za-z0-9._~+/=-]{8,}")
_GITHUB = re.compile(r"(?<![A-Za-z0-9_-])(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})(?![A-Za-z0-9_-])")
_AT_WORD = re.compile(r"(?<!\S)[^\s@]*@\S*")
_SCHEME_WORD = re.compile(r"(?<!\S)\S*?//\S*")
_PUNCT = "'\"([{<"
_TRAILING = ")]}>'\",.;:!?"


def mask(text: str) -> str:
    """`text` with every credential-looking part replaced by ***; idempotent, never raises."""
    if "@" in text:
        text = _AT_WORD.sub(lambda m: _userinfo(m.group()), text)
    if "//" in text:
        text = _SCHEME_WORD.sub(lambda m: _dangling(m.group()), text)
    if "=" in text:
        text = _key_values(text)
    if ":" in text or "=" in text:
        text = _QUOTED.sub(_quoted, text)
        text = _HEADER.sub(lambda m: m.group(1) + MASK, text)
    text = _BEARER.sub(lambda m: m.group(1) + MASK, text)
    return _GITHUB.sub(MASK, text)


def clip(text: str, limit: int) -> str:
    """The masked text, cut to `limit` characters (masking first: a cut can hide a URI's `@`)."""
    return mask(text)[:limit]


def _key_values(text: str) -> str:
    """`key=value` whose key names a secret; a value may hold another `key=` (`uri=PASSWORD=…`)."""
    out, done = [], 0
    for key in _KEY.finditer(text):
        if key.start() < done or not _SECRET_KEY.search(key[0]):
            continue
        value = _VALUE.match(text, key.end())
        if value is None:
            continue
        out += [text[done : key.end()], MASK]
        done = value.end()
    return "".join(out) + text[done:] if out else text


def _quoted(m: re.Match[str]) -> str:
    """`"password": "…"` (JSON, a Python dict's repr): the value's quotes are kept."""
    if not _SECRET_QUOTED_KEY.search(m[2]):
        return m[0]
    quote = m[0][-1]
    return f"{m[1]}{m[2]}{m[1]}{m[3]}{quote}{MASK}{quote}"


def _userinfo(word: str) -> str:
    """One word that holds `@`: the userinfo is what stands before its last `@`."""
    at = word.rfind("@")
    head, tail = word[:at], word[at:]
    colon, slashes = head.find(":"), head.find("//")
    if slashes >= 0 and (colon < 0 or slashes < colon):  # `http//user:password@`, `//user@`
        start = slashes + 2
    elif colon >= 0 and head.startswith("//", colon + 1):  # `scheme://user:password@`
        start = colon + 3
    elif colon >= 0 and head.startswith("/", colon + 1):  # `scheme:/user:password@`
        start = colon + 2
        if ":" not in head[start:] and head[:colon].lstrip(_PUNCT).lower() == "models":
            return word  # models:/name@alias
    elif colon >= 0:  # bare `user:password@host`: a scheme without slashes is no different
        return _masked(head[: colon + 1], head[colon + 1 :]) + tail
    else:  # no colon, no slashes: an e-mail address, `git@host`
        return word
    user, sep, secret = head[start:].partition(":")
    kept = head[:start] + user + sep if sep else head[:start]
    return _masked(kept, secret if sep else user) + tail


def _masked(kept: str, secret: str) -> str:
    return kept + MASK if secret else kept


def _dangling(word: str) -> str:
    """A URI cut (or typed) before its `@`: `http://bob:s3cr` -> `http://bob:***`; a port is kept."""
    if "@" in word:
        return word
    start = word.find("//") + 2
    end = len(word)
    for sep in "/?#":
        i = word.find(sep, start)
        if i >= 0:
            end = min(end, i)
    authority = word[start:end]
    if authority.startswith("["):  # an IPv6 literal: [::1]:5000
        close = authority.find("]")
        authority = authority[close + 1 :] if close >= 0 else ""
    colon = authority.find(":")
    if colon < 0:
        return word
    typed = authority[colon + 1 :]
    secret = typed.rstrip(_TRAILING)
    if not secret or secret.isdigit() or secret == MASK:
        return word
    cut = word.find(authority, start) + colon + 1
    return word[:cut] + MASK + typed[len(secret) :] + word[end:]

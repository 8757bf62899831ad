"""Who may watch: a changeable set of credentials, checked with Basic or Digest auth.

A DRA driver mints a credential per claim and revokes it when the claim goes, so the accepted
set changes while clients are connected. Sessions remember the credential that opened them;
``Credentials.valid`` tells the server whether that credential still holds.

Digest follows RFC 2617/7616 with MD5, as FFmpeg speaks it: the challenge offers
``qop="auth"``, and answers with or without qop are checked. A nonce carries the time it was
issued and a counter under an HMAC of a per-camera secret, so any nonce this camera issued
verifies without keeping a table. A nonce expires after the camera's ``nonce_lifetime``; a
right answer with an expired nonce gets a new challenge saying ``stale=true`` (RFC 7616
3.3), so a client computes a new answer without asking its user again. Nonce counts are
not tracked: replay protection is not what a test bed on loopback needs, and revoking a
credential still works because every request re-checks the password behind the answer.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import itertools
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

REALM = "fakehw-camera"
DEFAULT_NONCE_LIFETIME = 300  # seconds
_PARAM = re.compile(r'(\w+)\s*=\s*("(?:[^"\\]|\\.)*"|[^,\s]*)')


class Credentials:
    """The user name -> password pairs a camera accepts; safe to change from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._passwords: dict[str, str] = {}

    def add(self, username: str, password: str) -> None:
        """Accept ``username`` with ``password`` (replacing the user's previous password)."""
        with self._lock:
            self._passwords[username] = password

    def revoke(self, username: str) -> bool:
        """Stop accepting ``username``; True if it was accepted. Revoking twice is harmless."""
        with self._lock:
            return self._passwords.pop(username, None) is not None

    def users(self) -> list[str]:
        with self._lock:
            return sorted(self._passwords)

    def password(self, username: str) -> str | None:
        with self._lock:
            return self._passwords.get(username)

    def valid(self, username: str, password: str) -> bool:
        known = self.password(username)
        return known is not None and hmac.compare_digest(known.encode(), password.encode())


@dataclass(frozen=True)
class Identity:
    """The credential a request proved: kept by its session to be re-checked on changes."""

    username: str
    password: str


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def parse_params(text: str) -> dict[str, str]:
    """``key=value, key="quoted"`` pairs of a Digest header, unquoted, keys lower-cased."""
    return {k.lower(): v[1:-1].replace('\\"', '"') if v.startswith('"') else v
            for k, v in _PARAM.findall(text)}


class Authenticator:
    """Challenges and checks requests for one camera with one scheme (digest or basic)."""

    def __init__(self, scheme: str, credentials: Credentials,
                 nonce_lifetime: float = DEFAULT_NONCE_LIFETIME,
                 clock: Callable[[], float] = time.time) -> None:
        self.scheme = scheme
        self.credentials = credentials
        self.nonce_lifetime = nonce_lifetime
        self._clock = clock
        self._secret = secrets.token_bytes(16)
        self._counter = itertools.count()

    def challenge(self, *, stale: bool = False) -> str:
        """The WWW-Authenticate value of a 401; ``stale`` after a right answer to an expired
        nonce."""
        if self.scheme == "basic":
            return f'Basic realm="{REALM}"'
        return (f'Digest realm="{REALM}", nonce="{self._nonce()}", algorithm=MD5, '
                f'qop="auth"' + (", stale=true" if stale else ""))

    def _nonce(self) -> str:
        issued = f"{int(self._clock()):x}.{next(self._counter):x}"
        return issued + "-" + self._sign(issued)

    def _sign(self, text: str) -> str:
        return hmac.new(self._secret, text.encode(), hashlib.sha256).hexdigest()[:24]

    def _nonce_state(self, nonce: str) -> str:
        """``fresh``, ``expired`` (ours, but too old) or ``forged``."""
        issued, _, signature = nonce.partition("-")
        if not hmac.compare_digest(self._sign(issued), signature):
            return "forged"
        age = self._clock() - int(issued.partition(".")[0], 16)
        return "fresh" if age <= self.nonce_lifetime else "expired"

    def check(self, method: str, uri: str, authorization: str | None) -> Identity | None:
        """The identity proved by ``authorization``, or None if it proves nothing valid."""
        return self._check(method, uri, authorization, ("fresh",))

    def stale(self, method: str, uri: str, authorization: str | None) -> bool:
        """True when ``authorization`` is a right Digest answer to a nonce of ours that
        expired: the client should answer a new nonce (``challenge(stale=True)``)."""
        return (self.scheme == "digest" and authorization is not None
                and self._check(method, uri, authorization, ("expired",)) is not None)

    def _check(self, method: str, uri: str, authorization: str | None,
               nonces: tuple[str, ...]) -> Identity | None:
        if not authorization:
            return None
        scheme, _, rest = authorization.strip().partition(" ")
        if scheme.lower() != self.scheme:
            return None
        if self.scheme == "basic":
            return self._check_basic(rest.strip())
        return self._check_digest(method, uri, parse_params(rest), nonces)

    def _check_basic(self, token: str) -> Identity | None:
        try:
            text = base64.b64decode(token, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        username, colon, password = text.partition(":")
        if colon and self.credentials.valid(username, password):
            return Identity(username, password)
        return None

    def _check_digest(self, method: str, uri: str, p: dict[str, str],
                      nonces: tuple[str, ...]) -> Identity | None:
        username, nonce, response = p.get("username"), p.get("nonce"), p.get("response")
        digest_uri = p.get("uri", "")
        usable = (
            username and nonce and response and p.get("realm") == REALM
            and p.get("algorithm", "MD5").upper() == "MD5" and p.get("qop") in (None, "auth")
            and self._nonce_state(nonce) in nonces
            # an answer computed for another resource does not open this one
            and urlsplit(digest_uri).path.rstrip("/") == urlsplit(uri).path.rstrip("/")
        )
        password = self.credentials.password(username) if usable and username else None
        if password is None or not username or not nonce or not response:
            return None
        ha1 = _md5(f"{username}:{REALM}:{password}")
        ha2 = _md5(f"{method}:{digest_uri}")
        if p.get("qop") == "auth":
            expected = _md5(f"{ha1}:{nonce}:{p.get('nc', '')}:{p.get('cnonce', '')}:auth:{ha2}")
        else:
            expected = _md5(f"{ha1}:{nonce}:{ha2}")  # RFC 2069 style, as older clients answer
        if hmac.compare_digest(expected, response.lower()):
            return Identity(username, password)
        return None

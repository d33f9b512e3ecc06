"""Who may change the registry: focal points, each limited to their own country.

Pure functions (no Streamlit). Two ways to sign in, both configured in secrets:

* credentials for a small deployment, in `.streamlit/secrets.toml`::

    [focal_points.ana]
    country = "MEX"
    name = "Ana Pérez"
    password_hash = "$argon2id$v=19$m=65536,t=3,p=4$<salt>$<hash>"   # rcm-map hash-password

* Streamlit's built-in OIDC login (`st.login()`), mapping the verified e-mail to a
  country::

    [focal_point_emails]
    "ana@example.org" = "MEX"

Passwords are never stored, only Argon2id hashes made with argon2-cffi (the
maintained implementation of the password-hashing competition winner); scrypt and
PBKDF2-SHA256 hashes made by earlier versions are still accepted. Sign-in attempts
are limited per user name and per client address by `rcm_map.store.throttle`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from rcm_map.core import schema

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1  # hashes of earlier versions
_ARGON2 = PasswordHasher()  # argon2id with the library's RFC 9106 low-memory defaults
PBKDF2_MIN_ITERATIONS = 200_000


class AuthError(Exception):
    """Bad auth configuration; the message names the secret key, field and value."""


class PermissionDenied(Exception):
    """A signed-in user tried to act outside their country."""


@dataclass(frozen=True)
class FocalPoint:
    """A signed-in focal point."""

    username: str
    country: str
    name: str = ""
    email: str = ""

    @property
    def label(self) -> str:
        """How the history names this user, e.g. 'ana (MEX)'."""
        return f"{self.username} ({self.country})"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str) -> str:
    """An Argon2id hash string to paste into secrets (``$argon2id$v=19$...``)."""
    if not password:
        raise AuthError("password: expected a non-empty password")
    return _ARGON2.hash(password)


def check_hash_format(stored: str) -> str | None:
    """Why a stored hash is unusable, or None when it is well formed."""
    parts = stored.split("$") if isinstance(stored, str) else []
    try:
        if stored.startswith("$argon2"):
            _ARGON2.check_needs_rehash(stored)  # parses the parameters
            return None
        if len(parts) == 6 and parts[0] == "scrypt":
            int(parts[1]), int(parts[2]), int(parts[3])
            base64.b64decode(parts[4], validate=True)
            base64.b64decode(parts[5], validate=True)
            return None
        if len(parts) == 4 and parts[0] == "pbkdf2_sha256":
            if int(parts[1]) < PBKDF2_MIN_ITERATIONS:
                return f"PBKDF2 needs at least {PBKDF2_MIN_ITERATIONS} iterations"
            base64.b64decode(parts[2], validate=True)
            base64.b64decode(parts[3], validate=True)
            return None
    except (ValueError, InvalidHashError, AttributeError):
        pass
    return ("expected an Argon2id hash '$argon2id$v=19$...' (make one with: rcm-map "
            "hash-password); 'scrypt$N$r$p$salt$hash' and 'pbkdf2_sha256$iterations$salt$hash' "
            "from earlier versions are accepted too")


def verify_password(password: str, stored: str) -> bool:
    """True when `password` matches the stored hash (constant-time comparison)."""
    if check_hash_format(stored) is not None:
        return False
    if stored.startswith("$argon2"):
        try:
            return _ARGON2.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return False
    parts = stored.split("$")
    secret = password.encode("utf-8")
    if parts[0] == "scrypt":
        n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        salt, want = base64.b64decode(parts[4]), base64.b64decode(parts[5])
        got = hashlib.scrypt(secret, salt=salt, n=n, r=r, p=p, dklen=len(want),
                             maxmem=256 * 1024 * 1024)
    else:
        iterations, salt, want = int(parts[1]), base64.b64decode(parts[2]), base64.b64decode(
            parts[3])
        got = hashlib.pbkdf2_hmac("sha256", secret, salt, iterations, dklen=len(want))
    return hmac.compare_digest(got, want)


@dataclass(frozen=True)
class Credential:
    """One focal point's entry in secrets."""

    user: FocalPoint
    password_hash: str


def _country(value: Any, where: str) -> str:
    if not isinstance(value, str) or value.upper() not in schema.COUNTRIES:
        raise AuthError(f"{where}: unknown country {value!r}; expected one of: "
                        + ", ".join(schema.COUNTRIES))
    return value.upper()


def load_credentials(secrets_map: Mapping[str, Any]) -> dict[str, Credential]:
    """Focal-point credentials from secrets (`[focal_points.<username>]` tables).

    Raises AuthError naming the key and field of the first bad entry.
    """
    section = secrets_map.get("focal_points", {}) if secrets_map else {}
    if not isinstance(section, Mapping):
        raise AuthError("secrets [focal_points]: expected a table of users")
    out: dict[str, Credential] = {}
    for username, entry in section.items():
        where = f"secrets [focal_points.{username}]"
        if not isinstance(entry, Mapping):
            raise AuthError(f"{where}: expected a table with country and password_hash")
        country = _country(entry.get("country"), f"{where} field 'country'")
        stored = entry.get("password_hash", "")
        problem = check_hash_format(stored)
        if problem:
            raise AuthError(f"{where} field 'password_hash': {problem}")
        user = FocalPoint(str(username), country, str(entry.get("name", "")),
                          str(entry.get("email", "")))
        out[str(username)] = Credential(user, stored)
    return out


# Compared against when the username is unknown, so timing does not reveal which
# usernames exist.
_DUMMY_HASH = hash_password("not a real password")


def authenticate(credentials: Mapping[str, Credential], username: str,
                 password: str) -> FocalPoint | None:
    """The focal point for a username and password, or None (same cost either way)."""
    entry = credentials.get(username.strip()) if isinstance(username, str) else None
    ok = verify_password(password or "", entry.password_hash if entry else _DUMMY_HASH)
    return entry.user if entry is not None and ok else None


def user_from_oidc(user_info: Mapping[str, Any],
                   secrets_map: Mapping[str, Any]) -> FocalPoint | None:
    """Map an OIDC user (st.user) to a focal point by verified e-mail, or None.

    Parameters
    ----------
    user_info : mapping
        The identity claims (`st.user.to_dict()`); needs `email`. When the provider
        sends `email_verified`, it must be true.
    secrets_map : mapping
        Secrets with a `[focal_point_emails]` table of e-mail -> country.
    """
    email = str(user_info.get("email") or "").strip().lower()
    if not email or user_info.get("email_verified") is False:
        return None
    table = secrets_map.get("focal_point_emails", {}) if secrets_map else {}
    by_email = {str(k).strip().lower(): v for k, v in dict(table).items()}
    if email not in by_email:
        return None
    country = _country(by_email[email], f"secrets [focal_point_emails] {email!r}")
    return FocalPoint(email, country, str(user_info.get("name") or ""), email)


def require_country(user: FocalPoint | None, country: str) -> FocalPoint:
    """Return the user if they may change `country`; else raise PermissionDenied."""
    if user is None:
        raise PermissionDenied("sign in as a focal point to change the registry")
    if user.country != country:
        raise PermissionDenied(f"{user.username} is the focal point for {user.country} and "
                               f"cannot change services of {country}")
    return user


def require_countries(user: FocalPoint | None, countries: tuple[str, ...] | list[str]
                      ) -> FocalPoint:
    """Return the user if they may change every one of `countries` (a change that
    touches several belongs to all of them); else raise PermissionDenied."""
    if user is None or not countries:
        return require_country(user, countries[0] if countries else "")
    others = [c for c in countries if c != user.country]
    if others:
        raise PermissionDenied(f"this change also touches {', '.join(others)}; only a focal "
                               f"point of {', '.join(countries)} may undo it")
    return user

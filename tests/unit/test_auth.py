"""Focal-point credentials, OIDC mapping and country limits (rcm_map.store.auth)."""

from __future__ import annotations

import pytest

from rcm_map.store import auth

ANA_HASH = auth.hash_password("correct horse")


def secrets() -> dict:
    """Secrets as st.secrets would hold them."""
    return {"focal_points": {"ana": {"country": "MEX", "name": "Ana",
                                     "password_hash": ANA_HASH}},
            "focal_point_emails": {"Luis@Example.org": "gtm"}}


def test_hash_round_trip() -> None:
    """A password verifies against its own hash only."""
    stored = auth.hash_password("secreto")
    assert stored.startswith("$argon2id$") and "secreto" not in stored
    assert auth.verify_password("secreto", stored)
    assert not auth.verify_password("Secreto", stored)


def test_scrypt_hashes_of_earlier_versions_are_accepted() -> None:
    import base64
    import hashlib

    salt = b"s" * 16
    digest = hashlib.scrypt(b"pw", salt=salt, n=2**14, r=8, p=1, dklen=32)
    stored = f"scrypt$16384$8$1${base64.b64encode(salt).decode()}$" \
             f"{base64.b64encode(digest).decode()}"
    assert auth.check_hash_format(stored) is None
    assert auth.verify_password("pw", stored) and not auth.verify_password("px", stored)


def test_pbkdf2_hashes_are_accepted() -> None:
    """PBKDF2-SHA256 hashes (from other tools) verify too."""
    import base64
    import hashlib

    digest = hashlib.pbkdf2_hmac("sha256", b"pw", b"salt", 200_000)
    stored = f"pbkdf2_sha256$200000${base64.b64encode(b'salt').decode()}$" \
             f"{base64.b64encode(digest).decode()}"
    assert auth.verify_password("pw", stored)
    assert not auth.verify_password("px", stored)


def test_authenticate() -> None:
    """Right password: the focal point; wrong password or unknown user: None."""
    creds = auth.load_credentials(secrets())
    user = auth.authenticate(creds, "ana", "correct horse")
    assert user == auth.FocalPoint("ana", "MEX", "Ana", "")
    assert auth.authenticate(creds, "ana", "wrong") is None
    assert auth.authenticate(creds, "nobody", "correct horse") is None
    assert auth.authenticate(creds, "ana", "") is None


@pytest.mark.parametrize("entry, message", [
    ({"country": "XXX", "password_hash": ANA_HASH}, "field 'country': unknown country 'XXX'"),
    ({"country": "MEX", "password_hash": "plain"}, "field 'password_hash': expected"),
    ({"country": "MEX"}, "field 'password_hash'"),
    ("MEX", "expected a table"),
])
def test_bad_secrets_named(entry: object, message: str) -> None:
    """A bad entry is named by its key and field."""
    with pytest.raises(auth.AuthError, match=message) as caught:
        auth.load_credentials({"focal_points": {"bob": entry}})
    assert "[focal_points.bob]" in str(caught.value)


def test_oidc_mapping() -> None:
    """A verified e-mail in the table maps to its country; anything else to None."""
    user = auth.user_from_oidc({"email": "luis@example.org", "email_verified": True}, secrets())
    assert user is not None and user.country == "GTM"
    assert auth.user_from_oidc({"email": "luis@example.org", "email_verified": False},
                               secrets()) is None
    assert auth.user_from_oidc({"email": "eve@example.org"}, secrets()) is None
    assert auth.user_from_oidc({}, secrets()) is None


def test_country_limit() -> None:
    """A focal point may change only their own country."""
    ana = auth.FocalPoint("ana", "MEX")
    assert auth.require_country(ana, "MEX") is ana
    with pytest.raises(auth.PermissionDenied, match="cannot change services of GTM"):
        auth.require_country(ana, "GTM")
    with pytest.raises(auth.PermissionDenied, match="sign in"):
        auth.require_country(None, "MEX")

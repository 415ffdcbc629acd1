"""Every key the service uses is derived from OEMBED_SECRET_KEY with HKDF (RFC 5869), one
per purpose, so that no two purposes share a key and one can be replaced without the others.

- Stored tokens (installed portals', the configured portal's refreshed ones): salt
  ``TOKENS_SALT``, fixed since tokens were first encrypted, so every stored token stays
  readable; changing it would need a re-encryption of every row.
- Insights links: a random salt stored in the database (``storage.key_salts``); a new salt
  revokes every link at once while OEMBED_SECRET_KEY, and so every stored token, stays.
"""
from __future__ import annotations

import base64

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

# Key version 1 of the stored tokens' keys (the only one so far).
TOKENS_SALT = b"oembed-server"
LINKS_PURPOSE = "insights-links"


def derive_key(secret_key: str, salt: bytes, info: bytes) -> bytes:
    """32 bytes for ``info`` (what the key is for), from the secret and a salt."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(secret_key.encode())


def fernet_key(secret_key: str, salt: bytes, info: bytes) -> bytes:
    """The same as a Fernet key (urlsafe base64 of 32 bytes)."""
    return base64.urlsafe_b64encode(derive_key(secret_key, salt, info))

"""API keys, L1 (EIP-712 ``ClobAuth``) and L2 (HMAC) verification, as the CLOB does it.

Credentials are derived deterministically from a per-simulator seed, the address, the nonce and a
generation counter, so ``create`` and ``derive`` agree and a key deleted and re-created is new. Keys of
another simulator instance (other seed) are simply unknown here: "stale".
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

from server.sim.errors import INVALID_L1, UNAUTHORIZED, SimError
from server.sim.signing import SUPPORTED_CHAIN_IDS, SignatureError, clob_auth_digest, parse_signature_hex
from server.sim.signing import recover_address as _recover


@dataclass(frozen=True)
class ApiKey:
    """An issued credential. ``secret`` and ``passphrase`` stay out of the repr."""

    key: str
    address: str  # lower-case EOA that proved control of the wallet
    nonce: int
    chain_id: int
    secret: str = field(repr=False)
    passphrase: str = field(repr=False)

    def creds_json(self) -> dict[str, str]:
        return {"apiKey": self.key, "secret": self.secret, "passphrase": self.passphrase}


class ApiKeyStore:
    """Thread-safe registry of issued API keys."""

    def __init__(self, seed: bytes) -> None:
        self._seed = seed
        self._lock = threading.Lock()
        self._by_key: dict[str, ApiKey] = {}
        self._by_identity: dict[tuple[str, int], ApiKey] = {}
        self._generation: dict[tuple[str, int], int] = {}

    def _derive(self, address: str, nonce: int, chain_id: int) -> ApiKey:
        generation = self._generation.get((address, nonce), 0)
        material = f"{address}:{nonce}:{generation}".encode()
        digest = hmac.new(self._seed, b"key:" + material, hashlib.sha256).digest()
        key = str(uuid.UUID(bytes=digest[:16], version=4))
        secret = base64.urlsafe_b64encode(
            hmac.new(self._seed, b"secret:" + material, hashlib.sha256).digest()
        )
        passphrase = hmac.new(self._seed, b"pass:" + material, hashlib.sha256).hexdigest()
        return ApiKey(
            key=key,
            address=address,
            nonce=nonce,
            chain_id=chain_id,
            secret=secret.decode(),
            passphrase=passphrase,
        )

    def issue(self, address: str, nonce: int, chain_id: int) -> tuple[ApiKey, bool]:
        """Return the live key for (address, nonce), creating it if needed; the flag says "created"."""
        ident = (address.lower(), nonce)
        with self._lock:
            existing = self._by_identity.get(ident)
            if existing is not None:
                return existing, False
            api_key = self._derive(ident[0], nonce, chain_id)
            self._by_identity[ident] = api_key
            self._by_key[api_key.key] = api_key
            return api_key, True

    def revoke(self, key: str) -> bool:
        with self._lock:
            api_key = self._by_key.pop(key, None)
            if api_key is None:
                return False
            ident = (api_key.address, api_key.nonce)
            self._by_identity.pop(ident, None)
            self._generation[ident] = self._generation.get(ident, 0) + 1
            return True

    def get(self, key: str) -> ApiKey | None:
        with self._lock:
            return self._by_key.get(key)

    def keys_of(self, address: str) -> list[ApiKey]:
        with self._lock:
            return [k for k in self._by_key.values() if k.address == address.lower()]


def verify_l1(headers: Mapping[str, str]) -> tuple[str, int, int]:
    """Check the ``ClobAuth`` signature; returns (lower-case address, nonce, chain id) or raises 401."""
    address = headers.get("poly_address", "")
    signature = headers.get("poly_signature", "")
    timestamp = headers.get("poly_timestamp", "")
    try:
        nonce = int(headers.get("poly_nonce", "0") or "0")
        sig = parse_signature_hex(signature)
        for chain_id in SUPPORTED_CHAIN_IDS:
            recovered = _recover(clob_auth_digest(address, timestamp, nonce, chain_id), sig)
            if recovered == address.lower():
                return recovered, nonce, chain_id
    except (ValueError, SignatureError):
        pass
    raise SimError(401, INVALID_L1)


def l2_signature(secret: str, timestamp: str, method: str, path: str, body: bytes) -> str:
    message = timestamp.encode() + method.encode() + path.encode() + body
    digest = hmac.new(base64.urlsafe_b64decode(secret), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()


def verify_l2(store: ApiKeyStore, method: str, path: str, body: bytes, headers: Mapping[str, str]) -> ApiKey:
    """HMAC over ``timestamp + METHOD + path (no query) + raw body``; any mismatch is 401."""
    api_key = store.get(headers.get("poly_api_key", ""))
    if api_key is None:
        raise SimError(401, UNAUTHORIZED)
    if not hmac.compare_digest(api_key.passphrase, headers.get("poly_passphrase", "")):
        raise SimError(401, UNAUTHORIZED)
    if headers.get("poly_address", "").lower() != api_key.address:
        raise SimError(401, UNAUTHORIZED)
    expected = l2_signature(api_key.secret, headers.get("poly_timestamp", ""), method, path, body)
    if not hmac.compare_digest(expected, headers.get("poly_signature", "")):
        raise SimError(401, UNAUTHORIZED)
    return api_key

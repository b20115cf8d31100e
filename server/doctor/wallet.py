"""Whether the private key, the funder and the signature type belong together (no I/O)."""

from __future__ import annotations

from server.doctor.report import Finding, failed, passed
from server.settings import Settings

CHECK = "wallet"
_KINDS = {1: "Polymarket proxy", 2: "Gnosis safe"}


def key_address(settings: Settings) -> str | None:
    """The checksummed address of POLYMARKET_PRIVATE_KEY, or None without a usable key."""
    if settings.private_key is None:
        return None
    from server.venue.order_signing import OrderSigner

    try:
        return OrderSigner(settings.private_key.reveal(), settings.chain_id).address
    except ValueError:
        return None


def check_wallet(settings: Settings, address: str | None) -> Finding:
    """Type 0 (EOA) signs for the key's own address; types 1 and 2 sign for another wallet, the funder."""
    if settings.private_key is None:
        return failed(CHECK, "POLYMARKET_PRIVATE_KEY is not set: set the key that signs hedge orders")
    if address is None:
        return failed(CHECK, "POLYMARKET_PRIVATE_KEY is not a valid secp256k1 key: set the wallet's real key")
    funder = settings.funder
    kind = settings.signature_type
    if kind == 0:
        if funder is not None and funder.lower() != address.lower():
            return failed(
                CHECK,
                f"POLYMARKET_FUNDER {funder} is not the key's address {address}, but signature type 0 (EOA) "
                "spends the key's own funds: unset POLYMARKET_FUNDER, or set POLYMARKET_SIGNATURE_TYPE to 1 "
                "(proxy) or 2 (safe)",
            )
        return passed(CHECK, f"EOA {address} signs and holds the funds (signature type 0)")
    if funder is None:
        return failed(
            CHECK,
            f"signature type {kind} ({_KINDS[kind]}) needs POLYMARKET_FUNDER: set it to the {_KINDS[kind]} "
            "wallet that holds the funds",
        )
    if funder.lower() == address.lower():
        return failed(
            CHECK,
            f"POLYMARKET_FUNDER is the key's own address, but signature type {kind} ({_KINDS[kind]}) spends "
            f"another wallet's funds: set the {_KINDS[kind]} address, or signature type 0",
        )
    return passed(CHECK, f"{address} signs for the {_KINDS[kind]} {funder} (signature type {kind})")

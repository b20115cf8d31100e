"""EIP-712 hashing and signer recovery for CLOB V2 orders and the L1 ``ClobAuth`` message.

Hashes are built by hand (ABI words + keccak) with the domain separators cached, and signers are
recovered with libsecp256k1 through coincurve: about 0.1 ms per order instead of several ms through
``eth_account``. The results are byte-identical to ``encode_typed_data`` (checked in tests).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import coincurve
from Crypto.Hash import keccak as _keccak_mod

EXCHANGE_V2 = "0xE111180000d2663C0091e4f400237545B87B996B"
NEG_RISK_EXCHANGE_V2 = "0xe2222d279d744050d28e00520010520000310F59"
# The client signs against these on both Polygon (137) and Amoy (80002).
SUPPORTED_CHAIN_IDS = (137, 80002)

ORDER_TYPE_STRING = (
    "Order(uint256 salt,address maker,address signer,uint256 tokenId,"
    "uint256 makerAmount,uint256 takerAmount,uint8 side,uint8 signatureType,"
    "uint256 timestamp,bytes32 metadata,bytes32 builder)"
)
_DOMAIN_TYPE_STRING = "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
_TYPED_DATA_SIGN_STRING = (
    "TypedDataSign(Order contents,string name,string version,uint256 chainId,"
    "address verifyingContract,bytes32 salt)" + ORDER_TYPE_STRING
)
_CLOB_AUTH_DOMAIN_STRING = "EIP712Domain(string name,string version,uint256 chainId)"
_CLOB_AUTH_TYPE_STRING = "ClobAuth(address address,string timestamp,uint256 nonce,string message)"
CLOB_AUTH_MESSAGE = "This message attests that I control the given wallet"

SIG_EOA, SIG_POLY_PROXY, SIG_POLY_GNOSIS_SAFE, SIG_POLY_1271 = 0, 1, 2, 3


class SignatureError(ValueError):
    """The signature bytes are malformed or do not recover to a public key."""


def keccak(data: bytes) -> bytes:
    return _keccak_mod.new(digest_bits=256, data=data).digest()


_ORDER_TYPE_HASH = keccak(ORDER_TYPE_STRING.encode())
_DOMAIN_TYPE_HASH = keccak(_DOMAIN_TYPE_STRING.encode())
_TYPED_DATA_SIGN_HASH = keccak(_TYPED_DATA_SIGN_STRING.encode())
_CLOB_AUTH_DOMAIN_HASH = keccak(_CLOB_AUTH_DOMAIN_STRING.encode())
_CLOB_AUTH_TYPE_HASH = keccak(_CLOB_AUTH_TYPE_STRING.encode())
_CLOB_AUTH_MESSAGE_HASH = keccak(CLOB_AUTH_MESSAGE.encode())
_DEPOSIT_WALLET_NAME_HASH = keccak(b"DepositWallet")
_DEPOSIT_WALLET_VERSION_HASH = keccak(b"1")
_ZERO32 = bytes(32)


def uint_word(value: int) -> bytes:
    if value < 0 or value >= 1 << 256:
        raise ValueError("uint256 out of range")
    return value.to_bytes(32, "big")


def address_word(address: str) -> bytes:
    raw = address[2:] if address[:2] in ("0x", "0X") else address
    if len(raw) != 40:
        raise ValueError(f"invalid address {address!r}")
    return bytes(12) + bytes.fromhex(raw)


def bytes32_word(value: str) -> bytes:
    raw = value[2:] if value[:2] in ("0x", "0X") else value
    if len(raw) > 64:
        raise ValueError("bytes32 too long")
    # The venue docs show "" for an empty metadata field; treat it as zero like the client does.
    return bytes.fromhex(raw.zfill(64)) if raw else _ZERO32


@lru_cache(maxsize=16)
def exchange_domain_separator(chain_id: int, neg_risk: bool) -> bytes:
    contract = NEG_RISK_EXCHANGE_V2 if neg_risk else EXCHANGE_V2
    return keccak(
        _DOMAIN_TYPE_HASH
        + keccak(b"Polymarket CTF Exchange")
        + keccak(b"2")
        + uint_word(chain_id)
        + address_word(contract)
    )


@lru_cache(maxsize=16)
def _clob_auth_domain_separator(chain_id: int) -> bytes:
    return keccak(_CLOB_AUTH_DOMAIN_HASH + keccak(b"ClobAuthDomain") + keccak(b"1") + uint_word(chain_id))


@dataclass(frozen=True)
class OrderFields:
    """The signed part of a V2 order (``expiration`` is sent but not signed)."""

    salt: int
    maker: str
    signer: str
    token_id: int
    maker_amount: int
    taker_amount: int
    side: int  # 0 BUY, 1 SELL
    signature_type: int
    timestamp: int
    metadata: str
    builder: str


def order_struct_hash(o: OrderFields) -> bytes:
    return keccak(
        _ORDER_TYPE_HASH
        + uint_word(o.salt)
        + address_word(o.maker)
        + address_word(o.signer)
        + uint_word(o.token_id)
        + uint_word(o.maker_amount)
        + uint_word(o.taker_amount)
        + uint_word(o.side)
        + uint_word(o.signature_type)
        + uint_word(o.timestamp)
        + bytes32_word(o.metadata)
        + bytes32_word(o.builder)
    )


def typed_digest(domain_separator: bytes, struct_hash: bytes) -> bytes:
    return keccak(b"\x19\x01" + domain_separator + struct_hash)


def order_hash(o: OrderFields, chain_id: int, neg_risk: bool) -> str:
    """The order id: ``0x`` + 64 lowercase hex of the EIP-712 digest."""
    digest = typed_digest(exchange_domain_separator(chain_id, neg_risk), order_struct_hash(o))
    return "0x" + digest.hex()


def recover_address(digest: bytes, signature: bytes) -> str:
    """Lower-case ``0x`` address whose key produced the 65-byte ``r‖s‖v`` signature over ``digest``."""
    if len(signature) != 65:
        raise SignatureError("signature must be 65 bytes")
    v = signature[64]
    recid = v - 27 if v >= 27 else v
    if recid not in (0, 1):
        raise SignatureError("bad recovery id")
    try:
        pub = coincurve.PublicKey.from_signature_and_message(
            signature[:64] + bytes([recid]), digest, hasher=None
        )
    except Exception as exc:
        raise SignatureError("signature does not recover") from exc
    return "0x" + keccak(pub.format(compressed=False)[1:])[-20:].hex()


def parse_signature_hex(signature: str) -> bytes:
    raw = signature[2:] if signature[:2] in ("0x", "0X") else signature
    try:
        return bytes.fromhex(raw)
    except ValueError as exc:
        raise SignatureError("signature is not hex") from exc


def recover_order_signer(o: OrderFields, signature: str, chain_id: int, neg_risk: bool) -> str:
    """Address of the EOA that signed the order (lower case).

    Types 0-2: plain ECDSA over the order digest. Type 3 (deposit wallet, ERC-1271/7739): the EOA signs
    a ``TypedDataSign`` wrapper; the blob also repeats the app domain separator and the struct hash, which
    must match the order or the wallet contract would reject it.
    """
    sig = parse_signature_hex(signature)
    domain = exchange_domain_separator(chain_id, neg_risk)
    struct_hash = order_struct_hash(o)
    if o.signature_type != SIG_POLY_1271:
        return recover_address(typed_digest(domain, struct_hash), sig)
    type_len = len(ORDER_TYPE_STRING)
    if len(sig) != 65 + 32 + 32 + type_len + 2:
        raise SignatureError("malformed POLY_1271 signature")
    if sig[65:97] != domain or sig[97:129] != struct_hash:
        raise SignatureError("POLY_1271 signature does not wrap this order")
    if sig[129 : 129 + type_len] != ORDER_TYPE_STRING.encode() or int.from_bytes(sig[-2:], "big") != type_len:
        raise SignatureError("POLY_1271 contents type mismatch")
    wrapper = keccak(
        _TYPED_DATA_SIGN_HASH
        + struct_hash
        + _DEPOSIT_WALLET_NAME_HASH
        + _DEPOSIT_WALLET_VERSION_HASH
        + uint_word(chain_id)
        + address_word(o.signer)
        + _ZERO32
    )
    return recover_address(typed_digest(domain, wrapper), sig[:65])


def clob_auth_digest(address: str, timestamp: str, nonce: int, chain_id: int) -> bytes:
    struct_hash = keccak(
        _CLOB_AUTH_TYPE_HASH
        + address_word(address)
        + keccak(timestamp.encode())
        + uint_word(nonce)
        + _CLOB_AUTH_MESSAGE_HASH
    )
    return typed_digest(_clob_auth_domain_separator(chain_id), struct_hash)

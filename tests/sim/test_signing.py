"""The hand-rolled EIP-712 hashing agrees with eth_account and the captured regression vectors."""

from __future__ import annotations

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak as eth_keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from server.sim.auth import l2_signature
from server.sim.signing import (
    EXCHANGE_V2,
    NEG_RISK_EXCHANGE_V2,
    OrderFields,
    clob_auth_digest,
    order_hash,
    parse_signature_hex,
    recover_address,
    recover_order_signer,
)

TEST_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
TEST_ADDRESS = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
ZERO32 = "0x" + "00" * 32

# Appendix A.3 of the protocol reference: a POST /order captured from the real client.
CAPTURED = OrderFields(
    salt=1706854103298,
    maker=TEST_ADDRESS,
    signer=TEST_ADDRESS,
    token_id=71321045679252212594626385532706912750332728571942532289631379312455583992563,
    maker_amount=5000000,
    taker_amount=10000000,
    side=0,
    signature_type=0,
    timestamp=1795579659878,
    metadata=ZERO32,
    builder=ZERO32,
)
CAPTURED_SIGNATURE = (
    "0x42eae1e444b4de90ae2165d5c0f95c4129f33409af7b68db7042e0f6901dba0a"
    "151f1e1866dd93410790352b6be05d24be7adbd97a0a7a3014953b465902e15e1c"
)


def test_captured_order_vector() -> None:
    assert (
        order_hash(CAPTURED, 137, False)
        == "0xf27021f6024f0c6dd990d913b991a2135e4ecc5fea6ee8ec90ae1a3d973583f2"
    )
    assert recover_order_signer(CAPTURED, CAPTURED_SIGNATURE, 137, False) == TEST_ADDRESS.lower()
    # Verified against the neg-risk exchange the same bytes recover someone else.
    assert recover_order_signer(CAPTURED, CAPTURED_SIGNATURE, 137, True) != TEST_ADDRESS.lower()


def test_clob_auth_vector() -> None:
    signature = (
        "0xf62319a987514da40e57e2f4d7529f7bac38f0355bd88bb5adbb3768d80de6c1682518e0af677d5260366425f4361e7b"
        "70c25ae232aff0ab2331e2b164a1aedc1b"
    )
    digest = clob_auth_digest(TEST_ADDRESS, "10000000", 23, 80002)
    assert recover_address(digest, parse_signature_hex(signature)) == TEST_ADDRESS.lower()


def test_hmac_vectors() -> None:
    assert (
        l2_signature(
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            "1000000",
            "test-sign",
            "/orders",
            b'{"hash": "0x123"}',
        )
        == "ZwAdJKvoYRlEKDkNMwd5BuwNNtg93kNaR_oU2HrfVvc="
    )


def _typed(o: OrderFields, chain_id: int, neg_risk: bool) -> dict[str, object]:
    fields = [
        ("salt", "uint256"),
        ("maker", "address"),
        ("signer", "address"),
        ("tokenId", "uint256"),
        ("makerAmount", "uint256"),
        ("takerAmount", "uint256"),
        ("side", "uint8"),
        ("signatureType", "uint8"),
        ("timestamp", "uint256"),
        ("metadata", "bytes32"),
        ("builder", "bytes32"),
    ]
    return {
        "primaryType": "Order",
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            "Order": [{"name": n, "type": t} for n, t in fields],
        },
        "domain": {
            "name": "Polymarket CTF Exchange",
            "version": "2",
            "chainId": chain_id,
            "verifyingContract": NEG_RISK_EXCHANGE_V2 if neg_risk else EXCHANGE_V2,
        },
        "message": {
            "salt": o.salt,
            "maker": o.maker,
            "signer": o.signer,
            "tokenId": o.token_id,
            "makerAmount": o.maker_amount,
            "takerAmount": o.taker_amount,
            "side": o.side,
            "signatureType": o.signature_type,
            "timestamp": o.timestamp,
            "metadata": bytes.fromhex(o.metadata[2:]),
            "builder": bytes.fromhex(o.builder[2:]),
        },
    }


@settings(max_examples=25, deadline=None)
@given(
    salt=st.integers(0, 2**64),
    amounts=st.tuples(st.integers(1, 10**12), st.integers(1, 10**12)),
    side=st.integers(0, 1),
    chain_id=st.sampled_from((137, 80002)),
    neg_risk=st.booleans(),
)
def test_matches_eth_account(
    salt: int, amounts: tuple[int, int], side: int, chain_id: int, neg_risk: bool
) -> None:
    order = OrderFields(
        salt, TEST_ADDRESS, TEST_ADDRESS, 12345, *amounts, side, 0, 1795579659878, ZERO32, ZERO32
    )
    message = encode_typed_data(full_message=_typed(order, chain_id, neg_risk))
    expected = "0x" + eth_keccak(b"\x19" + message.version + message.header + message.body).hex()
    assert order_hash(order, chain_id, neg_risk) == expected
    signature = Account.sign_message(message, private_key=TEST_KEY).signature.hex()
    assert (
        recover_order_signer(order, "0x" + signature.removeprefix("0x"), chain_id, neg_risk)
        == TEST_ADDRESS.lower()
    )

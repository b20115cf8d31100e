"""Classifying answers to `POST /order`: REJECTED only for the refusals the venue documents, ACCEPTED
only for a reported match, UNKNOWN for everything else (issue 15, item 2). The expected kind of each
answer is written here by hand from the venue's documentation, not derived from the code."""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import struct
from decimal import Decimal

import pytest

from server.secret import Secret
from server.venue.answers import REFUSALS, is_refusal
from server.venue.client import ApiCredentials, PostKind, VenueClient, classify_post
from server.venue.http import HttpResponse

ACCEPTED, REJECTED, UNKNOWN = PostKind.ACCEPTED, PostKind.REJECTED, PostKind.UNKNOWN
ORDER = "0x" + "ab" * 32


def _error(status: int, text: str) -> HttpResponse:
    return HttpResponse(status, {"content-type": "application/json"}, json.dumps({"error": text}).encode())


def _ok(**body: object) -> HttpResponse:
    return HttpResponse(200, {"content-type": "application/json"}, json.dumps(body).encode())


def _raw(status: int, content: bytes) -> HttpResponse:
    return HttpResponse(status, {}, content)


MATCHED = {"success": True, "errorMsg": "", "orderID": ORDER, "status": "matched"}

TABLE: list[tuple[str, HttpResponse, PostKind]] = [
    # --- documented refusals: 400 {"error": ...} (docs error-codes; client issues) ---
    ("400 invalid payload", _error(400, "Invalid order payload"), REJECTED),
    ("400 owner", _error(400, "the order owner has to be the owner of the API KEY"), REJECTED),
    ("400 signer", _error(400, "the order signer address has to be the address of the API KEY"), REJECTED),
    ("400 banned", _error(400, "'0x1234abcd' address banned"), REJECTED),
    ("400 closed only", _error(400, "'0x1234abcd' address in closed only mode"), REJECTED),
    (
        "400 deposit wallet",
        _error(400, "maker address not allowed, please use the deposit wallet flow"),
        REJECTED,
    ),
    ("400 fee rate", _error(400, "invalid fee rate (0), current market's taker fee: 1000"), REJECTED),
    (
        "400 tick",
        _error(400, f"order {ORDER} is invalid. Price (0.555) breaks minimum tick size rule: 0.01"),
        REJECTED,
    ),
    ("400 min size", _error(400, f"order {ORDER} is invalid. Size (2) lower than the minimum: 5"), REJECTED),
    (
        "400 limit precision",
        _error(
            400,
            "invalid amounts, the buy orders maker amount supports a max accuracy of 4 decimals, "
            "taker amount a max of 2 decimals",
        ),
        REJECTED,
    ),
    (
        "400 market precision",
        _error(
            400,
            "invalid amounts, the market buy orders maker amount supports a max accuracy of 2 decimals, "
            "taker amount a max of 4 decimals",
        ),
        REJECTED,
    ),
    (
        "400 market min $1",
        _error(400, "invalid amount for a marketable BUY order ($0.5), min size: 1"),
        REJECTED,
    ),
    ("400 balance", _error(400, "not enough balance / allowance"), REJECTED),
    ("400 expiration", _error(400, "invalid expiration"), REJECTED),
    ("400 post-only crosses", _error(400, "invalid post-only order: order crosses book"), REJECTED),
    ("400 crosses the book", _error(400, f"order {ORDER} crosses the book"), REJECTED),
    (
        "400 post-only type",
        _error(400, "invalid post-only order: only GTC and GTD order types are allowed"),
        REJECTED,
    ),
    (
        "400 FOK killed",
        _error(400, "order couldn't be fully filled. FOK orders are fully filled or killed."),
        REJECTED,
    ),
    (
        "400 FAK killed",
        _error(
            400,
            "no orders found to match with FAK order. FAK orders are partially filled or killed if no "
            "match is found.",
        ),
        REJECTED,
    ),
    ("400 cancelled on-chain", _error(400, "order canceled in the CTF exchange contract"), REJECTED),
    ("400 market not ready", _error(400, "the market is not yet ready to process new orders"), REJECTED),
    ("400 version mismatch", _error(400, "order_version_mismatch"), REJECTED),
    ("400 signature", _error(400, "invalid signature"), REJECTED),
    ("401 api key", _error(401, "Unauthorized/Invalid api key"), REJECTED),
    # --- 200 bodies that refuse ---
    ("200 legacy balance", _ok(success=False, errorMsg="INVALID_ORDER_NOT_ENOUGH_BALANCE"), REJECTED),
    ("200 legacy FOK", _ok(success=False, errorMsg="FOK_ORDER_NOT_FILLED_ERROR"), REJECTED),
    (
        "200 per-order refusal",
        _ok(success=True, errorMsg="not enough balance / allowance", orderID="", status=""),
        REJECTED,
    ),
    # --- documented texts that are not refusals ---
    ("400 duplicated", _error(400, f"order {ORDER} is invalid. Duplicated."), UNKNOWN),
    ("400 delayed", _error(400, "order match delayed due to market conditions"), UNKNOWN),
    ("400 context canceled", _error(400, "context canceled"), UNKNOWN),
    ("200 legacy duplicated", _ok(success=False, errorMsg="INVALID_ORDER_DUPLICATED"), UNKNOWN),
    ("200 legacy order error", _ok(success=False, errorMsg="INVALID_ORDER_ERROR"), UNKNOWN),
    ("200 legacy execution error", _ok(success=False, errorMsg="EXECUTION_ERROR"), UNKNOWN),
    ("200 legacy delayed", _ok(success=False, errorMsg="ORDER_DELAYED"), UNKNOWN),
    ("425 too early", _error(425, "Too Early"), UNKNOWN),
    ("429 rate limit", _error(429, "Too Many Requests"), UNKNOWN),
    ("500 execution", _error(500, "could not run the execution"), UNKNOWN),
    ("500 engine FOK", _error(500, "FOK orders are filled or killed"), UNKNOWN),
    ("503 disabled", _error(503, "Trading is currently disabled. Check polymarket.com for updates"), UNKNOWN),
    (
        "503 cancel-only",
        _error(
            503, "Trading is currently cancel-only. New orders are not accepted, but cancels are allowed."
        ),
        UNKNOWN,
    ),
    (
        "503 post-only mode",
        _error(503, "post-only mode: only post-only orders and cancels are allowed"),
        UNKNOWN,
    ),
    # --- a refusal's words with a status that does not carry them ---
    ("500 balance text", _error(500, "not enough balance / allowance"), UNKNOWN),
    ("429 balance text", _error(429, "not enough balance / allowance"), UNKNOWN),
    ("401 balance text", _error(401, "not enough balance / allowance"), UNKNOWN),
    ("403 balance text", _error(403, "not enough balance / allowance"), UNKNOWN),
    ("400 text with more", _error(400, "not enough balance / allowance (upstream timeout)"), UNKNOWN),
    ("400 text in another case", _error(400, "NOT ENOUGH BALANCE / ALLOWANCE"), UNKNOWN),
    # --- proxies, timeouts and bodies that say nothing ---
    ("408 request timeout", _error(408, "Request Timeout"), UNKNOWN),
    ("409 conflict", _error(409, "Conflict"), UNKNOWN),
    ("404 not found", _error(404, "not found"), UNKNOWN),
    (
        "403 cloudflare html",
        _raw(403, b"<html><body>Attention Required! | Cloudflare</body></html>"),
        UNKNOWN,
    ),
    ("502 html", _raw(502, b"<html><body>502 Bad Gateway</body></html>"), UNKNOWN),
    ("504 gateway timeout", _error(504, "Gateway Timeout"), UNKNOWN),
    ("520 cloudflare", _raw(520, b"error code: 520"), UNKNOWN),
    ("522 cloudflare", _raw(522, b"error code: 522"), UNKNOWN),
    ("524 cloudflare", _raw(524, b"error code: 524"), UNKNOWN),
    ("400 plain text refusal", _raw(400, b"not enough balance / allowance"), UNKNOWN),
    ("400 empty body", _raw(400, b""), UNKNOWN),
    (
        "400 error not a string",
        _raw(400, b'{"error": {"message": "not enough balance / allowance"}}'),
        UNKNOWN,
    ),
    ("400 not utf-8", _raw(400, b"\xff\xfe"), UNKNOWN),
    # --- 200 bodies that do not report a match ---
    ("200 live", _ok(**{**MATCHED, "status": "live"}), UNKNOWN),
    ("200 delayed", _ok(**{**MATCHED, "status": "delayed"}), UNKNOWN),
    ("200 unmatched", _ok(**{**MATCHED, "status": "unmatched"}), UNKNOWN),
    ("200 empty object", _ok(), UNKNOWN),
    ("200 success false, no reason", _ok(success=False), UNKNOWN),
    ("200 success false, unknown reason", _ok(success=False, errorMsg="something went wrong"), UNKNOWN),
    ("200 not json", _raw(200, b"OK"), UNKNOWN),
    ("200 a list", _raw(200, b"[]"), UNKNOWN),
    ("200 matched, no amounts", _ok(**MATCHED, makingAmount="", takingAmount=""), UNKNOWN),
    ("200 matched, bad amount", _ok(**MATCHED, makingAmount="6.3", takingAmount="ten"), UNKNOWN),
    # --- a reported match (a refusal's words beside it do not undo it) ---
    (
        "200 matched with a refusal text",
        _ok(**{**MATCHED, "errorMsg": "invalid expiration"}, makingAmount="6.3", takingAmount="10"),
        ACCEPTED,
    ),
    ("200 matched", _ok(**MATCHED, makingAmount="6.3", takingAmount="10", tradeIDs=["t1"]), ACCEPTED),
]


@pytest.mark.parametrize(("answer", "expected"), [(r, k) for _, r, k in TABLE], ids=[n for n, _, _ in TABLE])
def test_each_answer_is_classified_as_the_venue_documents_it(
    answer: HttpResponse, expected: PostKind
) -> None:
    assert classify_post(answer).kind is expected


def test_201_is_not_a_match() -> None:
    # The venue answers success with 200 only (py-clob-client-v2 raises on anything else).
    outcome = classify_post(
        _raw(201, json.dumps({**MATCHED, "makingAmount": "6.3", "takingAmount": "10"}).encode())
    )
    assert outcome.kind is UNKNOWN


def test_a_refusal_keeps_the_venue_text_and_a_match_its_amounts() -> None:
    refused = classify_post(_error(400, "not enough balance / allowance"))
    assert (refused.status_code, refused.message) == (400, "not enough balance / allowance")
    matched = classify_post(_ok(**MATCHED, makingAmount="6.3", takingAmount="10", tradeIDs=["t1", "t2"]))
    assert (matched.making, matched.taking, matched.trade_ids) == (
        Decimal("6.3"),
        Decimal("10"),
        ("t1", "t2"),
    )


def test_every_listed_refusal_is_recognised_with_its_placeholders_filled() -> None:
    for refusal in REFUSALS:
        filled = refusal.text.replace("{", "<").replace("}", ">")
        assert is_refusal(refusal.status, filled), refusal.text
        assert not is_refusal(503, filled) and not is_refusal(408, filled)


def test_the_simulator_refuses_with_words_the_list_recognises() -> None:
    """The simulator is our stand-in for the venue: each 4xx text it refuses an order with must be on
    the list, or a test of a refusal would be testing an UNKNOWN."""
    from server.sim import errors

    texts = [
        errors.INVALID_PAYLOAD,
        errors.NOT_ENOUGH_BALANCE,
        errors.INVALID_EXPIRATION,
        errors.POST_ONLY_CROSSES,
        errors.POST_ONLY_TYPE,
        errors.FOK_NOT_FILLED,
        errors.FAK_NO_MATCH,
        errors.OWNER_MISMATCH,
        errors.SIGNER_MISMATCH,
        errors.INVALID_SIGNATURE,
        errors.MARKET_NOT_READY,
        errors.breaks_tick(ORDER, "0.555", "0.01").message,
        errors.below_min_size(ORDER, "2", "5").message,
    ]
    assert [t for t in texts if not is_refusal(400, t)] == []
    assert is_refusal(401, errors.UNAUTHORIZED)
    assert not is_refusal(400, errors.duplicated(ORDER).message)


# --- no answer at all: a peer that resets the connection or never answers after reading the order ---


async def _post_to(behaviour: str) -> PostKind:
    done = asyncio.Event()
    received = asyncio.Event()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            int(line.split(b":")[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        await reader.readexactly(length)
        received.set()
        if behaviour == "reset":
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST, not FIN
            writer.transport.abort()
        else:
            await done.wait()
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    credentials = ApiCredentials(
        Secret("key"), Secret(base64.urlsafe_b64encode(b"s" * 32).decode()), Secret("passphrase")
    )
    client = VenueClient(
        f"http://127.0.0.1:{port}", address="0x" + "11" * 20, credentials=credentials, timeout=0.5
    )
    try:
        outcome = await client.post_order(b'{"order": {}}')
        assert received.is_set()  # the order reached the peer before the answer was lost
        return outcome.kind
    finally:
        done.set()
        await client.aclose()
        server.close()


@pytest.mark.parametrize("behaviour", ["reset", "timeout"])
def test_no_answer_after_the_order_was_sent_is_unknown(behaviour: str) -> None:
    assert asyncio.run(_post_to(behaviour)) is UNKNOWN

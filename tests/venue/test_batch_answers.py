"""Classifying answers to `POST /orders` (`classify_batch`) by hand: each entry as a single post's 200
would be, found by its orderID; a whole-batch answer for every order; Retry-After read only from 429s."""

from __future__ import annotations

import json
from datetime import timedelta

from server.venue.client import PostKind, classify_batch
from server.venue.http import HttpResponse

A, B, C = ("0x" + c * 64 for c in "abc")
ACCEPTED, REJECTED, UNKNOWN = PostKind.ACCEPTED, PostKind.REJECTED, PostKind.UNKNOWN
FOK_KILLED = "order couldn't be fully filled. FOK orders are fully filled or killed."


def matched(order_id: str) -> dict[str, object]:
    return {"success": True, "errorMsg": "", "orderID": order_id, "status": "matched",
            "makingAmount": "1", "takingAmount": "2", "tradeIDs": ["t"]}  # fmt: skip


def refused(order_id: str, text: str = FOK_KILLED) -> dict[str, object]:
    return {"success": False, "errorMsg": text, "orderID": order_id, "status": ""}


def answer(status: int, body: object, **headers: str) -> HttpResponse:
    return HttpResponse(
        status, {k.replace("_", "-"): v for k, v in headers.items()}, json.dumps(body).encode()
    )


def kinds(response: HttpResponse, hashes=(A, B, C)) -> list[PostKind]:
    return [o.kind for o in classify_batch(response, list(hashes)).outcomes]


def test_entries_are_found_by_order_id_whatever_their_order():
    body = [refused(C), matched(A), {**matched(B), "status": "live"}]
    assert kinds(answer(200, body)) == [ACCEPTED, UNKNOWN, REJECTED]  # a resting order: look it up


def test_an_order_without_its_entry_is_unknown():
    assert kinds(answer(200, [matched(A), matched(C)])) == [ACCEPTED, UNKNOWN, ACCEPTED]
    assert kinds(answer(200, [])) == [UNKNOWN] * 3
    assert kinds(answer(200, {"error": "odd"})) == [UNKNOWN] * 3
    assert kinds(answer(200, [matched(A), "x", matched(C)])) == [ACCEPTED, UNKNOWN, ACCEPTED]


def test_one_entry_without_an_order_id_goes_to_the_one_order_left_and_only_then():
    anonymous = refused("", "Invalid order payload")
    assert kinds(answer(200, [matched(A), anonymous, matched(C)])) == [ACCEPTED, REJECTED, ACCEPTED]
    # Two orders left and two anonymous entries: which is whose is not known.
    assert kinds(answer(200, [matched(A), anonymous, anonymous])) == [ACCEPTED, UNKNOWN, UNKNOWN]
    # Fewer entries than orders: the anonymous one may answer an order that has no entry at all.
    assert kinds(answer(200, [anonymous, matched(C)]), (A, C, B)) == [UNKNOWN, ACCEPTED, UNKNOWN]


def test_a_whole_batch_answer_holds_for_every_order_as_for_a_single_post():
    assert kinds(answer(400, {"error": "Invalid order payload"})) == [REJECTED] * 3
    assert kinds(answer(500, {"error": "could not run the execution"})) == [UNKNOWN] * 3
    assert kinds(answer(503, {"error": "Trading is currently disabled"})) == [UNKNOWN] * 3
    assert kinds(answer(425, {"error": "Too Early"})) == [UNKNOWN] * 3
    limited = classify_batch(answer(429, {"error": "Too Many Requests"}, retry_after="3"), [A, B])
    assert [o.kind for o in limited.outcomes] == [UNKNOWN, UNKNOWN]
    assert limited.retry_after == timedelta(seconds=3)


def test_retry_after_is_read_from_429s_only_and_only_when_readable():
    def retry(status: int, value: str | None) -> timedelta | None:
        headers = {} if value is None else {"retry_after": value}
        return classify_batch(answer(status, {"error": "x"}, **headers), [A]).retry_after

    assert retry(429, "0.5") == timedelta(milliseconds=500)
    assert retry(429, "0") == timedelta(0)
    assert retry(429, None) is None
    assert retry(429, "soon") is None
    assert retry(429, "-1") is None
    assert retry(429, "NaN") is None
    assert retry(429, "Wed, 21 Oct 2015 07:28:00 GMT") == timedelta(0)  # a date passed: no wait
    assert retry(503, "3") is None


def test_the_warning_header_is_surfaced():
    warned = classify_batch(answer(200, [matched(A)], poly_ratelimit_warning="true"), [A])
    assert warned.warned and [o.kind for o in warned.outcomes] == [ACCEPTED]
    assert not classify_batch(answer(200, [matched(A)]), [A]).warned

"""Parsing of caller-supplied values: each field's edges and the error that names it."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from server.domain import inputs
from server.errors import InvalidArgument


def refused(call, *args) -> InvalidArgument:
    with pytest.raises(InvalidArgument) as caught:
        call(*args)
    return caught.value


@pytest.mark.parametrize("value", ["a", "x" * 128, "acct-1", "!~", "A_b.c/1"])
def test_identifiers_of_printable_ascii_up_to_128_characters_pass(value):
    assert inputs.identifier("accountId", value) == value


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("", "is required"),
        ("x" * 129, "must be at most 128 characters"),
        ("a b", "must be printable ASCII without spaces"),
        ("caf\u00e9", "must be printable ASCII without spaces"),
        ("a\nb", "must be printable ASCII without spaces"),
        ("a\x7f", "must be printable ASCII without spaces"),
    ],
)
def test_bad_identifiers_are_refused_naming_the_field(value, says):
    error = refused(inputs.identifier, "accountId", value)
    assert error.field == "accountId"
    assert error.description == says


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0.01", "0.01"), ("5", "5"), ("12.5", "12.5"), ("999999999999", "999999999999"), ("1.10", "1.10")],
)
def test_sizes_with_at_most_two_decimals_pass(value, expected):
    assert inputs.size("size", value) == D(expected)


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("", "is required"),
        ("0", "greater than 0"),
        ("0.00", "greater than 0"),
        ("0.001", "at most 2 decimal places"),
        ("1.001", "at most 2 decimal places"),
        ("-1", "plain positive decimal"),
        ("+1", "plain positive decimal"),
        ("1e3", "plain positive decimal"),
        ("NaN", "plain positive decimal"),
        ("Infinity", "plain positive decimal"),
        (" 1", "plain positive decimal"),
        (".5", "plain positive decimal"),
        ("1.", "plain positive decimal"),
        ("1000000000000", "plain positive decimal"),  # 13 integer digits
        ("1." + "0" * 13, "plain positive decimal"),  # 13 fraction digits
        ("1" * 40, "plain positive decimal"),
    ],
)
def test_bad_sizes_are_refused_naming_the_field(value, says):
    error = refused(inputs.size, "size", value)
    assert error.field == "size"
    assert says in error.description


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("", "is required"),
        ("0", "must be greater than 0"),
        ("1.001", "must have at most 2 decimal places (the venue's share precision)"),
    ],
)
def test_size_errors_read_exactly(value, says):
    assert refused(inputs.size, "size", value).description == says


def test_a_long_bad_value_is_quoted_only_in_part():
    error = refused(inputs.size, "size", "9" * 30 + "x" * 30)
    assert "9" * 30 + "x" * 10 in error.description
    assert "x" * 11 not in error.description


@pytest.mark.parametrize("value", ["0.01", "0.5", "0.99", "0.0001", "0.999999999999"])
def test_prices_strictly_between_0_and_1_pass(value):
    assert inputs.price("limitPrice", value) == D(value)


@pytest.mark.parametrize("value", ["0", "0.0", "1", "1.0", "1.01", "2"])
def test_prices_at_or_beyond_0_and_1_are_refused(value):
    error = refused(inputs.price, "limitPrice", value)
    assert error.field == "limitPrice"
    assert error.description == "must lie strictly between 0 and 1"


def test_a_malformed_price_is_refused():
    assert refused(inputs.price, "limitPrice", "-0.5").field == "limitPrice"


@pytest.mark.parametrize(
    ("value", "tick"), [("0.49", "0.01"), ("0.495", "0.005"), ("0.5", "0.1"), ("0.0025", "0.0025")]
)
def test_prices_on_the_tick_pass(value, tick):
    assert inputs.on_tick("limitPrice", D(value), D(tick)) == D(value)


@pytest.mark.parametrize(("value", "tick"), [("0.495", "0.01"), ("0.491", "0.005"), ("0.51", "0.1")])
def test_prices_off_the_tick_are_refused(value, tick):
    error = refused(inputs.on_tick, "limitPrice", D(value), D(tick))
    assert error.field == "limitPrice"
    assert f"tick size {tick}" in error.description


@pytest.mark.parametrize("value", ["", "a reason", "caf\u00e9 \u2013 ok", "tab\tand\nnewline"])
def test_text_the_store_can_hold_passes(value):
    assert inputs.text("reason", value) == value


def test_text_with_nul_is_refused():
    error = refused(inputs.text, "reason", "a\x00b")
    assert (error.field, error.description) == ("reason", "must not contain NUL (U+0000)")


def test_text_with_a_lone_surrogate_is_refused():
    error = refused(inputs.text, "reason", "a\ud800b")
    assert error.field == "reason"
    assert error.description == "must be valid Unicode text (it holds an unpaired surrogate)"


# --- why and who: one check for halts, resumes, breaker resets, config changes and re-hedge requests ---
@pytest.mark.parametrize(
    ("value", "kept"),
    [("incident 42", "incident 42"), ("  INC-9: venue back \n", "INC-9: venue back"), ("x" * 500, "x" * 500)],
)
def test_a_reason_is_kept_stripped_up_to_500_characters(value, kept):
    assert inputs.reason(value) == kept


@pytest.mark.parametrize(
    ("value", "says"),
    [
        (None, "is required: say why"),
        ("", "is required: say why"),
        (" \t\n", "is required: say why"),
        ("x" * 501, "must be at most 500 characters"),
        ("  " + "x" * 501 + "  ", "must be at most 500 characters"),
        ("drill\x00", "must not contain NUL (U+0000)"),
    ],
)
def test_a_missing_long_or_unstorable_reason_is_refused_naming_reason(value, says):
    error = refused(inputs.reason, value)
    assert (error.field, error.description) == ("reason", says)


@pytest.mark.parametrize("value", ["alice", "a" * 128])
def test_an_author_up_to_128_characters_passes(value):
    assert inputs.author(value) == value


@pytest.mark.parametrize("value", [None, "", "a" * 129])
def test_a_missing_or_long_author_is_refused_naming_author(value):
    error = refused(inputs.author, value)
    assert (error.field, error.description) == ("author", "is required (at most 128 characters)")

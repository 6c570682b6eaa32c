"""Button payloads: round trips, and anything forged is refused."""

from __future__ import annotations

import pytest

from bot.core.actions import MAX_PAYLOAD, Action, ActionCodec, Kind

codec = ActionCodec(b"k" * 32)


@pytest.mark.parametrize("kind", list(Kind))
def test_a_payload_decodes_to_the_action_it_encodes(kind: Kind) -> None:
    action = Action(kind, 123456789012)
    payload = codec.encode(action)
    assert codec.decode(payload) == action
    assert len(payload.encode()) <= MAX_PAYLOAD


def test_payloads_use_only_characters_telegram_allows_in_deep_links() -> None:
    payload = codec.encode(Action(Kind.REVEAL, 7))
    assert all(ch.isascii() and (ch.isalnum() or ch in "_-") for ch in payload)


@pytest.mark.parametrize(
    "forged",
    ["", "r1", "r1_AAAAAAAAAAA", "x1_AAAAAAAAAAA", "r" + "9" * 40 + "_AAAAAAAAAAA", "r-1_abc",
     "‮r1_AAAAAAAAAAA", "r1_" + "A" * 200, None, 42, b"r1_AAAAAAAAAAA", "r１_AAAAAAAAAAA"],
)
def test_forged_or_malformed_payloads_decode_to_nothing(forged: object) -> None:
    assert codec.decode(forged) is None


def test_changing_the_id_of_a_real_payload_breaks_its_signature() -> None:
    payload = codec.encode(Action(Kind.KNEW, 41))
    tampered = payload.replace("k41_", "k42_")
    assert codec.decode(tampered) is None


def test_a_payload_signed_with_another_key_is_refused() -> None:
    other = ActionCodec(b"z" * 32)
    assert codec.decode(other.encode(Action(Kind.REVEAL, 1))) is None

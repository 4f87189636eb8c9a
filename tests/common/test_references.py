"""Reference numbers: short, unambiguous, unique per kind."""

from __future__ import annotations

import pytest

from portal.common.references import (
    ALPHABET,
    generate_reference,
    is_well_formed,
    new_reference,
    normalise_reference,
)


def test_no_collision_in_100000_references():
    # As the slices issue them: each new reference is checked against those already taken.
    # (Raw 8-character codes from 23 letters collide by chance about 6 % of the time in 100,000;
    # the check and the unique column are what make them unique.)
    issued: set[str] = set()
    for _ in range(100_000):
        reference = new_reference("RP", issued.__contains__)
        assert reference not in issued
        issued.add(reference)
    assert len(issued) == 100_000


def test_references_are_well_formed():
    for _ in range(1000):
        reference = generate_reference("PY")
        assert is_well_formed(reference, "PY"), reference
        assert len(reference) == len("PY-XXXX-XXXX")


def test_alphabet_has_no_look_alike_characters():
    assert not set(ALPHABET) & set("0O1IL5S2Z8BUV")
    assert len(set(ALPHABET)) == len(ALPHABET)
    assert ALPHABET.isupper() or ALPHABET.isdigit()


def test_normalise_accepts_what_people_type():
    assert normalise_reference(" rp 7kq4 3m9x ") == "RP-7KQ4-3M9X"
    assert normalise_reference("rp7kq43m9x") == "RP-7KQ4-3M9X"
    assert normalise_reference("RP--7KQ4--3M9X") == "RP-7KQ4-3M9X"
    assert is_well_formed(normalise_reference("rp-7kq4-3m9x"), "RP")


@pytest.mark.parametrize(
    "text",
    ["RP-7KQ4-3M9", "RP-7KQ4-3M9XX", "PY-7KQ4-3M9X", "RP-7KO4-3M9X", "RP-7KQ4-2M9X", "RP7KQ43M9X"],
)
def test_is_well_formed_rejects_the_wrong_shape_or_characters(text):
    assert not is_well_formed(text, "RP")


def test_new_reference_retries_when_taken_and_gives_up_eventually():
    taken: list[str] = []

    def exists(reference: str) -> bool:
        taken.append(reference)
        return len(taken) < 3  # the first two are taken

    reference = new_reference("RP", exists)
    assert taken[-1] == reference and len(taken) == 3
    with pytest.raises(RuntimeError):
        new_reference("RP", lambda _ref: True, attempts=5)

"""Ticket IDs: readable, unique, not sequential, forgiving when typed."""

from __future__ import annotations

import re

import pytest
from django.test import override_settings

from atiende.core.references import (
    ALPHABET,
    reference_generate,
    reference_normalize,
    reference_pattern,
)


def test_a_reference_is_prefix_and_two_groups_of_four_unambiguous_symbols() -> None:
    reference = reference_generate()
    assert re.fullmatch(r"ATN-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}", reference)
    assert not set(reference[4:].replace("-", "")) & set("ILOU")


def test_references_are_not_sequential_nor_repeated() -> None:
    drawn = [reference_generate() for _ in range(2000)]
    assert len(set(drawn)) == len(drawn)
    # Consecutive draws share no predictable step: they are spread over the whole alphabet.
    first_symbols = {reference[4] for reference in drawn}
    assert len(first_symbols) == len(ALPHABET)


@pytest.mark.parametrize(
    "typed",
    [
        "ATN-7K4Q-M9X2",
        "atn-7k4q-m9x2",
        " ATN 7K4Q M9X2 ",
        "ATN7K4QM9X2",
        "7K4Q-M9X2",
        "7k4qm9x2",
        "[#ATN-7K4Q-M9X2]",
        "ATN-7K4Q-M9X2".replace("-", " - "),
    ],
)
def test_typed_forms_of_a_reference_all_mean_the_same_ticket(typed: str) -> None:
    assert reference_normalize(typed) == "ATN-7K4Q-M9X2"


def test_look_alike_letters_are_read_as_the_digits_they_resemble() -> None:
    assert reference_normalize("ATN-OO1I-LL00") == "ATN-0011-1100"


@pytest.mark.parametrize(
    "typed", ["", "ATN", "ATN-7K4Q", "ATN-7K4Q-M9X2-9", "hola mundo", "ATN-7K4Q-M9X*"]
)
def test_text_that_cannot_be_a_reference_is_refused(typed: str) -> None:
    assert reference_normalize(typed) is None


def test_the_prefix_is_configurable() -> None:
    with override_settings(ATIENDE_TICKET_PREFIX="NBX"):
        assert reference_generate().startswith("NBX-")
        assert reference_normalize("nbx 7k4q m9x2") == "NBX-7K4Q-M9X2"


def test_a_reference_is_found_inside_an_email_subject() -> None:
    match = reference_pattern().search("Re: RE: [#atn-7k4q-m9x2] Mi sitio no carga")
    assert match is not None
    assert reference_normalize(match.group(0)) == "ATN-7K4Q-M9X2"

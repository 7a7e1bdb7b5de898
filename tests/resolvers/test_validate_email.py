"""One email normalisation (resolvers/validate.py): accounts keep the looser check sign-in has
always applied; subscribers' addresses (`plain=True`) must be one plain ASCII address."""

from __future__ import annotations

import pytest

from resolvers.errors import DomainError
from resolvers.validate import normalise_email

pytestmark = pytest.mark.onepass


def test_an_address_is_stripped_and_lower_cased_in_both_modes() -> None:
    assert normalise_email(" Ada@Example.COM ") == "ada@example.com"
    assert normalise_email(" Ada@Example.COM ", plain=True) == "ada@example.com"


def test_an_account_may_have_an_address_a_subscription_refuses() -> None:
    assert normalise_email("josé@example.com") == "josé@example.com"
    with pytest.raises(DomainError) as refused:
        normalise_email("josé@example.com", plain=True)
    assert (refused.value.message, refused.value.field) == (
        "Enter one email address, like name@example.com", "email")


@pytest.mark.parametrize("value", ["not-an-address", "a@b", "a b@example.com", "@example.com",
                                   "a@example.com."])
def test_malformed_addresses_are_refused_naming_the_field(value: str) -> None:
    with pytest.raises(DomainError) as refused:
        normalise_email(value, "userEmail")
    assert (refused.value.message, refused.value.field) == (
        "Enter a valid email address", "userEmail")
    with pytest.raises(DomainError):
        normalise_email(value, plain=True)


def test_a_subscription_refuses_letters_that_only_lower_case_to_ascii() -> None:
    # The Kelvin sign lower-cases to "k": the address typed is not the one we would mail.
    with pytest.raises(DomainError):
        normalise_email("\u212aelly@example.com", plain=True)
    assert normalise_email("Kelly@example.com", plain=True) == "kelly@example.com"

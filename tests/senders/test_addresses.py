"""Address normal form and the sender-identity rules, in the words a person sees."""

from __future__ import annotations

import pytest

from mailconsole.domain.addresses import (
    AddressError,
    RuleError,
    domain_of,
    identity_rules,
    is_free_mail_or_disposable,
    normalize_address,
)


def test_normalize_lowercases_and_idna_encodes_the_domain_only() -> None:
    assert normalize_address(" Jane@Bücher.DE ") == "Jane@xn--bcher-kva.de"
    assert domain_of("ops@DoeInc.COM") == "doeinc.com"


def test_normalize_refuses_bad_syntax_with_the_value_in_the_message() -> None:
    with pytest.raises(AddressError) as info:
        normalize_address("jane@")
    assert info.value.message == ("'jane@' is not a valid email address: There must be something after the @-sign.")


def test_free_mail_and_disposable_domains_come_from_the_package_lists() -> None:
    assert is_free_mail_or_disposable("gmail.com")
    assert is_free_mail_or_disposable("Yahoo.com")
    assert is_free_mail_or_disposable("mailinator.com")
    assert not is_free_mail_or_disposable("doeinc.com")


def test_valid_identity_on_one_business_domain_breaks_no_rule() -> None:
    assert identity_rules("Jane Doe", "jane@doeinc.com", "support@doeinc.com") == []


def test_identity_with_free_mail_from_address_is_refused_naming_it() -> None:
    assert identity_rules("Jane", "jane@gmail.com", "support@doeinc.com") == [
        RuleError(
            "from_addr",
            "from address 'jane@gmail.com' is on gmail.com, a free-mail provider; "
            "use an address on your own business domain",
        )
    ]


def test_identity_with_disposable_reply_to_is_refused_naming_it() -> None:
    assert identity_rules("Jane", "jane@doeinc.com", "x@mailinator.com") == [
        RuleError(
            "reply_to",
            "reply-to address 'x@mailinator.com' is on mailinator.com, a disposable provider; "
            "use an address on your own business domain",
        )
    ]


def test_identity_on_two_domains_is_refused_naming_both() -> None:
    assert identity_rules("Jane", "jane@doeinc.com", "help@doe.org") == [
        RuleError(
            "reply_to",
            "reply-to address 'help@doe.org' is on doe.org but the from address is on "
            "doeinc.com; both must be on the same domain",
        )
    ]


def test_identity_with_invalid_from_address_is_refused_naming_it() -> None:
    assert identity_rules("Jane", "jane@@doeinc.com", "support@doeinc.com") == [
        RuleError(
            "from_addr",
            "from address: 'jane@@doeinc.com' is not a valid email address: "
            "The part after the @-sign contains invalid characters: '@'.",
        )
    ]


def test_identity_without_sender_name_is_refused() -> None:
    assert identity_rules("  ", "jane@doeinc.com", "support@doeinc.com") == [
        RuleError("sender_name", "a sender name is required")
    ]

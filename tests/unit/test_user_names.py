"""The user-name rule: NFKC, lower case, a small ASCII set, reserved names refused."""

from __future__ import annotations

import re

import pytest
from picycle.engine.errors import ValidationFailed
from picycle.engine.user_names import RESERVED, TYPED_PATTERN, normalised, user_name


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("pia", "pia"),
        ("Pia", "pia"),
        ("ＰＩＡ", "pia"),  # fullwidth letters are their ASCII selves under NFKC
        ("o.brien", "o.brien"),
        ("van-dijk_2", "van-dijk_2"),
        ("9lives", "9lives"),
        ("x" * 64, "x" * 64),
    ],
)
def test_a_name_is_kept_in_its_normal_form(given, kept):
    assert user_name(given) == kept
    assert normalised(given) == kept


# name -> a fragment of the message that says what is wrong with it
HOSTILE = {
    "system": "reserved",
    "System": "reserved",
    "ｓｙｓｔｅｍ": "reserved",  # fullwidth, NFKC makes it `system`
    "admin": "reserved",
    "p\u0456a": "U+0456 CYRILLIC SMALL LETTER BYELORUSSIAN-UKRAINIAN I",
    "\u0430da": "U+0430 CYRILLIC SMALL LETTER A",
    "jo\u00ebl": "U+00EB LATIN SMALL LETTER E WITH DIAERESIS",
    " pia": "U+0020 SPACE",
    "pia ": "U+0020 SPACE",
    "pi a": "U+0020 SPACE",
    "pi\ta": "U+0009",
    "pi\x1ba": "U+001B",
    "pi\x00a": "U+0000",
    "a/b": "U+002F SOLIDUS",
    "pia\nada": "U+000A",
    "pi\u200ba": "U+200B ZERO WIDTH SPACE",
    "pia\u202e": "U+202E RIGHT-TO-LEFT OVERRIDE",
    "": "must not be empty",
    "x" * 65: "at most 64 characters",
    "-rf": "start with a letter or digit",
    "..": "start with a letter or digit",
    "_pia": "start with a letter or digit",
}


@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_name_is_refused_naming_the_field_and_what_is_wrong(name):
    with pytest.raises(ValidationFailed) as refused:
        user_name(name)
    assert list(refused.value.errors) == ["name"]
    (message,) = refused.value.errors["name"]
    assert HOSTILE[name] in message, message
    assert HOSTILE[name] in str(refused.value)


def test_the_name_picycle_acts_under_and_the_role_names_are_reserved():
    assert {"system", "admin", "auditor", "member"} <= RESERVED
    assert all(name == normalised(name) for name in RESERVED)


def test_lookups_normalise_without_judging():
    """A lookup of a name that could never be a user's simply finds nobody."""
    assert normalised(" Pia") == " pia"
    assert normalised("ＳＹＳＴＥＭ") == "system"


@pytest.mark.parametrize(
    "name", ["pia", "Pia", "o.brien", "x" * 64, "SYSTEM", "systems", "Admin", *HOSTILE]
)
def test_the_documented_pattern_says_what_is_accepted(name):
    try:
        user_name(name)
        accepted = True
    except ValidationFailed:
        accepted = False
    assert (re.search(TYPED_PATTERN, name) is not None) == accepted

"""Redacting free text for a subject access package: pure functions over strings.

What identifies other people is replaced by a mark saying why ("[redacted: referrer]"):
the names, email addresses and phone numbers of the people the platform knows gave
information about the subject (referrers, third-party informants), the names of other
children the platform holds, and any other email address or UK phone number.

Other people named in free text cannot all be found this way (a nickname, a first name
alone, a child the platform has never heard of): every free text is also flagged for the
reviewer to read before anything is released. What is found is redacted, never guessed at:
a child's name is matched on given and family name together (either order), case and
spacing ignored, and never where it is the subject's own name."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum


class RedactionReason(StrEnum):
    """Why something was taken out of a package."""

    referrer = "referrer"
    information_giver = "information_giver"
    other_child = "other_child"
    child = "child"
    staff = "staff"
    contact_details = "contact_details"
    police_intelligence = "police_intelligence"


MARK_WORDING = {
    RedactionReason.referrer: "referrer",
    RedactionReason.information_giver: "information giver",
    RedactionReason.other_child: "another child",
    RedactionReason.child: "child",
    RedactionReason.staff: "staff member",
    RedactionReason.contact_details: "contact details",
    RedactionReason.police_intelligence: "police intelligence",
}

# Titles and police ranks written before a name ("Ms Shah", "DS Lee Example").
HONORIFICS = (
    *("mr", "mrs", "ms", "miss", "mx", "dr", "prof", "professor", "rev", "revd"),
    *("sir", "dame", "lady", "lord", "cllr", "pc", "dc", "ds", "di", "dci", "sgt", "insp"),
)
_HONORIFIC = r"(?:" + "|".join(HONORIFICS) + r")\.?"
_SEPARATOR = r"[\s().-]{0,2}"
# Any other email address, and UK phone numbers (0 or +44, then 9 or 10 digits, spaced or not).
ANY_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.IGNORECASE)
# A number's start: 0, bracketed only when the bracket closes round the area code ("(0114) 496
# 0999", not "(0114 496 0999)"), or 44 with its optional "+" and "(0)".
_NATIONAL = r"(?:\((?=0[\d ]{2,6}\)))?0"
_INTERNATIONAL = r"44" + _SEPARATOR + r"(?:\(0\)" + _SEPARATOR + r")?"
ANY_UK_PHONE = re.compile(
    r"(?<![\w+])(?:\+" + _INTERNATIONAL + "|" + _NATIONAL + r")\d(?:" + _SEPARATOR + r"\d){8,9}(?!\d)"
)
MIN_PHONE_DIGITS = 6


def mark(reason: RedactionReason) -> str:
    """The text that stands where something was redacted: ``[redacted: referrer]``."""
    return f"[redacted: {MARK_WORDING[reason]}]"


@dataclass(frozen=True)
class PersonName:
    """A child's names as the platform holds them."""

    given: str
    family: str

    def key(self) -> tuple[str, str]:
        return (" ".join(self.given.casefold().split()), " ".join(self.family.casefold().split()))


@dataclass(frozen=True)
class KnownPerson:
    """Someone the platform knows gave information about the subject: their name as recorded
    and their email addresses and phone numbers, all redacted for ``reason``."""

    reason: RedactionReason
    name: str | None
    contacts: tuple[str, ...] = ()


@dataclass(frozen=True)
class RedactedText:
    """Free text after redaction, and why each mark in it is there (in order, once each)."""

    text: str
    reasons: tuple[RedactionReason, ...]


def _words(text: str) -> list[str]:
    return [re.escape(word) for word in text.split()]


def _whole(pattern: str) -> str:
    return r"(?<!\w)(?:" + pattern + r")(?!\w)"


def person_name_pattern(name: str) -> str | None:
    """A regex for a person's recorded name in text: the whole name, the name without its
    title ("Ms Priya Shah" is also "Priya Shah"), the title with the family name ("Ms Shah",
    "Mrs Shah"), and family name first ("Shah, Priya"). None for an empty name."""
    words = name.split()
    while words and re.fullmatch(_HONORIFIC, words[0], re.IGNORECASE) and len(words) > 1:
        words = words[1:]
    if not words:
        return None
    escaped = [re.escape(word) for word in words]
    forms = [rf"(?:{_HONORIFIC}\s+)?" + r"\s+".join(escaped)]
    if len(words) > 1:
        forms.append(rf"{_HONORIFIC}\s+{escaped[-1]}")
        forms.append(escaped[-1] + r",\s*" + r"\s+".join(escaped[:-1]))
    return _whole("|".join(forms))


def child_name_pattern(names: Iterable[PersonName]) -> str | None:
    """A regex for any of these children's given and family names together, in either order
    ("Jordan Example", "Example, Jordan"); None when there are none."""
    forms: list[str] = []
    for name in names:
        given, family = _words(name.given), _words(name.family)
        if given and family:
            forms.append(r"\s+".join(given + family))
            forms.append(r"\s+".join(family) + r",?\s+" + r"\s+".join(given))
    if not forms:
        return None
    return _whole("|".join(sorted(forms, key=len, reverse=True)))


def phone_pattern(phone: str) -> str | None:
    """A regex for a phone number however it is spaced, in its national (0...) and
    international (+44...) forms; None when it has too few digits to be one."""
    digits = re.sub(r"\D", "", phone)
    if len(digits) < MIN_PHONE_DIGITS:
        return None
    if digits.startswith("44"):
        digits = "0" + digits[2:]
    if digits.startswith("0"):
        rest = _SEPARATOR.join(digits[1:])
        start = r"(?:" + _NATIONAL + r"|\+?" + _INTERNATIONAL + r")" + _SEPARATOR
        return r"(?<![\d+])" + start + rest + r"(?!\d)"
    return r"(?<![\d+])" + _SEPARATOR.join(digits) + r"(?!\d)"


def email_pattern(email: str) -> str | None:
    """A regex for this email address in text (any case)."""
    email = email.strip()
    return r"(?<![\w.+-])" + re.escape(email) + r"(?![\w-])" if "@" in email else None


def contact_pattern(contact: str) -> str | None:
    """An email address or a phone number, whichever ``contact`` is."""
    return email_pattern(contact) if "@" in contact else phone_pattern(contact)


def children_named_in(
    corpus: str, children: Iterable[PersonName], subject: PersonName | None
) -> list[PersonName]:
    """The children whose given and family names both appear somewhere in ``corpus``
    (a cheap test before the exact one), the subject's own name never among them."""
    folded = " ".join(corpus.casefold().split())
    own = subject.key() if subject is not None else None
    found: dict[tuple[str, str], PersonName] = {}
    for child in children:
        key = child.key()
        if key == own or key in found or not key[0] or not key[1]:
            continue
        if key[1] in folded and key[0] in folded:
            found[key] = child
    return list(found.values())


@dataclass(frozen=True)
class Redactor:
    """Applies its rules to each free text, in order: the known people first (so their
    contact details carry their own reason), then other children, then any contact details."""

    rules: tuple[tuple[re.Pattern[str], RedactionReason], ...]

    def redact(self, text: str) -> RedactedText:
        reasons: list[RedactionReason] = []
        for pattern, reason in self.rules:
            text, count = pattern.subn(mark(reason), text)
            if count and reason not in reasons:
                reasons.append(reason)
        return RedactedText(text=text, reasons=tuple(reasons))


def build_redactor(known_people: Sequence[KnownPerson], other_children: Sequence[PersonName]) -> Redactor:
    """A redactor for one package: ``known_people`` (referrers, informants) and the
    ``other_children`` that may be named in it (see :func:`children_named_in`)."""
    rules: list[tuple[re.Pattern[str], RedactionReason]] = []
    for person in known_people:
        patterns = [contact_pattern(c) for c in person.contacts if c]
        if person.name:
            patterns.append(person_name_pattern(person.name))
        for pattern in patterns:
            if pattern is not None:
                rules.append((re.compile(pattern, re.IGNORECASE), person.reason))
    children = child_name_pattern(other_children)
    if children is not None:
        rules.append((re.compile(children, re.IGNORECASE), RedactionReason.other_child))
    rules.append((ANY_EMAIL, RedactionReason.contact_details))
    rules.append((ANY_UK_PHONE, RedactionReason.contact_details))
    return Redactor(tuple(rules))

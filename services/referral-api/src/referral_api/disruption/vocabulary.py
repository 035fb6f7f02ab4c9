"""The kinds of disruption action a partnership records: a YAML list, configuration not code.

The platform ships a default list (``default_vocabulary.yaml``, with the powers each kind
is taken under and where to read them: the Home Office child exploitation disruption
toolkit, the Child Abduction Act 1984 and Children Act 1989, the Sexual Offences Act 2003,
the Modern Slavery Act 2015, the Anti-social Behaviour, Crime and Policing Act 2014, the
Licensing Act 2003, the Local Government (Miscellaneous Provisions) Act 1976 and the Taxis
and Private Hire Vehicles (Safeguarding and Road Safety) Act 2022). A partnership names its
own file in ``DISRUPTION_VOCABULARY_FILE``: the whole list, or (``extends_default: true``)
kinds added to the default one, a kind with a default's slug replacing it.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Annotated, Self

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    JsonValue,
    StringConstraints,
    ValidationError,
    model_validator,
)

from referral_api.disruption.models import DisruptionOutcome, TargetType

DEFAULT_VOCABULARY_FILE = Path(__file__).with_name("default_vocabulary.yaml")

KindSlug = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,62}$")]


KIND_EXAMPLE: dict[str, JsonValue] = {
    "slug": "child_abduction_warning_notice",
    "label": "Child Abduction Warning Notice (CAWN)",
    "applies_to": ["person"],
    "outcomes": ["issued", "withdrawn"],
    "counts_as_charge": False,
    "counts_as_conviction": False,
    "requires_text": False,
    "records_offence_group": False,
    "authority": "Child Abduction Act 1984 s.2 (a child under 16) or Children Act 1989 s.49 (a child "
    "under 18 in care).",
    "source": "https://www.legislation.gov.uk/ukpga/1984/37/section/2",
}


class InvalidVocabulary(ValueError):
    """The vocabulary file cannot be read or is not a valid list of kinds; the message says why."""


class DisruptionKind(BaseModel):
    """One kind of disruption action and what the platform does with it."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        json_schema_extra={"examples": [KIND_EXAMPLE]},
    )

    slug: KindSlug = Field(description="What an action records as its `kind`.")
    label: str = Field(min_length=2, max_length=200)
    applies_to: list[TargetType] = Field(
        min_length=1, description="`person` (a person of concern), `place` (a place of concern), or both."
    )
    outcomes: list[DisruptionOutcome] = Field(
        min_length=1, description="The outcomes an action of this kind may have; the first is the usual one."
    )
    counts_as_charge: bool = Field(False, description="Counted as a charge in the figures.")
    counts_as_conviction: bool = Field(False, description="Counted as a conviction in the figures.")
    requires_text: bool = Field(
        False,
        description="An action of this kind must say what it was (`other_text`); no other kind takes text.",
    )
    records_offence_group: bool = Field(
        False, description="An action of this kind may give an `offence_group`."
    )
    authority: str = Field(min_length=2, max_length=2000, description="The power it is taken under.")
    source: HttpUrl | None = Field(None, description="Where to read the power or the guidance.")

    @model_validator(mode="after")
    def _one_count_at_most(self) -> Self:
        if self.counts_as_charge and self.counts_as_conviction:
            raise ValueError(f"{self.slug}: a kind counts as a charge or as a conviction, not both")
        return self


class DisruptionVocabulary(BaseModel):
    """The kinds in force, in the order the partnership lists them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str = Field(min_length=1, max_length=40)
    extends_default: bool = Field(
        False, description="Keep the platform's default kinds and add these (a same slug replaces one)."
    )
    kinds: list[DisruptionKind] = Field(min_length=1)

    @model_validator(mode="after")
    def _slugs_unique(self) -> Self:
        slugs = [kind.slug for kind in self.kinds]
        repeated = sorted({s for s in slugs if slugs.count(s) > 1})
        if repeated:
            raise ValueError(f"a kind is listed twice: {', '.join(repeated)}")
        return self

    def kind(self, slug: str) -> DisruptionKind | None:
        """The kind ``slug`` names, or None when the list has no such kind."""
        return next((kind for kind in self.kinds if kind.slug == slug), None)

    @property
    def slugs(self) -> list[str]:
        return [kind.slug for kind in self.kinds]


def _read(path: Path) -> DisruptionVocabulary:
    try:
        with path.open(encoding="utf-8") as handle:
            return DisruptionVocabulary.model_validate(yaml.safe_load(handle))
    except (OSError, yaml.YAMLError) as exc:
        raise InvalidVocabulary(f"{path}: cannot be read as YAML ({exc})") from exc
    except ValidationError as exc:
        raise InvalidVocabulary(f"{path}: not a valid list of disruption kinds: {exc}") from exc


def _extended(default: DisruptionVocabulary, own: DisruptionVocabulary) -> DisruptionVocabulary:
    """The default kinds (each replaced by the partnership's kind of the same slug), then
    the partnership's new kinds."""
    own_by_slug = {kind.slug: kind for kind in own.kinds}
    kinds = [own_by_slug.pop(kind.slug, kind) for kind in default.kinds] + list(own_by_slug.values())
    return DisruptionVocabulary(version=own.version, extends_default=True, kinds=kinds)


@cache
def load_vocabulary(path: Path | None = None) -> DisruptionVocabulary:
    """The vocabulary in ``path`` (the platform's default when None), validated, read once per
    file; :class:`InvalidVocabulary` when it is not one."""
    default = _read(DEFAULT_VOCABULARY_FILE)
    if path is None or path.resolve() == DEFAULT_VOCABULARY_FILE.resolve():
        return default
    own = _read(path)
    return _extended(default, own) if own.extends_default else own

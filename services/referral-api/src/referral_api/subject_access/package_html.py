"""A subject access package as a readable HTML document: for the reviewer (every item,
its source, redactions, flags and the decisions it needs) or, once released, for the
requester (only what the reviewer allowed, without the reviewer's notes). Rendered by
Jinja2 with autoescaping, so nothing a person wrote in a record can become markup."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from jinja2 import Environment, StrictUndefined

from referral_api.subject_access.schemas import PackageItem

# No script, no outside resource: only the document's own inline style.
CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"

_TEMPLATE = """\
<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<title>{{ heading }}</title>
<style>
body { font-family: Arial, sans-serif; margin: 2em auto; max-width: 52em; line-height: 1.4; color: #0b0c0c; }
h1 { font-size: 1.6em; }
h2 { font-size: 1.2em; margin-top: 1.6em; border-top: 1px solid #b1b4b6; padding-top: .6em; }
dl { display: grid; grid-template-columns: 16em 1fr; gap: .2em 1em; }
dt { font-weight: bold; } dd { margin: 0; white-space: pre-wrap; }
.source { color: #505a5f; font-size: .9em; }
.redacted { background: #0b0c0c; color: #fff; padding: 0 .3em; }
.flag { border-left: 4px solid #d4351c; padding-left: .6em; margin: .4em 0; }
.needs-decision { color: #d4351c; font-weight: bold; }
</style>
</head>
<body>
<h1>{{ heading }}</h1>
{% if release %}
<p>This is the information {{ partnership }} holds about the person this request is for, as
released on {{ released_on }}{% if reference %} (reference {{ reference }}){% endif %}.
Information that identifies other people has been taken out and shows as
<span class="redacted">[redacted: ...]</span>. Some information may have been withheld under the
exemptions of the Data Protection Act 2018.</p>
{% else %}
<p><strong>For review: not for release.</strong> Subject access request {{ request_id }}
{%- if reference %} (reference {{ reference }}){% endif %} about a {{ subject_type }},
received {{ received_on }}, due {{ due_on }}. Assembled {{ assembled_at }} by {{ assembled_by_agency }}.
{{ items|length }} items; {{ decisions_required|length }} need a decision before release.</p>
{% endif %}
{% for item in items %}
<section id="{{ item.id }}">
<h2>{{ item.title }}</h2>
<p class="source">Held by the {{ item.source.value.replace('-', ' ') }}
{%- if item.recorded_at %}; recorded {{ item.recorded_at.strftime('%Y-%m-%d %H:%M') }} UTC{% endif %}
{%- if not release %}; item {{ item.id }}{% endif %}</p>
{% if not release %}
{% if item.decision_required %}
<p class="needs-decision">A decision is needed: disclose or withhold.</p>
{% endif %}
{% if not item.releasable %}
<p class="needs-decision">Not releasable from this platform.</p>
{% endif %}
{% for flag in item.flags %}
<p class="flag"><strong>{{ flag.kind.value.replace('_', ' ') }}</strong>: {{ flag.note }}</p>
{% endfor %}
{% endif %}
<dl>
{% for field in item.fields %}
<dt>{{ field.label }}</dt>
<dd>
{%- if field.redacted %}<span class="redacted">{{ field.value }}</span>
{%- elif field.value is none %}-
{%- else %}{{ field.value }}{% endif -%}
</dd>
{% endfor %}
</dl>
</section>
{% endfor %}
{% if not items %}<p>No information is held.</p>{% endif %}
</body>
</html>
"""

_environment = Environment(autoescape=True, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
_template = _environment.from_string(_TEMPLATE)


@dataclass(frozen=True)
class DocumentHeader:
    """What the document says about the request."""

    request_id: str
    reference: str | None
    subject_type: str
    received_on: date
    due_on: date
    partnership: str


def review_document(
    header: DocumentHeader,
    items: Sequence[PackageItem],
    *,
    assembled_at: datetime,
    assembled_by_agency: str,
    decisions_required: Sequence[str],
) -> str:
    """The package for the reviewer: every item, its flags and the decisions it needs."""
    return _template.render(
        heading="Subject access package for review",
        release=False,
        partnership=header.partnership,
        request_id=header.request_id,
        reference=header.reference,
        subject_type=header.subject_type.replace("_", " "),
        received_on=header.received_on.isoformat(),
        due_on=header.due_on.isoformat(),
        assembled_at=assembled_at.strftime("%Y-%m-%d %H:%M UTC"),
        assembled_by_agency=assembled_by_agency,
        items=items,
        decisions_required=decisions_required,
    )


def release_document(header: DocumentHeader, items: Sequence[PackageItem], *, released_on: date) -> str:
    """The document released to the requester: only ``items`` (what the reviewer allowed)."""
    return _template.render(
        heading="Your information",
        release=True,
        partnership=header.partnership,
        request_id=header.request_id,
        reference=header.reference,
        released_on=released_on.isoformat(),
        items=items,
    )

"""Our own HSDS taxonomies: the registry's vocabularies as taxonomy terms.

HSDS 3.0 links services to taxonomy terms through `attributes`. rcm_map
publishes its controlled vocabularies (service types, populations,
organisation types, ...) as taxonomies of its own, plus one taxonomy of
*fields* whose attributes carry a value (`record_id`, `country`, ...) for
registry fields that HSDS has no column for. Identifiers are UUID 5 names in
a fixed namespace, so the same code always gets the same UUID and a
re-export of an unchanged registry is byte-identical. See docs/interop.md.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from rcm_map.core import i18n, schema

# Fixed namespace of every UUID rcm_map writes; never change it (ids would move).
NAMESPACE = uuid.UUID("6f1c3b52-8d0e-4a57-9a53-2f6b1c7d9e40")


def uid(*parts: str) -> str:
    """A deterministic UUID (version 5) for a kind of record and its key parts."""
    return str(uuid.uuid5(NAMESPACE, "\x1f".join(parts)))


@dataclass(frozen=True)
class Taxonomy:
    """One of our taxonomies: which registry field it fills and what it links to."""

    key: str  # short stable name, the prefix of its term codes
    field: str  # registry field
    link_entity: str  # "service" or "organization"
    link_type: str
    description: str
    terms: tuple[str, ...]  # codes

    @property
    def name(self) -> str:
        return f"rcm_map:{self.key}"

    @property
    def id(self) -> str:
        return uid("taxonomy", self.key)

    def term_id(self, code: str) -> str:
        return uid("term", self.key, code)

    def term_code(self, code: str) -> str:
        return f"{self.key}:{code}"

    def label_key(self, code: str) -> str:
        """The message catalogue key of a term's name."""
        return f"vocab.{self.field}.{code}" if self.field else f"hsds.field.{code}"

    def term_labels(self, code: str) -> dict[str, str]:
        """A term's name in every interface language, from the message catalogues."""
        key = self.label_key(code)
        return {lang: i18n.Translator(lang).gettext(key) for lang in i18n.LANGUAGES}


# Fields HSDS has no column for; their attributes carry the value in `value`.
# Their names are ``hsds.field.<name>`` in the message catalogues.
VALUE_FIELDS: tuple[str, ...] = (
    "record_id", "country", "admin1", "city", "address", "source", "source_date", "verified_by",
)

TAXONOMIES: dict[str, Taxonomy] = {t.key: t for t in (
    Taxonomy("service_type", "service_types", "service", "service_type",
             "rcm_map service types for child protection services", schema.SERVICE_TYPES),
    Taxonomy("population", "populations", "service", "eligibility",
             "rcm_map populations of migrant children a service accepts", schema.POPULATIONS),
    Taxonomy("organization_type", "organization_type", "organization", "organization_type",
             "rcm_map types of organisation", schema.ORGANIZATION_TYPES),
    Taxonomy("notifies_authorities", "notifies_authorities", "service", "safeguarding",
             "whether the service reports children to migration authorities",
             schema.NOTIFIES_AUTHORITIES),
    Taxonomy("location_precision", "location_precision", "service", "location_precision",
             "how precise the published location is", schema.LOCATION_PRECISIONS),
    Taxonomy("field", "", "service", "rcm_map_field",
             "rcm_map registry fields with no HSDS column; the attribute value holds the value",
             VALUE_FIELDS),
)}

_BY_TERM_ID: dict[str, tuple[str, str]] = {
    t.term_id(code): (key, code) for key, t in TAXONOMIES.items() for code in t.terms
}
_BY_NAME: dict[str, str] = {t.name.lower(): key for key, t in TAXONOMIES.items()}
_BY_TAXONOMY_ID: dict[str, str] = {t.id: key for key, t in TAXONOMIES.items()}


def term_description(labels: dict[str, str]) -> str:
    """A term's description: its labels in every UI language."""
    return "; ".join(f"{lang}: {labels[lang]}" for lang in schema.LANGUAGES_UI if lang in labels)


def taxonomy_rows() -> list[dict[str, Any]]:
    """Rows of `taxonomies.csv` for all our taxonomies."""
    return [{"id": t.id, "name": t.name, "description": t.description, "version": "1"}
            for t in TAXONOMIES.values()]


def term_rows() -> list[dict[str, Any]]:
    """Rows of `taxonomy_terms.csv`: every code of every taxonomy, labelled in English."""
    rows = []
    for t in TAXONOMIES.values():
        for code in t.terms:
            labels = t.term_labels(code)
            rows.append({
                "id": t.term_id(code), "code": t.term_code(code), "name": labels["en"],
                "description": term_description(labels), "taxonomy": t.name,
                "language": "en", "taxonomy_id": t.id,
            })
    return rows


def resolve_term(term: dict[str, Any]) -> tuple[str, str] | None:
    """(taxonomy key, code) of an HSDS taxonomy term object, or None when not ours.

    A term is recognised by its UUID, by a code such as ``service_type:shelter``,
    or by one of our taxonomy names (or ids) with a bare code such as ``shelter``.
    """
    found = _BY_TERM_ID.get(str(term.get("id", "")))
    if found:
        return found
    code = str(term.get("code") or "").strip()
    key, sep, bare = code.partition(":")
    if sep and key in TAXONOMIES and bare in TAXONOMIES[key].terms:
        return key, bare
    detail = term.get("taxonomy_detail") if isinstance(term.get("taxonomy_detail"), dict) else {}
    names = (term.get("taxonomy"), detail.get("name"))
    key = next((_BY_NAME[n.lower()] for n in names if isinstance(n, str)
                and n.lower() in _BY_NAME), None)
    key = key or _BY_TAXONOMY_ID.get(str(term.get("taxonomy_id") or detail.get("id") or ""))
    if key and code in TAXONOMIES[key].terms:
        return key, code
    return None

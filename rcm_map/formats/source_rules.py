"""The rules that turn a source-list row into schema values, each small enough to test.

Belongs here: the column list of the source format, the age bands of its
`age_groups`, the id of a service (`make_id`), list cells, the source date found
in a note, the inferred organisation type and the confidentiality rule
(actors_sources.md section 7). data/README.md ("How the import maps the source
list") documents them. Pure functions of one row; reading a file and collecting
issues is `formats.importer`.

May import `core` and `search.gazetteer` (for `normalize`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from urllib.parse import urlsplit

from rcm_map.search.gazetteer import normalize

SOURCE_COLUMNS = (
    "name", "organization", "country_iso3", "admin1", "city", "address", "phone", "email",
    "website", "service_types", "age_groups", "populations", "languages", "hours",
    "location_precision", "lat", "lon", "source_url", "source_note",
)  # fmt: skip
LIST_SEPARATOR = ";"
COORD_DECIMALS = 5  # about 1 m; gazetteer points are city centres anyway

# Source `age_groups` -> (age_min, age_max). "childhood" starts at 0, not 6: the source
# marks children-only facilities "childhood;adolescence" and uses early_childhood only
# where a source says so, so its absence does not mean young children are turned away.
AGE_GROUPS: dict[str, tuple[int, int]] = {
    "early_childhood": (0, 5),
    "childhood": (0, 11),
    "adolescence": (12, 17),
}

# actors_sources.md section 7: residences whose location must not be published.
# (country, normalised substring of "name organization").
CONFIDENTIAL_NAMES: tuple[tuple[str, str], ...] = (
    ("MEX", "viva mexico"), ("MEX", "colibri"), ("MEX", "nohemi alvarez quillay"),
    ("MEX", "casa del menor migrante"), ("MEX", "jason y alexander"),
    ("MEX", "camino a casa"), ("MEX", "camef"), ("MEX", "centro para nna migr"),
    ("MEX", "dif aguascalientes"), ("MEX", "ymca"),
    ("GTM", "casa nuestras raices"), ("GTM", "refugio de la ninez"), ("GTM", "svet"),
    ("HND", "canfm belen"), ("HND", "casa alianza"),
    ("SLV", "canaf"),
    ("PAN", "senniaf regional darien"), ("PAN", "aldeas infantiles sos panama"),
    ("CAN", "matthew house"),
)  # fmt: skip

# Conservative organisation-type inference from the name and the lead organisation
# (normalised; partners after "with" ignored); the first rule that matches wins,
# anything else is "ngo". Inferred, not stated by the source: see data/README.md.
ORG_TYPE_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("consular", re.compile(r"\b(consul\w*|embajada|embassy|ambassade)\b")),
    ("government", re.compile(
        r"\b(minist\w*|secretar\w*|gobierno|government|gouvernement|municipal\w*|"
        r"ayuntamiento|alcaldia|instituto nacional|instituto guatemalteco|direccion general|"
        r"procuradur\w*|dif|sndif|pani|patronato nacional|sbs|pgn|senaf|dinaf|conapina|isna|"
        r"senniaf|mifan|comar|inm|igm|dgme|snm|senafront|conadeh|mingob|minsa|canaf|svet|"
        r"servicio nacional|comision nacional|consejo nacional|defensor\w*|juzgado|tribunal|"
        r"poder judicial|policia|comisaria|board of canada|irb|ciusss|childrens aid society|"
        r"estado de|state of|province of|cruz roja nicaraguense|sreci|relaciones exteriores|"
        r"legal aid)\b")),
    ("faith_based", re.compile(
        r"\b(iglesia|church|diocesis|diocesan\w*|diocesano|arquidiocesis|parroquia|parish|"
        r"pastoral|scalabrin\w*|misioneros|misioneras|hermanas|sisters|congregacion|caritas|"
        r"francisc\w*|jesuit\w*|jesuita|salesian\w*|salesiano|catholic|catolica|interfaith|"
        r"mennonite|evangel\w*|pastor|religios\w*|ecumenic\w*|pasionista|passionist)\b")),
    ("international", re.compile(
        r"\b(acnur|unhcr|oim|iom|unicef|cicr|icrc|naciones unidas|united nations|"
        r"organizacion internacional para las migraciones|"
        r"international organization for migration|comite internacional de la cruz roja|"
        r"international committee of the red cross)\b")),
)
_ISO_DATE = re.compile(r"(?<![\d-])(\d{4})-(\d{2})-(\d{2})(?![\d-])")


def make_id(country: str, organization: str, name: str, city: str) -> str:
    """Stable id: country, a slug of the name and a hash of the identifying fields.

    Parameters
    ----------
    country, organization, name, city : str
        The hash uses their normalised forms (accents, case and punctuation ignored),
        so a cosmetic fix does not change the id; the row order never matters.

    Returns
    -------
    str
        e.g. ``"mex-la-72-hogar-refugio-para-personas-migrantes-3f9a0c1b"``.
    """
    key = "|".join(normalize(v) for v in (country, organization, name, city))
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:8]
    slug = ""
    for word in normalize(name).split():
        if len(slug) + len(word) + 1 > 48:
            break
        slug = f"{slug}-{word}" if slug else word
    return f"{country.lower()}-{slug or 'service'}-{digest}"


def split_list(text: str) -> list[str]:
    """Split a ';'-joined cell into stripped, non-empty items, keeping order and text."""
    return [item.strip() for item in text.split(LIST_SEPARATOR) if item.strip()]


def ages_from_groups(groups: list[str]) -> tuple[int | None, int | None, list[str]]:
    """(age_min, age_max, unknown groups) for the source's `age_groups` codes.

    ``all`` or nothing gives open bounds; combinations give the union of the bands
    in `AGE_GROUPS` (``childhood;adolescence`` -> 0..17).
    """
    unknown = [g for g in groups if g != "all" and g not in AGE_GROUPS]
    bands = [AGE_GROUPS[g] for g in groups if g in AGE_GROUPS]
    if not bands or "all" in groups:
        return None, None, unknown
    return min(b[0] for b in bands), max(b[1] for b in bands), unknown


def source_date_from_note(note: str, today: dt.date | None = None) -> str:
    """The latest full ISO date (YYYY-MM-DD) in a source note, or '' when there is none.

    Years alone ("2019"), months ("2020-05"), ranges ("c. 2021-2022") and dates in
    words are ignored: they do not say when the information was true. Future dates
    are ignored too.
    """
    today = today or dt.date.today()
    found = []
    for match in _ISO_DATE.finditer(note):
        try:
            day = dt.date.fromisoformat(match.group(0))
        except ValueError:
            continue
        if day <= today:
            found.append(day)
    return max(found).isoformat() if found else ""


def infer_organization_type(name: str, organization: str) -> str:
    """Organisation type from the names alone, conservatively (see ORG_TYPE_RULES)."""
    # "Cruz Roja Guatemalteca with ICRC": the partner after "with" does not run it
    lead = re.split(r"\bwith\b", organization, maxsplit=1)[0]
    text = normalize(f"{name} {lead}")
    for org_type, pattern in ORG_TYPE_RULES:
        if pattern.search(text):
            return org_type
    return "ngo"


def _host(url: str) -> str:
    host = urlsplit(url.strip()).hostname or ""
    return host.removeprefix("www.")


def publishes_own_address(row: dict[str, str]) -> bool:
    """True when the source is the organisation's own site and gives a street address."""
    own = _host(row.get("website", ""))
    return bool(row.get("address") and row.get("location_precision") == "address" and own
                and _host(row.get("source_url", "")).endswith(own))


def is_confidential(row: dict[str, str]) -> bool:
    """Whether a source row's location must be withheld (actors_sources.md section 7).

    A row is confidential when it is named in section 7 (`CONFIDENTIAL_NAMES`), or when
    it is a shelter for children only, for trafficking survivors, or run by a child-
    protection authority, unless the organisation publishes its own street address
    on its own website (`publishes_own_address`).
    """
    if publishes_own_address(row):
        return False
    text = normalize(f"{row.get('name', '')} {row.get('organization', '')}")
    country = row.get("country_iso3", "")
    if any(c == country and pattern in text for c, pattern in CONFIDENTIAL_NAMES):
        return True
    services = split_list(row.get("service_types", ""))
    if "shelter" not in services:
        return False
    groups = split_list(row.get("age_groups", ""))
    children_only = bool(groups) and "all" not in groups
    return (children_only or "trafficking_survivors" in split_list(row.get("populations", ""))
            or "child_protection_authority" in services)

"""One escaping module for every renderer: HTML, inline JSON, links, CSV and locations.

Why one module: folium escapes nothing and renders its HTML through Jinja, so a
registry name such as ``{{ 7*191 }}`` or ``${alert(1)}`` is either evaluated on the
server or run in the browser (the streamlit-folium iframe allows scripts and same
origin, so it reaches the Streamlit page itself). Every
piece of registry or user text that reaches HTML, a script or a CSV export goes
through a function here, and the tests attack these functions directly.

Contents
--------
escape_html
    Text for HTML element content or a quoted attribute; also inert for JavaScript
    template literals and for Jinja (``\\``, backtick, ``$``, ``{``, ``}``, ``%``
    become character references).
json_for_script
    JSON safe to paste inside ``<script>`` and inside any Jinja template.
safe_url, tel_href, mailto_href
    Links: only http(s) websites, ``tel:`` with digits and ``+``, checked e-mails.
neutralize_csv_cell, restore_csv_cell
    OWASP CSV-injection defence that still round-trips phone numbers exactly.
distance_band, distance_band_label, public_point
    What a confidential service may reveal: a distance band and a public point.
public_properties, source_links, WITHHELD_FOR_CONFIDENTIAL
    The one gate for the free text of confidential services in public outputs.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import json.encoder
import math
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit

from rcm_map.core import i18n

# --------------------------------------------------------------------------- HTML

# Characters html.escape leaves alone that matter to JS template literals (`\`,
# backtick, `$`) or to Jinja (`{`, `}`, `%`). Character references are decoded by
# the HTML parser only, so the text still *shows* literally in the page.
_EXTRA_HTML = {
    "\\": "&#92;",
    "`": "&#96;",
    "$": "&#36;",
    "{": "&#123;",
    "}": "&#125;",
    "%": "&#37;",
    "\x00": "\ufffd",  # NUL is a parse error in HTML; show the replacement char
}
_EXTRA_HTML_TABLE = str.maketrans(_EXTRA_HTML)


def escape_html(text: Any) -> str:
    """Escape `text` for HTML content or a quoted attribute value.

    Parameters
    ----------
    text
        Any value; ``None`` and NaN give ``''``, other non-strings use ``str()``.

    Returns
    -------
    str
        ``html.escape(text, quote=True)`` plus backslash, backtick, ``$``, ``{``,
        ``}`` and ``%`` as numeric character references and NUL as U+FFFD, so the
        result is inert in HTML, in a JavaScript template literal and as Jinja
        template source.

    Examples
    --------
    >>> escape_html("<b>{{ 7*191 }}</b>")
    '&lt;b&gt;&#123;&#123; 7*191 &#125;&#125;&lt;/b&gt;'
    """
    return html.escape(_as_text(text), quote=True).translate(_EXTRA_HTML_TABLE)


def _as_text(value: Any) -> str:
    """Text form of a cell value: '' for None/NaN, str() for anything else."""
    if value is None:
        return ""
    if isinstance(value, float) and math.isnan(value):
        return ""
    return value if isinstance(value, str) else str(value)


# --------------------------------------------------------------------------- JSON

# Inside JSON strings only: each of these becomes a \uXXXX escape, which every JSON
# parser decodes back to the same character. `<`, `>`, `&` stop `</script>` and
# `<!--`; quote/backtick/`$` stop breaking out of JS literals; `{`, `}`, `%` stop
# Jinja; U+2028/2029 are line terminators in older JavaScript.
_JSON_ESCAPES = {
    c: f"\\u{ord(c):04x}" for c in "<>&'`${}%\u2028\u2029"
}
_JSON_TABLE = str.maketrans(_JSON_ESCAPES)
# A JSON string token as json.dumps writes it (escapes are backslash + one char or
# \uXXXX, both covered by `\\.`).
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')  # unrolled: ~15 % faster


def json_for_script(obj: Any) -> str:
    """Serialise `obj` as JSON that is safe inside ``<script>`` and inside Jinja.

    Parameters
    ----------
    obj
        JSON-compatible data. NumPy scalars, dates and sets are converted; NaN and
        infinities become ``null`` (JSON has no NaN).

    Returns
    -------
    str
        Compact JSON. Inside string values every ``<``, ``>``, ``&``, ``'``,
        backtick, ``$``, ``{``, ``}``, ``%``, U+2028 and U+2029 is a ``\\uXXXX``
        escape. Outside strings JSON only has ``{}[],:``, numbers and literals, and
        an object never opens with ``{{`` / ``{%`` / ``{#``, so no Jinja tag can
        form.
    """
    if _C_ENCODER is not None:
        try:  # fast path: the C encoder escapes each string as it writes it
            return "".join(_C_ENCODER(obj, 0))
        except ValueError:  # NaN or infinity somewhere: convert everything, NaN -> null
            return "".join(_C_ENCODER(_jsonable(obj), 0))
    try:  # no C accelerator: dump, then escape inside every string token
        text = json.dumps(obj, ensure_ascii=False, allow_nan=False, separators=(",", ":"),
                          default=_json_default)
    except ValueError:
        text = json.dumps(_jsonable(obj), ensure_ascii=False, allow_nan=False,
                          separators=(",", ":"))
    return _JSON_STRING.sub(lambda m: m.group(0).translate(_JSON_TABLE), text)


def _encode_string(text: str) -> str:
    """A JSON string token with our extra escapes (keys and values alike).

    `encode_basestring` only escapes quotes, backslashes and control characters, so
    none of the characters the table replaces is part of an escape it wrote.
    """
    return json.encoder.encode_basestring(text).translate(_JSON_TABLE)


def _json_default(obj: Any) -> Any:
    """json.dumps hook for NumPy values, dates and sets."""
    if isinstance(obj, (set, frozenset)):
        return list(obj)
    return _jsonable(obj)


def _jsonable(obj: Any) -> Any:
    """Recursively convert `obj` into plain JSON types (NaN/inf -> None)."""
    if obj is None or isinstance(obj, (bool, str, int)):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (dt.date, dt.datetime)):
        return obj.isoformat()
    if hasattr(obj, "tolist"):  # numpy scalars and arrays, without importing numpy
        return _jsonable(obj.tolist())
    raise TypeError(f"Cannot serialise {type(obj).__name__} value {obj!r} to JSON.")


# --------------------------------------------------------------------------- links

_URL_FORBIDDEN = re.compile(r"[\s<>\"'`\\\x00-\x1f\x7f]")


def safe_url(url: Any) -> str:
    """Return `url` when it is an absolute http(s) URL with a host, else ``''``.

    ``javascript:``, ``data:``, relative and protocol-relative URLs, and URLs with
    whitespace, quotes, angle brackets, backslashes or control characters are all
    rejected. The result still needs `escape_html` inside an attribute.
    """
    text = _as_text(url).strip()
    if not text or _URL_FORBIDDEN.search(text):
        return ""
    try:
        parts = urlsplit(text)
    except ValueError:
        return ""
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return ""
    return text


_PHONE_END = re.compile(r"[A-Za-z,;/]")


def tel_href(phone: Any) -> str:
    """Return a ``tel:`` URL holding only digits (and a leading ``+``), or ``''``.

    Text after the first letter, comma, semicolon or slash (``ext. 12``, a second
    number) is ignored. Fewer than three digits gives ``''``.

    Examples
    --------
    >>> tel_href("+52 (962) 123-4567 ext. 8")
    'tel:+529621234567'
    """
    text = _as_text(phone).strip()
    match = _PHONE_END.search(text)
    if match:
        text = text[: match.start()]
    digits = "".join(c for c in text if c.isascii() and c.isdigit())
    if len(digits) < 3:
        return ""
    return f"tel:{'+' if text.lstrip().startswith('+') else ''}{digits}"


_EMAIL = re.compile(r"^[A-Za-z0-9.!#&*+/=?^_{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")


def mailto_href(email: Any) -> str:
    """Return ``mailto:`` + the percent-encoded address when it looks valid, else ``''``."""
    text = _as_text(email).strip()
    if len(text) > 254 or not _EMAIL.match(text):
        return ""
    return "mailto:" + quote(text, safe="@.+-_")


# --------------------------------------------------------------------------- CSV

CSV_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
"""First characters that make spreadsheets treat a cell as a formula (OWASP)."""


def _needs_quote_prefix(text: str) -> bool:
    """True when `text`, after any leading apostrophes, starts with a trigger."""
    return text.lstrip("'")[:1] in CSV_TRIGGERS and text.lstrip("'") != ""


CSV_SPLIT = ";"
"""Where a cell may be split again: our list separator, and the CSV separator of
spreadsheets in Spanish and French locales. Every piece is neutralised on its own."""


def neutralize_csv_cell(value: Any) -> Any:
    """Make one CSV cell inert in spreadsheets, reversibly, piece by piece.

    Text that starts with ``=``, ``+``, ``-``, ``@``, TAB or CR gets one leading
    apostrophe (OWASP "CSV injection"), so ``+52 962 ...`` is written as
    ``'+52 962 ...``. The rule applies to every piece between ``;`` too (list
    items, and text that a spreadsheet splits on ``;``): ``a;=1+1`` becomes
    ``a;'=1+1`` (issue 12: checking only the first character left ``=1+1`` as a
    cell of its own). Text that *already* starts with apostrophes followed by one
    of those characters also gets one more, which is what makes the mapping
    reversible: ``restore_csv_cell(neutralize_csv_cell(s)) == s`` for every string
    ``s``. Numbers, booleans and None are returned unchanged.

    Parameters
    ----------
    value
        A cell value.

    Returns
    -------
    Any
        The value to write.
    """
    if not isinstance(value, str):
        return value
    return CSV_SPLIT.join("'" + piece if _needs_quote_prefix(piece) else piece
                          for piece in value.split(CSV_SPLIT))


def restore_csv_cell(value: Any) -> Any:
    """Undo `neutralize_csv_cell` when importing a CSV the app exported.

    In every piece between ``;``, strips exactly one leading apostrophe when the
    rest, after any further apostrophes, starts with ``=``, ``+``, ``-``, ``@``,
    TAB or CR; anything else is returned unchanged (files written by earlier
    versions, which marked only the first piece, read back the same).
    """
    if not isinstance(value, str):
        return value
    return CSV_SPLIT.join(piece[1:] if piece.startswith("'") and _needs_quote_prefix(piece)
                          else piece for piece in value.split(CSV_SPLIT))


# --------------------------------------------------------------------------- distance

# (code, lower bound km inclusive). Codes are stable for data and URLs; labels are
# ``vocab.distance_band.<code>`` in the message catalogues.
DISTANCE_BANDS: tuple[tuple[str, float], ...] = (
    ("lt_5", 0.0), ("5_10", 5.0), ("10_25", 10.0), ("25_50", 25.0), ("50_100", 50.0),
    ("gt_100", 100.0),
)


def distance_band(km: float) -> str:
    """Code of the distance band holding `km` (lower bounds inclusive).

    Confidential services show a band instead of a distance, so that searching
    from several points cannot triangulate them.

    Raises
    ------
    ValueError
        When `km` is negative, NaN or infinite.
    """
    if not isinstance(km, (int, float)) or not math.isfinite(km) or km < 0:
        raise ValueError(f"Expected a distance in km >= 0, instead got: {km!r}.")
    code = DISTANCE_BANDS[0][0]
    for band_code, lower in DISTANCE_BANDS:
        if km >= lower:
            code = band_code
    return code


def distance_band_label(code: str, lang: str = i18n.FALLBACK_LANGUAGE) -> str:
    """Display label of a distance band code, e.g. ``'lt_5'`` -> ``'< 5 km'``."""
    if code not in (c for c, _ in DISTANCE_BANDS):
        raise ValueError(
            f"Unknown distance band {code!r}; expected one of "
            + ", ".join(c for c, _ in DISTANCE_BANDS)
        )
    return i18n.label("distance_band", code, lang)


# --------------------------------------------------------------------------- location

WITHHELD_FOR_CONFIDENTIAL = ("address", "description")
"""Fields blanked for confidential services in everything the public sees."""

SOURCE_WITHHELD = "(source note withheld: confidential location)"
"""Public ``source`` of a confidential service whose source has no link to keep."""

_URL_IN_TEXT = re.compile(r"https?://[^\s<>\"'`]+", re.IGNORECASE)


def source_links(source: Any) -> str:
    """Only the web addresses of a source text, space-separated, in order.

    A source reads ``URL — note``; the note may say where a site is ("near Dundas &
    Ossington", "Barrio Medina", issue 12). For a confidential service the public
    keeps the page to check and loses the note.

    Examples
    --------
    >>> source_links("https://a.example/x — located in zona 3; see https://b.example")
    'https://a.example/x https://b.example'
    """
    found = (m.group(0).rstrip(".,;:)]") for m in _URL_IN_TEXT.finditer(_as_text(source)))
    return " ".join(dict.fromkeys(found))


def public_properties(props: Mapping[str, Any]) -> dict[str, Any]:
    """The properties of one service as any public output may carry them.

    The one gate for free text: the public frame (`rcm_map.registry.model.public_view`),
    the stores' public reads (`rcm_map.store.base.public_feature`) and through them
    every page, popup, list, referral sheet and export (CSV, GeoJSON, HSDS, HXL,
    xlsx). For a confidential service the fields in `WITHHELD_FOR_CONFIDENTIAL` are
    blanked and ``source`` keeps its links only (`source_links`, or
    `SOURCE_WITHHELD` when it has none); other services are returned unchanged
    (as a new dict).
    """
    out = dict(props)
    if out.get("location_precision") == "confidential":
        for name in WITHHELD_FOR_CONFIDENTIAL:
            out[name] = ""
        out["source"] = source_links(out.get("source")) or SOURCE_WITHHELD
    return out


# The public point of confidential sites lives with the boundaries it keeps to
# (core/standin.py); re-exported here because it is part of the safety contract.
from rcm_map.core.standin import PUBLIC_GRID_DEG, PUBLIC_MIN_KM, public_point  # noqa: E402, F401

# The C encoder behind json.dumps, given our string encoder: ~3x faster than dumping
# and then escaping inside every string token with a regular expression.
_C_ENCODER = (
    json.encoder.c_make_encoder(  # type: ignore[attr-defined]
        None, _json_default, _encode_string, None, ":", ",", False, False, False)
    if getattr(json.encoder, "c_make_encoder", None) is not None else None
)

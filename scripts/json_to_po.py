"""One-off: fold the old ``rcm_map/core/locales/<lang>.json`` files into the .po catalogues.

The JSON catalogues were replaced by gettext ones (see rcm_map/core/i18n.py). A
branch started before that may still change the JSON files; merging it leaves
them in the tree (a modify/delete conflict). Then run
``.venv/bin/python scripts/json_to_po.py --base $(git merge-base HEAD MERGE_HEAD)``:
the keys the branch added or changed since `--base` are added to (or update) the
.po catalogue of their language, ``key.one`` / ``key.other`` pairs become one plural
entry, and the JSON files are deleted (``git rm`` them). Without ``--base`` every
JSON key is folded, which would bring back old values. Delete this script once no
open branch carries those files.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import write_po

from rcm_map.core import i18n

NAMES = {"es": "Spanish", "en": "English", "fr": "French"}
CREATED = dt.datetime(2026, 12, 2, tzinfo=dt.UTC)  # fixed: rewriting changes no header


def _new_catalogue(lang: str) -> Catalog:
    return Catalog(
        locale=lang, domain=i18n.DOMAIN, project="rcm_map", version="0.1.0", fuzzy=False,
        msgid_bugs_address="the rcm_map issue tracker",
        header_comment=(f"# rcm_map interface in {NAMES[lang]}.\n"
                        "# msgid is the key passed to Translator.t(); see rcm_map/core/i18n.py."),
        creation_date=CREATED, revision_date=CREATED,
        language_team=f"{NAMES[lang]} <rcm_map>", last_translator="rcm_map")


def _entries(lang: str, data: dict[str, str]) -> dict[str, str | tuple[str, ...]]:
    """JSON keys to .po entries: ``k.one``/``k.other`` (and other CLDR tags) join into k."""
    tags = i18n.plural_tags(lang)
    plural_bases = {k.rsplit(".", 1)[0] for k in data if k.endswith(".other")
                    and f"{k.rsplit('.', 1)[0]}.one" in data}
    out: dict[str, str | tuple[str, ...]] = {}
    for key, text in data.items():
        base, _, tag = key.rpartition(".")
        if base in plural_bases and tag in i18n._PLURAL_TAGS:
            out[base] = tuple(data.get(f"{base}.{t}", data[f"{base}.other"]) for t in tags)
        else:
            out[key] = text
    return out


def _message(key: str, text: str | tuple[str, ...]) -> Message:
    msgid: str | tuple[str, str] = (key, key) if isinstance(text, tuple) else key
    return Message(msgid, text)


def _at(commit: str, lang: str) -> dict[str, str]:
    """The JSON catalogue of `lang` at `commit` (empty when it had none)."""
    done = subprocess.run(["git", "show", f"{commit}:rcm_map/core/locales/{lang}.json"],
                          capture_output=True, text=True, check=False)
    return json.loads(done.stdout) if done.returncode == 0 else {}


def convert(lang: str, locales_dir: Path | None = None, base: str | None = None) -> int:
    """Fold ``<lang>.json`` (only what changed since `base`, if given) into the .po
    catalogue; the number of entries added or changed."""
    source = (locales_dir or i18n.LOCALES_DIR) / f"{lang}.json"
    if not source.exists():
        return 0
    data = json.loads(source.read_text(encoding="utf-8"))
    if base:
        before = _at(base, lang)
        data = {k: v for k, v in data.items() if before.get(k) != v}
    target = i18n.po_path(lang, locales_dir)
    old = i18n.read_catalogue(lang, locales_dir) if target.exists() else _new_catalogue(lang)
    order = [m.id if isinstance(m.id, str) else m.id[0] for m in old if m.id]
    current = {key: old.get(key) for key in order}
    entries = _entries(lang, data)
    json_order = list(entries)
    changed = 0
    for position, key in enumerate(json_order):
        previous = current.get(key)
        if previous is not None and previous.string == entries[key]:
            continue
        changed += 1
        if key not in current:  # after the nearest key that precedes it in the JSON
            after = next((k for k in reversed(json_order[:position]) if k in order), None)
            order.insert(order.index(after) + 1 if after else len(order), key)
        current[key] = _message(key, entries[key])
    out = _new_catalogue(lang)
    for key in order:
        message = current[key]
        assert message is not None
        out[key] = message
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".po.tmp")
    with open(tmp, "wb") as handle:
        write_po(handle, out, width=100, no_location=True)
    tmp.replace(target)
    source.unlink()
    return changed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", help="fold only the keys added or changed since this commit")
    args = parser.parse_args()
    for lang in i18n.LANGUAGES:
        print(f"{lang}: {convert(lang, base=args.base)} entries added or changed")
    return 0


if __name__ == "__main__":
    sys.exit(main())

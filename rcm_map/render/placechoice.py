"""How a candidate place of the place search is named to the caseworker (pure).

An ordinary place reads "Tapachula, Chiapas (México)". A border post of
`data/border_posts.csv` (`Place.is_post`) is known by name and municipality only and
is shown at that town's point, so every text naming it says so: the candidate list
and the referral sheet ("El Amatillo (border crossing) — shown at Pasaquina, La Unión
(El Salvador)"), and a note under the place taken, and on the CLI's stderr, saying
that the exact point is not known and distances are counted from the town.
"""

from __future__ import annotations

from rcm_map.core.i18n import Translator
from rcm_map.render.listing import place_label
from rcm_map.search.gazetteer import Place


def choice_label(place: Place, tr: Translator, country: str | None = None) -> str:
    """The place in one line: 'Tapachula, Chiapas (México)', or for a post
    'El Amatillo (border crossing) — shown at Pasaquina, La Unión (El Salvador)'.

    `country` replaces the translated country name (the CLI gives the ISO3 code).
    """
    country_text = country if country is not None else tr.label("country", place.country)
    if not place.is_post:
        if country is None:
            return place_label(place.name, place.admin1, place.country, tr)
        return ", ".join(p for p in (place.name, place.admin1, country) if p)
    return tr.t("search.place_post", name=place.name,
                kind=tr.t(f"search.place_kind.{place.kind}"), town=place.shown_at,
                admin1=place.admin1, country=country_text)


def post_note(place: Place, tr: Translator) -> str | None:
    """For a post: that it is shown at its town and its exact point is not known."""
    if not place.is_post:
        return None
    return tr.t("search.place_post_note", name=place.name, town=place.shown_at)

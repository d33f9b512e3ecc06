"""Country updates, edits, conflicts, history, restore and reports on both backends."""

from __future__ import annotations

import copy
import threading
from typing import Any

import pytest

from rcm_map.search.query import Query
from rcm_map.store.base import (
    ConflictError,
    NotFoundError,
    Store,
    StoreError,
    UpdateRejected,
)


def mex(features: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The Mexican services of a list, deep-copied for editing."""
    return [copy.deepcopy(f) for f in features if f["properties"]["country"] == "MEX"]


def test_preview_lists_added_changed_removed(small_store: Store, small_features: list) -> None:
    """A preview shows what an update would do, and changes nothing."""
    update = mex(small_features)
    update[0]["properties"]["name"] = "Nuevo nombre"
    removed = update.pop()
    new = copy.deepcopy(update[0])
    new["properties"]["id"] = "mex-new"
    diff = small_store.preview_update("MEX", [*update, new])
    assert [c.service_id for c in diff.added] == ["mex-new"]
    assert [c.service_id for c in diff.changed] == [update[0]["properties"]["id"]]
    assert [f.field for f in diff.changed[0].fields] == ["name"]
    assert [c.service_id for c in diff.removed] == [removed["properties"]["id"]]
    assert diff.summary() == "MEX: 1 added, 1 changed, 1 removed, 1 unchanged"
    assert len(small_store.all_features("MEX")) == 3
    with pytest.raises(NotFoundError):
        small_store.get("mex-new")


def test_apply_then_restore_with_history(small_store: Store, small_features: list) -> None:
    """An import is applied in one change, shows in history and can be rolled back."""
    before = {s.id: s.feature for s in small_store.all_features()}
    update = mex(small_features)[:1]
    update[0]["properties"]["hours"] = "9-17"
    change_id = small_store.apply_update(small_store.preview_update("MEX", update), "ana")
    assert {s.id for s in small_store.all_features("MEX")} == {update[0]["properties"]["id"]}
    assert small_store.search(Query(countries=("MEX",))).total_matching == 1
    record = small_store.history(limit=1)[0]
    assert (record.change_id, record.user, record.action, record.country) == (
        change_id, "ana", "import", "MEX")
    assert sorted(s.action for s in record.services) == ["changed", "removed", "removed"]
    changed = next(s for s in record.services if s.action == "changed")
    assert changed.before["properties"]["hours"] == "24 h"
    assert changed.after["properties"]["hours"] == "9-17"

    restore_id = small_store.restore(change_id, "ana")
    assert {s.id: s.feature for s in small_store.all_features()} == before
    assert small_store.history(limit=1)[0].restored_from == change_id
    assert small_store.change(restore_id).action == "restore"
    assert small_store.search(Query(countries=("MEX",))).total_matching == 3


def test_versions_count_up_and_survive_removal(small_store: Store, small_features: list) -> None:
    """Versions start at 1, rise on each change and keep rising after re-adding."""
    sid = "mex-tap-dif"
    assert small_store.get(sid).version == 1
    change = small_store.apply_update(small_store.preview_update(
        "MEX", [f for f in mex(small_features) if f["properties"]["id"] != sid]), "ana")
    small_store.restore(change, "ana")
    assert small_store.get(sid).version == 2
    versions = [s.version_after for r in small_store.history(service_id=sid) for s in r.services
                if s.service_id == sid]
    assert versions == [2, None, 1]


def test_invalid_update_is_rejected_with_every_problem(small_store: Store,
                                                       small_features: list) -> None:
    """Wrong country, bad vocabulary and an id taken by another country are all named."""
    update = mex(small_features)
    update[0]["properties"]["service_types"] = ["spa"]
    update[1]["properties"]["country"] = "GTM"
    update[2]["properties"]["id"] = "gtm-tecun-casa"
    with pytest.raises(UpdateRejected) as caught:
        small_store.preview_update("MEX", update, file="mex.geojson")
    text = "\n".join(str(i) for i in caught.value.issues)
    assert "mex.geojson: feature 0" in text and "'service_types'" in text and "'spa'" in text
    assert "this update is for MEX" in text
    assert "id already used by a service in GTM" in text
    assert len(small_store.all_features("MEX")) == 3


def test_stale_preview_is_refused(small_store: Store, small_features: list) -> None:
    """A preview made before someone else's change cannot be applied."""
    update = mex(small_features)
    update[0]["properties"]["cost"] = "free"
    diff = small_store.preview_update("MEX", update)
    current = small_store.get("mex-tap-dif", public=False)
    edited = copy.deepcopy(current.feature)
    edited["properties"]["hours"] = "24 h"
    small_store.update_service("mex-tap-dif", edited, current.version, "bob")
    with pytest.raises(ConflictError, match="changed from version 1 to 2 by bob"):
        small_store.apply_update(diff, "ana")
    assert small_store.get("mex-tap-dif", public=False).feature["properties"]["hours"] == "24 h"


def test_edit_conflict_message(small_store: Store) -> None:
    """An edit based on an old version is refused and says who changed it."""
    current = small_store.get("mex-tap-shelter", public=False)
    first = copy.deepcopy(current.feature)
    first["properties"]["hours"] = "8-20"
    assert small_store.update_service("mex-tap-shelter", first, current.version, "ana") == 2
    second = copy.deepcopy(current.feature)
    second["properties"]["cost"] = "free"
    with pytest.raises(ConflictError) as caught:
        small_store.update_service("mex-tap-shelter", second, current.version, "bob")
    assert "'mex-tap-shelter' changed from version 1 to 2 by ana" in str(caught.value)
    assert "Nothing was saved" in str(caught.value)
    assert caught.value.conflicts == [("mex-tap-shelter", 1, 2)]


def test_edit_cannot_rename_or_break(small_store: Store) -> None:
    """Edits are validated like imports and cannot change the id."""
    current = small_store.get("mex-tap-shelter", public=False)
    bad = copy.deepcopy(current.feature)
    bad["properties"]["id"] = "other"
    bad["properties"]["website"] = "javascript:alert(1)"
    with pytest.raises(UpdateRejected) as caught:
        small_store.update_service("mex-tap-shelter", bad, current.version, "ana")
    text = str(caught.value)
    assert "cannot change the id" in text and "'website'" in text
    with pytest.raises(NotFoundError):
        small_store.update_service("nope", bad, 1, "ana")


def test_two_editors_at_once_one_conflict_no_update_lost(small_store: Store) -> None:
    """Two editors save the same version at once: one wins, one gets a conflict."""
    base = small_store.get("mex-tap-dif", public=False)
    barrier = threading.Barrier(2)
    outcome: dict[str, Any] = {}

    def edit(user: str, field: str) -> None:
        feature = copy.deepcopy(base.feature)
        feature["properties"][field] = f"set by {user}"
        barrier.wait()
        try:
            outcome[user] = small_store.update_service("mex-tap-dif", feature, base.version,
                                                       user)
        except ConflictError as exc:
            outcome[user] = exc

    threads = [threading.Thread(target=edit, args=("ana", "hours")),
               threading.Thread(target=edit, args=("bob", "cost"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    conflicts = [u for u, r in outcome.items() if isinstance(r, ConflictError)]
    winners = [u for u, r in outcome.items() if r == 2]
    assert len(conflicts) == 1 and len(winners) == 1
    loser = conflicts[0]
    # The loser reloads and saves again: both edits are kept.
    fresh = small_store.get("mex-tap-dif", public=False)
    field = "hours" if loser == "ana" else "cost"
    fresh.feature["properties"][field] = f"set by {loser}"
    small_store.update_service("mex-tap-dif", fresh.feature, fresh.version, loser)
    final = small_store.get("mex-tap-dif", public=False).feature["properties"]
    assert final["hours"] == "set by ana" and final["cost"] == "set by bob"


def test_many_editors_retrying_lose_nothing(small_store: Store) -> None:
    """Eight threads each add a phone number, retrying on conflict: all eight land."""
    def add_phone(k: int) -> None:
        for _ in range(50):
            current = small_store.get("mex-tap-dif", public=False)
            current.feature["properties"]["phones"].append(f"+52 55 0000 000{k}")
            try:
                small_store.update_service("mex-tap-dif", current.feature, current.version,
                                           f"user{k}")
                return
            except ConflictError:
                continue
        raise AssertionError(f"editor {k} never got through")

    threads = [threading.Thread(target=add_phone, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    stored = small_store.get("mex-tap-dif", public=False)
    assert sorted(stored.feature["properties"]["phones"]) == [
        f"+52 55 0000 000{k}" for k in range(8)]
    assert stored.version == 9


def test_restore_version(small_store: Store) -> None:
    """Any earlier version of a service can be made current again."""
    current = small_store.get("mex-tap-shelter", public=False)
    for hours in ("1", "2"):
        current.feature["properties"]["hours"] = hours
        small_store.update_service("mex-tap-shelter", current.feature, current.version, "ana")
        current = small_store.get("mex-tap-shelter", public=False)
    small_store.restore_version("mex-tap-shelter", 1, "ana")
    restored = small_store.get("mex-tap-shelter", public=False)
    assert restored.feature["properties"]["hours"] == "24 h"
    assert restored.version == 4
    with pytest.raises(NotFoundError, match="no recorded version 99"):
        small_store.restore_version("mex-tap-shelter", 99, "ana")


def test_restore_refuses_when_changed_since(small_store: Store, small_features: list) -> None:
    """Undoing an old change that was edited over since is a conflict, not an overwrite."""
    update = mex(small_features)
    update[0]["properties"]["hours"] = "x"
    change = small_store.apply_update(small_store.preview_update("MEX", update), "ana")
    current = small_store.get(update[0]["properties"]["id"], public=False)
    current.feature["properties"]["hours"] = "y"
    small_store.update_service(current.id, current.feature, current.version, "bob")
    with pytest.raises(ConflictError):
        small_store.restore(change, "ana")


def test_get_public_hides_confidential(small_store: Store) -> None:
    """The public view of a confidential service has no true point or address."""
    public = small_store.get("mex-tap-secret")
    true = small_store.get("mex-tap-secret", public=False)
    assert true.feature["properties"]["address"] == "Calle Secreta 123"
    assert public.feature["properties"]["address"] == ""
    assert public.feature["geometry"]["coordinates"] != true.feature["geometry"]["coordinates"]


def test_reports_open_and_resolve(small_store: Store) -> None:
    """A report is listed for its country until a focal point resolves it."""
    rid = small_store.report_problem("mex-tap-dif", "closed", "  Cerró en mayo  ")
    small_store.report_problem("gtm-tecun-casa", "wrong_info", "Teléfono equivocado")
    mexican = small_store.open_reports("MEX")
    assert [(r.report_id, r.service_id, r.kind, r.comment) for r in mexican] == [
        (rid, "mex-tap-dif", "closed", "Cerró en mayo")]
    assert len(small_store.open_reports()) == 2
    small_store.resolve_report(rid, "ana", "verified by phone")
    assert small_store.open_reports("MEX") == []
    with pytest.raises(StoreError, match="already resolved"):
        small_store.resolve_report(rid, "ana")
    with pytest.raises(NotFoundError):
        small_store.resolve_report(999, "ana")


def test_report_validation(small_store: Store) -> None:
    """Unknown kinds, long comments and unknown services are refused clearly."""
    with pytest.raises(StoreError, match="unknown code 'spam'"):
        small_store.report_problem("mex-tap-dif", "spam", "")
    with pytest.raises(StoreError, match="more than the limit"):
        small_store.report_problem("mex-tap-dif", "other", "x" * 5000)
    with pytest.raises(NotFoundError):
        small_store.report_problem("nope", "closed", "")


def test_report_keeps_no_personal_fields(small_store: Store) -> None:
    """A report records the service, kind, comment and dates, nothing about people."""
    rid = small_store.report_problem("mex-tap-dif", "moved", "")
    report = small_store.open_reports()[0]
    assert report.report_id == rid
    assert set(vars(report)) == {"report_id", "service_id", "country", "kind", "comment",
                                 "created_at", "status", "resolved_by", "resolved_at",
                                 "resolution_note"}


def test_history_filters(small_store: Store) -> None:
    """History filters by service and country, newest first."""
    current = small_store.get("gtm-tecun-casa", public=False)
    current.feature["properties"]["hours"] = "7-15"
    small_store.update_service("gtm-tecun-casa", current.feature, current.version, "luis")
    entries = small_store.history(service_id="gtm-tecun-casa")
    assert [e.action for e in entries] == ["edit", "import"]
    assert all(e.country == "GTM" for e in small_store.history(country="GTM"))
    assert entries[0].services[0].fields[0].field == "hours"


def test_reimported_public_export_keeps_the_confidential_site(small_store):
    """Editing an export of the public registry must not move or erase a shelter's site."""
    from rcm_map.store.base import public_feature

    before = small_store.get("mex-tap-secret", public=False).feature
    public = [public_feature(s.feature) for s in small_store.all_features("MEX")]
    for feature in public:
        if feature["properties"]["id"] == "mex-tap-shelter":
            feature["properties"]["hours"] = "8-16"
    diff = small_store.preview_update("MEX", public, check_countries=False)
    assert [c.service_id for c in diff.changed] == ["mex-tap-shelter"]
    small_store.apply_update(diff, "focal")
    after = small_store.get("mex-tap-secret", public=False).feature
    assert after["geometry"] == before["geometry"]
    assert after["properties"]["address"] == "Calle Secreta 123"


def test_mark_verified_sets_the_dates_and_the_history(small_store: Store) -> None:
    """A verification changes verified_on/verified_by only, as a "verify" change."""
    import datetime as dt

    before = small_store.get("gtm-tecun-casa", public=False)
    version = small_store.mark_verified("gtm-tecun-casa", "ana", before.version,
                                        on=dt.date(2026, 1, 5))
    after = small_store.get("gtm-tecun-casa", public=False)
    assert after.version == version == before.version + 1
    props = after.feature["properties"]
    assert (props["verified_on"], props["verified_by"]) == ("2026-01-05", "ana")
    assert props["source_date"] == before.feature["properties"]["source_date"]
    [record] = small_store.history(service_id="gtm-tecun-casa", limit=1)
    assert record.action == "verify" and record.user == "ana"
    assert [c.field for c in record.services[0].fields] == ["verified_on", "verified_by"]
    found = small_store.search(Query(verified_since=dt.date(2026, 1, 1)))
    assert found.located["id"].tolist() == ["gtm-tecun-casa"]
    with pytest.raises(ConflictError):
        small_store.mark_verified("gtm-tecun-casa", "luis", before.version)
    with pytest.raises(StoreError, match="future"):
        small_store.mark_verified("gtm-tecun-casa", "luis", version,
                                  on=dt.date.today() + dt.timedelta(days=2))


def test_a_change_across_countries_belongs_to_both(small_path: Any, tmp_path: Any) -> None:
    """Issue 12: a hand edit moving a GTM service to MEX was recorded as MEX only; the MEX
    focal point could undo it (rewriting the GTM service) and GTM's history never showed it."""
    import json
    import shutil

    from rcm_map.store import auth
    from rcm_map.store.geojson_store import GeoJSONStore

    path = tmp_path / "actors.geojson"
    shutil.copy(small_path, path)
    store = GeoJSONStore(path)
    store.history()  # the baseline
    data = json.loads(path.read_text("utf-8"))
    for f in data["features"]:
        if f["properties"]["id"] == "gtm-tecun-casa":  # moved across the Suchiate by hand
            f["properties"].update(country="MEX", admin1="MX-CHP", city="Ciudad Hidalgo")
            f["geometry"]["coordinates"] = [-92.1497, 14.6806]
    path.write_text(json.dumps(data), "utf-8")
    record = store.history(service_id="gtm-tecun-casa", limit=1)[0]
    assert record.action == "external_edit"
    assert record.countries == ("GTM", "MEX")
    for country in ("GTM", "MEX"):
        assert record.change_id in [r.change_id for r in store.history(country=country)]
    assert record.change_id not in [r.change_id for r in store.history(country="CAN")]
    for country in ("GTM", "MEX"):
        with pytest.raises(auth.PermissionDenied, match="only a focal point of GTM, MEX"):
            auth.require_countries(auth.FocalPoint("x", country), record.countries)
    assert auth.require_countries(auth.FocalPoint("x", "MEX"), ("MEX",)).country == "MEX"
    store.close()

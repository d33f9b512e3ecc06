"""Pool settings come from rcm_map.core.settings, with errors naming the variable."""

from __future__ import annotations

import pytest

from rcm_map.store.base import StoreError
from rcm_map.store.pgpool import PoolSettings


def test_defaults() -> None:
    assert PoolSettings.from_env({}) == PoolSettings(1, 10, 5.0)


def test_values_from_the_environment() -> None:
    env = {"RCM_MAP_DB_POOL_MIN": "2", "RCM_MAP_DB_POOL_MAX": "20",
           "RCM_MAP_DB_TIMEOUT_S": "1.5"}
    assert PoolSettings.from_env(env) == PoolSettings(2, 20, 1.5)


@pytest.mark.parametrize(("env", "message"), [
    ({"RCM_MAP_DB_POOL_MAX": "many"}, "RCM_MAP_DB_POOL_MAX: expected an integer, instead "
                                      "got: 'many'"),
    ({"RCM_MAP_DB_POOL_MIN": "5", "RCM_MAP_DB_POOL_MAX": "2"}, "cannot exceed its maximum"),
    ({"RCM_MAP_DB_TIMEOUT_S": "0"}, "a timeout above 0"),
])
def test_bad_values_are_named(env: dict[str, str], message: str) -> None:
    with pytest.raises(StoreError, match=message):
        PoolSettings.from_env(env)

"""Bulk seeding writes services in spatial order (neighbours share table pages)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from rcm_map.store.pgbulk import spatial_order


def test_cells_are_contiguous_and_services_without_a_point_come_last() -> None:
    rows = pd.DataFrame({
        "id": ["far", "none", "gua-a", "mex", "gua-b"],
        "public_lat": [40.0, np.nan, 14.61, 19.43, 14.62],
        "public_lon": [-3.7, np.nan, -90.51, -99.13, -90.52],
    })
    ordered = rows["id"].to_numpy()[spatial_order(rows["public_lon"].to_numpy(),
                                                  rows["public_lat"].to_numpy())].tolist()
    assert ordered[-1] == "none"
    assert ordered.index("gua-b") == ordered.index("gua-a") + 1  # one 0.1-degree cell
    assert ordered[:4] == ["gua-a", "gua-b", "mex", "far"]  # cells by latitude strip


def test_order_is_a_permutation() -> None:
    rng = np.random.default_rng(3)
    rows = pd.DataFrame({"public_lat": rng.uniform(5, 60, 500),
                         "public_lon": rng.uniform(-120, -75, 500)})
    order = spatial_order(rows["public_lon"].to_numpy(), rows["public_lat"].to_numpy())
    assert sorted(order.tolist()) == list(range(500))

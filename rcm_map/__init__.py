"""rcm_map: a map of services for migrant children (Regional Conference on Migration)."""

__version__ = "0.1.0"

"""Persistence of the registry: the GeoJSON file (default) and, later, PostGIS."""

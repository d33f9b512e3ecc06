"""Layer 5: files in and out. `importer` builds the registry from the source list,
`export` writes CSV and GeoJSON, `hsds*` and `hxl` speak Open Referral HSDS 3.0 and
HXL; `interop` is the entry point the command line and the app call.

May import the layers below (`core`, `registry`, `search`, `render`).
"""

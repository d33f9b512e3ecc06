"""Layer 1, the floor: vocabularies (`schema`), geometry (`geo`), text folding (`text`),
safe files (`files`), translations (`i18n`) and the confidentiality rules (`safety`).

Modules here import only the standard library, third-party packages and each other;
never another `rcm_map` layer.
"""

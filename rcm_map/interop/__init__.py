"""Exchange formats: Open Referral HSDS 3.0 and HXL-tagged CSV (see docs/interop.md)."""

"""The citizen's own views: sessions and "who looked at my data?" (docs/audit-log.md)."""

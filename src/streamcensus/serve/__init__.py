"""The dashboard and JSON API: read-only pages and endpoints over the serving tables (P3)."""

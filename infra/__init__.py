"""Infrastructure both sides share: settings, the embedded PostgreSQL, database helpers.

Kept apart from `domain/` so the write model never learns where its events are stored.
"""

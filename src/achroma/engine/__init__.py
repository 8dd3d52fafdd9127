"""The local engine: SQLite (source of truth) plus one USearch index per collection."""

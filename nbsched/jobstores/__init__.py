"""Job stores: where jobs live between runs (memory; SQLite or PostgreSQL through SQLAlchemy)."""

__all__: list[str] = []

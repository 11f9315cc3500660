"""Race data store (SQLModel on SQLite or PostgreSQL), ingestion and typed reads."""

"""SQLAlchemy models, alembic migrations and repositories for SQLite and PostgreSQL."""

"""pgwire-conformance Python backend: serves the remote-adapter protocol
(PROTOCOL.md at the repository's top) for psycopg 3 (async and sync),
SQLAlchemy 2.0 (async and sync) and asyncpg from one asyncio process."""

PROTOCOL_VERSION = 1

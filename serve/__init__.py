"""The swarmlens HTTP API and dashboard (FastAPI); imports ``classifier``, never the reverse."""

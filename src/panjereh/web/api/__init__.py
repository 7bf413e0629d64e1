"""The management REST API, /api/v1 (FastAPI: off the inquiry hot path)."""

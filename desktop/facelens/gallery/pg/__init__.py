"""The central gallery on PostgreSQL + pgvector (needs the ``central`` extra: psycopg)."""

from .url import mask_url

__all__ = ["mask_url"]

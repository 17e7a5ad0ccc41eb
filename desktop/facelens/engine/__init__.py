"""The recognition engine: detection, alignment, embedding, quality. Imports no Qt."""

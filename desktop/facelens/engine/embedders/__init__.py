"""Face embedder families, one module each (recipe ``roles.embedder.kind``)."""

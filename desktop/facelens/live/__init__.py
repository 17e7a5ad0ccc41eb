"""Live video: sources, tracking, score smoothing and the recognition pipeline (no Qt)."""

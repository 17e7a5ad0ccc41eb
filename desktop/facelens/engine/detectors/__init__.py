"""Face detector families, one module each (recipe ``roles.detector.kind``)."""

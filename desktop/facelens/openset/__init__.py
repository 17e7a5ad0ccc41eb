"""Open-set recognition: an operating point set by false-accept rate, "not X" negatives,
a linear adapter learned from corrections, and the unknown-face review (no Qt)."""

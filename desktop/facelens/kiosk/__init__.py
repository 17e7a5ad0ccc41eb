"""Access-control kiosk: decision policy, liveness, door actions, admin PIN, audit (Qt-free)."""

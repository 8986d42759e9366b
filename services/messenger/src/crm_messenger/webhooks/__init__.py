"""Meta's webhook in: stored before the 200, applied in batches, quarantined when unreadable."""

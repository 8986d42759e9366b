"""The conversations staff see, their threads, and who answers them (handover)."""

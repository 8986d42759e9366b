"""PDPA erasure and export in the messenger (see `service`)."""

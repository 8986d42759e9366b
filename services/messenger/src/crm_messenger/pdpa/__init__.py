"""PDPA in the messenger: a customer's erasure and data export, each capability doing its part."""

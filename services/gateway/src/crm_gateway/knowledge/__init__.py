"""The knowledge base for staff: the documents the AI answers from, kept by the ai service and
managed through its internal API (`clients/knowledge.py`); no tables here."""

"""What staff must see at once, pushed to their browsers (Server-Sent Events): each replica
copies the events it pushes from `crm.events` into an exclusive queue of its own (ADR 22)."""

"""Replies out through the Send API: accepted under Messenger's rules, sent in order, at most once."""

"""Customers' public Messenger profiles (names, picture), fetched in the background."""

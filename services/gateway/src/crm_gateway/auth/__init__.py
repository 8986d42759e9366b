"""Staff logins: password hashing, access tokens, and the `current_staff` dependency."""

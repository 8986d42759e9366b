"""Clients of the other services' internal APIs (`base`: the token, timeouts and problem mapping
they share), and the problems the gateway answers with when one says no or does not answer."""

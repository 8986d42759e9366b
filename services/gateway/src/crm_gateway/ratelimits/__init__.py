"""Rate limits on the staff API, per staff member and per client address, shared by every
gateway replica through one PostgreSQL table (ADR 10's abuse limits; issue 12).

What is limited and how much is in `service` (the rules, from the `CRM_RATE_LIMIT_*` settings
of `settings`); the counters' SQL in `repository`, their table in `models`; the dependencies the
wiring puts on the routers in `api`. Sign-in has its own, older throttle (`auth`)."""

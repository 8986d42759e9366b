"""Customers: one record per person, however they reached the school.

Messenger contacts become customers in `handlers`/`service` (ids in `ids`); staff keep the
profile, notes and stage in `profile`; `search` finds them; `merges` joins two records of one
person (and an admin undoes it); `timeline` is their history; the 360 and other hot reads are in
`hot_reads`; `privacy` and `imports` are what PDPA and the legacy import may ask. Routes in `api`,
their models in `schemas`, the SQL in `repository` (and `*_repository`), the tables in `models`."""

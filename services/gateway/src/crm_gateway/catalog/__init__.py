"""The catalog: products and their prices, packages of courses, course sessions and their seats.
Routes in `api`, their models in `schemas`, the rules (and what orders and the legacy import may
ask of the catalog) in `service`, the SQL in `repository`, the tables in `models`."""

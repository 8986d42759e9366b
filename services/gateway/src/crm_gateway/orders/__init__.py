"""Orders: taken at the catalog's prices with seats booked (`service`), paid, refunded and cancelled
(`payments`), exported and erased for PDPA (`privacy`). Routes in `api`, their models in
`schemas`, the SQL in `repository`, the tables in `models`."""

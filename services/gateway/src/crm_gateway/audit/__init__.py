"""The audit log: who changed what and when, with personal values masked; read by staff with
`audit:read` (`api`), written by every capability's writes through `service.record`, and the
place a merge is undone from."""

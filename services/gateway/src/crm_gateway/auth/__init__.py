"""Staff sign-in and administration: who may use the CRM and what each role may do.

Sign-in, refresh and sign-out in `api`/`service` (sessions in `sessions_repository`, failed
attempts counted in `throttle_repository`, passwords and tokens in `security`); staff accounts in
`staff_api`/`staff_admin`; roles and permissions in `permissions` (every route declares one); the
other SQL in `repository`, the tables in `models`."""

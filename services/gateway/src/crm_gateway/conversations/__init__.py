"""Staff conversations: the messenger's conversations, read and answered through its internal API
(`crm_gateway.clients.messenger`); the gateway adds who "me" is and who may be assigned."""

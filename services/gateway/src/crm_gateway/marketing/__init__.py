"""Ad numbers and syncs: the marketing service's campaign tree, insights and sync runs, served to
staff through its internal API (`crm_gateway.clients.marketing`)."""

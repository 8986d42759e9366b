"""Every event of the system, one module per aggregate; `crm_contracts` exports them all.

- `messaging`: contacts, messages, conversation modes and AI replies (messenger, ai)
- `customers`: customers created, updated, merged and unmerged (gateway)
- `privacy`: PDPA erasure requests and each service's progress on them
- `catalog`, `orders`: products and their prices; orders, payments and refunds (gateway)
- `marketing`: ad insights that a sync found new or changed (marketing)
- `leads`: a customer's lead score and the insights from their conversation (ai)
- `analytics`: the dashboards' hint to the cache-writer to render stale days again (gateway)
- `attribution`: the ad referral those events carry; `union`: `AnyEvent` and `ALL_EVENTS`

Events carry what their consumers need (ids, texts, amounts, times) so nobody calls back.
"""

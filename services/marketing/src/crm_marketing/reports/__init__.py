"""What staff read: sync runs, the campaign tree with its totals, and insights rolled up by level.

- `syncs`: the sync runs, a page at a time or by id, with what each did
- `tree`: campaigns > ad sets > ads with their totals over a range of days
- `by_level`: numbers per account, campaign, ad set or ad, per day or hour
- `metrics`: how stored insight rows are summed and placed, and the ratios derived from the sums
"""

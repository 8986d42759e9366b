"""The campaign tree: campaign → ad set → ad over a range, every level's figures the sum of the
ads below it and its KPIs `kpis()` of that sum (what those ads are credited with).

Names and the ad set and campaign of each ad come from `ads/structure.json`; an ad it does not
describe (yet) goes under ad set and campaign `unknown`. What no ad explains is its own entry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from crm_contracts.analytics import UNKNOWN, AdNode, kpis

from .schemas import AdOut, AdSetOut, CampaignOut, CampaignsOut, NodeOut
from .service import Ask, Reading, Sum, account_kpis, meta_numbers, range_sum
from .tally import Tally


@dataclass
class _Group:
    """Ads added up under one id (an ad set or a campaign)."""

    name: str | None = None
    figures: Tally = field(default_factory=Tally)
    children: dict[str, _Group] = field(default_factory=dict)
    ads: list[tuple[AdNode, Tally]] = field(default_factory=list)

    def named(self, name: str | None) -> _Group:
        self.name = self.name or name
        return self


def _level(figures: Tally, ask: Ask) -> dict[str, Any]:
    """A level's `kpis` and `meta`: what the ads below it are credited with."""
    return {"kpis": kpis(figures.figures(), ask.attribution, ask.window), "meta": meta_numbers(figures)}


def _adset(adset_id: str, group: _Group, ask: Ask) -> AdSetOut:
    ads = [
        AdOut(ad_id=node.ad_id, ad_name=node.ad_name, status=node.status, **_level(figures, ask))
        for node, figures in group.ads
    ]
    ads.sort(key=lambda ad: (-ad.kpis.spend, ad.ad_id))
    return AdSetOut(adset_id=adset_id, adset_name=group.name, ads=ads, **_level(group.figures, ask))


def _campaign(campaign_id: str, group: _Group, ask: Ask) -> CampaignOut:
    adsets = [_adset(adset_id, adset, ask) for adset_id, adset in group.children.items()]
    adsets.sort(key=lambda adset: (-adset.kpis.spend, adset.adset_id))
    return CampaignOut(
        campaign_id=campaign_id, campaign_name=group.name, adsets=adsets, **_level(group.figures, ask)
    )


def campaigns_of(reading: Reading, ask: Ask, since: date, until: date) -> CampaignsOut:
    """The tree over `since`..`until`, by spend, highest first, at every level."""
    summed: Sum = range_sum(reading, since, until, with_ads=True)
    structure = reading.structure()
    described = structure.ads if structure is not None else {}

    campaigns: dict[str, _Group] = {}
    for ad_id, figures in summed.ads.items():
        node = described.get(ad_id) or AdNode(ad_id=ad_id)
        campaign = campaigns.setdefault(node.campaign_id or UNKNOWN, _Group()).named(node.campaign_name)
        adset = campaign.children.setdefault(node.adset_id or UNKNOWN, _Group()).named(node.adset_name)
        campaign.figures.add(figures)
        adset.figures.add(figures)
        adset.ads.append((node, figures))

    tree = [_campaign(campaign_id, group, ask) for campaign_id, group in campaigns.items()]
    tree.sort(key=lambda campaign: (-campaign.kpis.spend, campaign.campaign_id))
    unattributed = summed.unattributed
    return CampaignsOut(
        attribution=ask.attribution,
        cohort_window=ask.window,
        since=since,
        until=until,
        campaigns=tree,
        # All of its revenue is unattributed: attributed revenue zero, ROAS none (it has no spend).
        unattributed=NodeOut(
            kpis=kpis(
                unattributed.figures(), ask.attribution, ask.window, unattributed=unattributed.figures()
            ),
            meta=meta_numbers(unattributed),
        ),
        total=NodeOut(kpis=account_kpis(summed, ask), meta=meta_numbers(summed.total)),
        **reading.freshness(ask),
    )

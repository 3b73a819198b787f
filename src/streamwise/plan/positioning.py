"""Positioning statements derived from the competitor map and the research.

The statement follows Moore's template (*Crossing the Chasm*, 1991): *For* (target customer)
*who* (need), (brand) *is a* (category) *that* (key benefit). *Unlike* (main competitor),
(proof). Each part is chosen from data: the need is the segment's top MaxDiff item, the category
its largest spending categories, the differentiator the rated attribute on which we lead the
segment's nearest competitor by most (or trail it least), the proof a feature we offer that it
lacks, or the rating itself.
"""

from __future__ import annotations

import pandas as pd

from streamwise.plan.document import Evidence, Positioning
from streamwise.plan.profiles import SegmentProfiles

__all__ = ["positioning"]


def _rating_evidence(brand: str, attribute: str, kind: str, value: float) -> Evidence:
    key = {"brand": brand, "attribute": attribute, "kind": kind}
    return Evidence(table="competitors", column="value", key=key, value=value)


def positioning(
    profiles: SegmentProfiles, competitors: pd.DataFrame, brand: str, segment: str, persona: str
) -> Positioning:
    """The positioning statement for one target segment.

    Parameters
    ----------
    profiles
        Segment profiles (needs, categories, nearest competitor).
    competitors
        The ``competitors`` table (``brand, attribute, kind, value``).
    brand
        Our brand.
    segment, persona
        The target segment and its persona's name.
    """
    evidence: list[Evidence] = []
    needs = profiles.items(segment, "maxdiff")
    if len(needs):
        item = str(needs.index[0])
        need = f"want {item.replace('_', ' ')} gear above all"
        evidence.append(profiles.evidence(segment, "maxdiff", item))
    else:
        need = "need outdoor gear they can rely on"
    cats = profiles.items(segment, "category_share").head(2)
    category = " and ".join(str(c) for c in cats.index) + " brand" if len(cats) else "outdoor brand"
    evidence += [profiles.evidence(segment, "category_share", str(c)) for c in cats.index]
    rival = profiles.label(segment, "distance_to_competitor")
    ratings = competitors[competitors["kind"] == "rating"].pivot_table(
        index="attribute", columns="brand", values="value", aggfunc="mean"
    )
    differentiator, proof = "brings what they value", "our customers say so"
    if rival is not None and {brand, rival} <= set(ratings.columns):
        evidence.append(profiles.evidence(segment, "distance_to_competitor"))
        lead = (ratings[brand] - ratings[rival]).sort_values(ascending=False)
        attr = str(lead.index[0])
        ours, theirs = float(ratings.at[attr, brand]), float(ratings.at[attr, rival])
        evidence += [_rating_evidence(brand, attr, "rating", ours),
                     _rating_evidence(rival, attr, "rating", theirs)]  # fmt: skip
        word = attr.replace("_", " ")
        if lead.iloc[0] > 0:
            differentiator = f"leads on {word}"
            proof = f"we are rated {ours:.1f} on {word} against {theirs:.1f}"
        else:
            differentiator = f"closes the gap on {word}"
            proof = f"we trail by only {theirs - ours:.1f} on {word} ({ours:.1f} vs {theirs:.1f})"
        feats = competitors[competitors["kind"] == "feature"].pivot_table(
            index="attribute", columns="brand", values="value", aggfunc="max"
        )
        if {brand, rival} <= set(feats.columns):
            only_us = feats[(feats[brand] > 0) & (feats[rival] <= 0)].index
            if len(only_us):
                feat = str(sorted(only_us)[0])
                proof += f", and we offer {feat.replace('_', ' ')}, which {rival} does not"
                evidence += [
                    _rating_evidence(b, feat, "feature", float(feats.at[feat, b]))
                    for b in (brand, rival)
                ]
    else:
        rival = "the alternatives"
    for_whom = f"{segment} like {persona.split(' (')[0]}"
    statement = (
        f"For {for_whom}, who {need}, {brand} is the {category} that {differentiator}. "
        f"Unlike {rival}, {proof}."
    )
    return Positioning(segment=segment, for_whom=for_whom, need=need, category=category,
                       differentiator=differentiator, proof=proof, statement=statement,
                       evidence=tuple(evidence))  # fmt: skip

"""Buyer personas: one card per segment, every statement tied to the number it came from.

A persona here is a summary of evidence, not a story: each claim is built from rows of
``segment_profiles`` (:mod:`streamwise.plan.profiles`) and carries them as
:class:`~streamwise.plan.document.Evidence`. A segment with too few respondents or customers, or
with no customer data linked, gets a card that says so (``sufficient_evidence=False``) and lists
what is missing, rather than a confident portrait drawn from a handful of answers.
"""

from __future__ import annotations

import hashlib

import numpy as np

from streamwise.plan.document import Claim, PersonaCard
from streamwise.plan.profiles import SegmentProfiles

__all__ = ["build_personas"]

# Given names by initial, so a persona's name echoes its segment (Wendy for Weekend Campers).
_NAMES = {
    "A": ("Alex", "Anna", "Arjun"), "B": ("Ben", "Bea", "Bruno"), "C": ("Chloe", "Carlos"),
    "D": ("Dana", "Diego"), "E": ("Ella", "Eitan"), "F": ("Farah", "Finn"),
    "G": ("Grace", "Gabe"), "H": ("Hana", "Hugo"), "I": ("Iris", "Ivan"), "J": ("Jade", "Jonah"),
    "K": ("Kira", "Kofi"), "L": ("Lena", "Luis"), "M": ("Maya", "Marco"), "N": ("Nora", "Nils"),
    "O": ("Olive", "Omar"), "P": ("Priya", "Paul"), "Q": ("Quinn",), "R": ("Rosa", "Ravi"),
    "S": ("Sara", "Sam"), "T": ("Tess", "Theo"), "U": ("Uma", "Uri"), "V": ("Vera", "Vik"),
    "W": ("Wendy", "Will"), "X": ("Xena",), "Y": ("Yara", "Yusuf"), "Z": ("Zoe", "Zane"),
}  # fmt: skip


def _name(segment: str, seed: int) -> str:
    options = _NAMES.get(segment[:1].upper(), ("Robin", "Kim", "Alex"))
    digest = hashlib.sha256(f"{seed}:{segment}".encode()).digest()
    return options[digest[0] % len(options)]


def _pct(x: float) -> str:
    return f"{x:.0%}"


def _money(x: float, currency: str) -> str:
    return f"{x:,.0f} {currency}"


def _claims(p: SegmentProfiles, seg: str, currency: str) -> list[Claim]:
    """Every claim the data supports for one segment, in reading order."""
    out: list[Claim] = []
    ev = p.evidence

    def add(text: str, kind: str, *metrics: tuple[str, str | None]) -> None:
        out.append(Claim(text=text, kind=kind, evidence=tuple(ev(seg, m, i) for m, i in metrics)))  # type: ignore[arg-type]

    n, share = p.value(seg, "customers"), p.value(seg, "customer_share")
    if n is not None and share is not None:
        add(f"{n:,.0f} customers, {_pct(share)} of all customers.", "fact",
            ("customers", None), ("customer_share", None))  # fmt: skip
    clv, alive = p.value(seg, "clv_mean"), p.value(seg, "p_alive_mean")
    if clv is not None and alive is not None:
        add(f"Worth {_money(clv, currency)} each over the next year (expected CLV); "
            f"{_pct(alive)} of them are still active.", "value",
            ("clv_mean", None), ("p_alive_mean", None))  # fmt: skip
    cats = p.items(seg, "category_share").head(2)
    if len(cats):
        text = " and ".join(f"{c} ({_pct(v)})" for c, v in cats.items())
        add(f"Spends most on {text}.", "preference", *[("category_share", c) for c in cats.index])
    needs = p.items(seg, "maxdiff").head(3)
    if len(needs):
        text = ", ".join(f"{i.replace('_', ' ')} ({v:+.2f})" for i, v in needs.items())
        add(f"What matters most (MaxDiff best–worst score): {text}.", "need",
            *[("maxdiff", i) for i in needs.index])  # fmt: skip
    importance = p.items(seg, "conjoint_importance")
    wtp = p.items(seg, "conjoint_wtp")
    valued = {str(i).split("=", 1)[0] for i in wtp.index}  # attributes priced in money
    beyond_price = importance[importance.index.isin(valued)] if valued else importance
    if len(beyond_price):
        attr, imp = next(iter(beyond_price.items()))
        text = f"In choice tasks, {attr.replace('_', ' ')} matters most after price"
        text = text if valued else f"In choice tasks, {attr.replace('_', ' ')} matters most"
        text += f" ({_pct(imp)} importance)"
        metrics: list[tuple[str, str | None]] = [("conjoint_importance", attr)]
        best = wtp[wtp.index.str.startswith(f"{attr}=")].head(1)
        if len(best) and best.iloc[0] > 0:
            level = str(best.index[0]).split("=", 1)[1]
            text += f"; they would pay {_money(float(best.iloc[0]), currency)} more for {level}"
            metrics.append(("conjoint_wtp", str(best.index[0])))
        add(text + ".", "preference", *metrics)
    themes = p.items(seg, "theme").head(1)
    if len(themes):
        label, value = next(iter(themes.items()))
        add(f"Talks most about “{label}” ({_pct(value)} of their comments).", "need",
            ("theme", label))  # fmt: skip
    pmc, opp, pme = (p.value(seg, f"price_{k}") for k in ("pmc", "opp", "pme"))
    if None not in (pmc, opp, pme):
        add(f"Accepts prices from {_money(pmc, currency)} to {_money(pme, currency)}; "  # type: ignore[arg-type]
            f"optimal {_money(opp, currency)} (Van Westendorp).", "value",  # type: ignore[arg-type]
            ("price_pmc", None), ("price_opp", None), ("price_pme", None))  # fmt: skip
    nps, lo, hi = (p.value(seg, k) for k in ("nps", "nps_lower", "nps_upper"))
    if None not in (nps, lo, hi):
        add(f"NPS {nps:+.0f} (95 % interval {lo:+.0f} to {hi:+.0f}).", "fact",  # type: ignore[str-format]
            ("nps", None), ("nps_lower", None), ("nps_upper", None))  # fmt: skip
    sales = p.items(seg, "sales_channel_share").head(1)
    if len(sales):
        ch, v = next(iter(sales.items()))
        add(f"Buys through {ch} ({_pct(v)} of orders).", "channel", ("sales_channel_share", ch))
    media = p.items(seg, "media_share").head(2)
    if len(media):
        (c1, v1), *rest = media.items()
        more = "".join(f" and {c} ({_pct(v)})" for c, v in rest)
        add(f"Engages most through {c1} ({_pct(v1)} of their marketing touches){more}.", "channel",
            *[("media_share", c) for c in media.index])  # fmt: skip
    hours = p.items(seg, "open_hour").head(1)
    consent = p.value(seg, "email_consent")
    if len(hours) and consent is not None:
        h, v = next(iter(hours.items()))
        add(f"Opens e-mail most around {h} local time ({_pct(v)} of opens); "
            f"{_pct(consent)} agreed to marketing e-mail.", "channel",
            ("open_hour", h), ("email_consent", None))  # fmt: skip
    near = p.label(seg, "distance_to_competitor")
    if near is not None and p.value(seg, "white_space") is not None:
        if p.value(seg, "white_space"):
            add(f"No brand sits near their ideal (nearest: {near}): white space.", "fact",
                ("white_space", None), ("distance_to_competitor", None))  # fmt: skip
        else:
            add(f"Closest competitor to their ideal: {near} (distance "
                f"{p.value(seg, 'distance_to_competitor'):.2f}; ours "
                f"{p.value(seg, 'distance_to_us'):.2f} on the perceptual map).", "fact",
                ("distance_to_competitor", None), ("distance_to_us", None))  # fmt: skip
    return out


def _summary(p: SegmentProfiles, seg: str, currency: str) -> str:
    """One line a reader can hold on to: who, how valuable, what they buy, where, what for."""
    parts = []
    share, clv = p.value(seg, "customer_share"), p.value(seg, "clv_mean")
    if share is not None and clv is not None:
        parts.append(f"{_pct(share)} of customers, worth {_money(clv, currency)} each a year")
    cats, sales = p.items(seg, "category_share"), p.items(seg, "sales_channel_share")
    if len(cats):
        where = f" through {sales.index[0]}" if len(sales) else ""
        parts.append(f"buys {' and '.join(str(c) for c in cats.index[:2])}{where}")
    needs = p.items(seg, "maxdiff")
    if len(needs):
        parts.append(f"wants {str(needs.index[0]).replace('_', ' ')} first")
    return (seg + ": " + "; ".join(parts) + ".") if parts else ""


def build_personas(
    profiles: SegmentProfiles,
    *,
    currency: str = "",
    seed: int = 0,
    min_respondents: int = 30,
    min_customers: int = 30,
) -> tuple[PersonaCard, ...]:
    """One persona card per segment, largest segment first.

    Parameters
    ----------
    profiles
        :func:`~streamwise.plan.profiles.build_profiles`'s result.
    currency
        Shown after money amounts.
    seed
        Chooses the persona's given name (same seed, same names).
    min_respondents, min_customers
        Below these counts a card is marked as resting on too little evidence.
    """
    cards = []
    for seg in profiles.segments:
        claims = _claims(profiles, seg, currency)
        missing = []
        respondents = profiles.value(seg, "respondents") or 0
        customers = profiles.value(seg, "customers")
        if respondents < min_respondents:
            missing.append(
                f"only {respondents:.0f} survey respondents (fewer than {min_respondents})"
            )
        if customers is None:
            missing.append(
                "no customers linked to this segment (run `streamwise customers segments` and "
                "`streamwise customers clv`, and ask customers the segment question)"
            )
        elif customers < min_customers:
            missing.append(f"only {customers:.0f} customers (fewer than {min_customers})")
        kinds = {c.kind for c in claims}
        for kind, what in (("need", "needs (MaxDiff or themes)"), ("channel", "channels")):
            if kind not in kinds:
                missing.append(f"no evidence on {what}")
        if missing:
            claims.append(Claim(text="Too little evidence: " + "; ".join(missing) + ".",
                                kind="caveat"))  # fmt: skip
        share = profiles.value(seg, "customer_share")
        if share is None:
            share = profiles.value(seg, "respondent_share") or 0.0
        summary = _summary(profiles, seg, currency)
        cards.append(
            PersonaCard(
                segment=seg,
                name=f"{_name(seg, seed)} ({seg})",
                summary=summary or "Not enough data for a summary.",
                size=int(customers if customers is not None else respondents),
                share=float(np.round(share, 6)),
                claims=tuple(claims),
                sufficient_evidence=not missing,
                missing=tuple(missing),
            )
        )
    return tuple(cards)

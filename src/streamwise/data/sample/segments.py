"""The latent customer segments of the sample business and the people in them.

Each segment plants behaviour that later analyses must recover: BG/NBD purchase and dropout
parameters (Fader, Hardie & Lee 2005, time unit weeks), Gamma-Gamma spend parameters (Fader, Hardie
& Lee 2005b, in the notation of the ``lifetimes`` package), a category mix, a sales-channel mix, a
media-channel preference, an hour of day at which the segment is active (local time), consent rates
(e-mail, text messages, advertising) and a country mix.

This module also draws the attributes of individual people (names, e-mails, phones, countries,
time zones, local times of day), vectorised with numpy and formatted with pyarrow.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pyarrow.compute as pc

from streamwise.data.sample.events import digits, join_strings, take_strings
from streamwise.data.sample.names import CATEGORIES, MEDIA_CHANNELS, SALES_CHANNELS, SEGMENTS

__all__ = [
    "COUNTRIES",
    "SEGMENT_SPECS",
    "TIMEZONES",
    "SegmentTruth",
    "draw_consents",
    "draw_countries",
    "draw_local_seconds",
    "draw_people",
    "tz_offsets_seconds",
]

DAY = 86_400


@dataclass(frozen=True)
class SegmentTruth:
    """The planted behaviour of one segment.

    Parameters
    ----------
    name, share
        Segment name (from ``names.SEGMENTS``) and its share of customers.
    r, alpha
        BG/NBD purchase-rate heterogeneity: weekly rate ``lam ~ Gamma(shape=r, rate=alpha)``.
    a, b
        BG/NBD dropout heterogeneity: ``p ~ Beta(a, b)``; after each repeat purchase a customer
        becomes inactive with probability ``p``.
    gg_p, gg_q, gg_v
        Gamma-Gamma spend (lifetimes' notation): order value ``~ Gamma(shape=gg_p, rate=nu)``
        with ``nu ~ Gamma(shape=gg_q, rate=gg_v)``.
    category_mix, category_concentration
        Mean share of order lines per category; each customer's own mix is drawn from
        ``Dirichlet(category_concentration * category_mix)``.
    sales_channel_mix, sales_channel_concentration
        Mean share of orders per sales channel; each customer's own mix is Dirichlet as above.
    media_preference
        Probability of each media channel for a touch of a journey (e-mail touches only reach
        customers who consented; their other channels are renormalised).
    preferred_hour, hour_sd, hour_focus
        Local hour of day around which the segment is active (orders, e-mail opens, events):
        a share ``hour_focus`` of activity falls at ``Normal(preferred_hour, hour_sd)`` hours,
        the rest uniformly between 07:00 and 23:00 local time.
    email_consent_rate
        Probability that a customer agreed to marketing e-mail.
    sms_consent_rate, ads_consent_rate
        Probability that a customer agreed to marketing text messages, and to being matched for
        advertising (customer-list audiences). Drawn by :func:`draw_consents` from a random
        stream of their own, so adding them changed no other draw of the sample.
    country_mix
        Probability of each country (ISO 3166-1 alpha-2).
    birth_year_mean, birth_year_sd
        Year of birth ~ Normal, rounded and clipped to 1940..2006.
    """

    name: str
    share: float
    r: float
    alpha: float
    a: float
    b: float
    gg_p: float
    gg_q: float
    gg_v: float
    category_mix: dict[str, float]
    category_concentration: float
    sales_channel_mix: dict[str, float]
    sales_channel_concentration: float
    media_preference: dict[str, float]
    preferred_hour: float
    hour_sd: float
    hour_focus: float
    email_consent_rate: float
    country_mix: dict[str, float]
    birth_year_mean: float
    birth_year_sd: float
    sms_consent_rate: float = 0.0
    ads_consent_rate: float = 0.0

    @property
    def mean_weekly_rate(self) -> float:
        """Mean purchase rate per week while alive, ``r / alpha``."""
        return self.r / self.alpha

    @property
    def mean_dropout(self) -> float:
        """Mean dropout probability after a repeat purchase, ``a / (a + b)``."""
        return self.a / (self.a + self.b)

    @property
    def mean_order_value(self) -> float:
        """Expected value of one order, ``gg_p * gg_v / (gg_q - 1)``."""
        return self.gg_p * self.gg_v / (self.gg_q - 1.0)

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form, with the derived means."""
        out = asdict(self)
        out["mean_weekly_rate"] = self.mean_weekly_rate
        out["mean_dropout"] = self.mean_dropout
        out["mean_order_value"] = self.mean_order_value
        return out


def _mix(keys: tuple[str, ...], weights: dict[str, float], floor: float) -> dict[str, float]:
    raw = np.array([weights.get(k, 0.0) + floor for k in keys], dtype=float)
    raw /= raw.sum()
    return {k: round(float(v), 6) for k, v in zip(keys, raw, strict=True)}


def _spec(
    index: int,
    *,
    share: float,
    bgnbd: tuple[float, float, float, float],
    gamma_gamma: tuple[float, float, float],
    categories: dict[str, float],
    sales: dict[str, float],
    media: dict[str, float],
    hour: float,
    consent: float,
    countries: dict[str, float],
    birth: float,
    sms: float,
    ads: float,
) -> SegmentTruth:
    r, alpha, a, b = bgnbd
    gg_p, gg_q, gg_v = gamma_gamma
    return SegmentTruth(
        name=SEGMENTS[index],
        share=share,
        r=r,
        alpha=alpha,
        a=a,
        b=b,
        gg_p=gg_p,
        gg_q=gg_q,
        gg_v=gg_v,
        category_mix=_mix(CATEGORIES, categories, 0.02),
        category_concentration=30.0,
        sales_channel_mix=_mix(SALES_CHANNELS, sales, 0.03),
        sales_channel_concentration=30.0,
        media_preference=_mix(MEDIA_CHANNELS, media, 0.0),
        preferred_hour=hour,
        hour_sd=1.5,
        hour_focus=0.7,
        email_consent_rate=consent,
        country_mix=_mix(tuple(countries), countries, 0.0),
        birth_year_mean=birth,
        birth_year_sd=10.0,
        sms_consent_rate=sms,
        ads_consent_rate=ads,
    )


#: The five planted segments, in the order of ``names.SEGMENTS``. Media preferences are over
#: search, social, display, video, affiliate, email.
SEGMENT_SPECS: tuple[SegmentTruth, ...] = (
    _spec(
        0,  # Trail Enthusiasts: frequent, mid spend, backpacks and footwear, web, early risers
        share=0.30,
        bgnbd=(2.0, 9.0, 1.0, 20.0),
        gamma_gamma=(6.0, 4.0, 55.0),
        categories={"backpacks": 0.42, "footwear": 0.38, "apparel": 0.06},
        sales={"web": 0.80},
        media={
            "search": 0.30,
            "social": 0.20,
            "display": 0.08,
            "video": 0.07,
            "affiliate": 0.10,
            "email": 0.25,
        },
        hour=7.0,
        consent=0.70,
        countries={"US": 0.55, "CA": 0.15, "GB": 0.15, "AU": 0.15},
        birth=1988.0,
        sms=0.35,
        ads=0.65,
    ),
    _spec(
        1,  # Weekend Campers: occasional, tents and sleeping, in store, evenings
        share=0.25,
        bgnbd=(1.5, 15.0, 1.0, 10.0),
        gamma_gamma=(5.0, 5.0, 120.0),
        categories={"tents": 0.42, "sleeping": 0.38, "camp kitchen": 0.06},
        sales={"store": 0.80},
        media={
            "search": 0.20,
            "social": 0.30,
            "display": 0.10,
            "video": 0.20,
            "affiliate": 0.05,
            "email": 0.15,
        },
        hour=19.0,
        consent=0.60,
        countries={"US": 0.70, "CA": 0.20, "GB": 0.10},
        birth=1982.0,
        sms=0.25,
        ads=0.50,
    ),
    _spec(
        2,  # Bargain Hunters: very frequent, small baskets, apparel, marketplaces, lunchtime
        share=0.20,
        bgnbd=(3.0, 8.5, 1.2, 15.0),
        gamma_gamma=(4.0, 6.0, 56.0),
        categories={"apparel": 0.75, "footwear": 0.06},
        sales={"marketplace": 0.80},
        media={
            "search": 0.20,
            "social": 0.10,
            "display": 0.10,
            "video": 0.05,
            "affiliate": 0.35,
            "email": 0.20,
        },
        hour=12.0,
        consent=0.80,
        countries={"US": 0.50, "GB": 0.25, "NL": 0.10, "DE": 0.15},
        birth=1995.0,
        sms=0.45,
        ads=0.70,
    ),
    _spec(
        3,  # Gift Shoppers: rare, large orders, camp kitchen gifts, by phone, late evenings
        share=0.15,
        bgnbd=(1.0, 20.0, 1.5, 6.0),
        gamma_gamma=(3.0, 5.0, 266.0),
        categories={"camp kitchen": 0.75, "sleeping": 0.06},
        sales={"phone": 0.55, "web": 0.25},
        media={
            "search": 0.35,
            "social": 0.25,
            "display": 0.15,
            "video": 0.10,
            "affiliate": 0.10,
            "email": 0.05,
        },
        hour=21.0,
        consent=0.35,
        countries={"US": 0.60, "CA": 0.10, "GB": 0.20, "FR": 0.10},
        birth=1970.0,
        sms=0.20,
        ads=0.40,
    ),
    _spec(
        4,  # Alpine Pros: frequent, high spend, climbing and winter sports, app, afternoons
        share=0.10,
        bgnbd=(2.5, 8.5, 0.8, 25.0),
        gamma_gamma=(5.0, 7.0, 420.0),
        categories={"climbing": 0.45, "winter sports": 0.42},
        sales={"app": 0.80},
        media={
            "search": 0.25,
            "social": 0.10,
            "display": 0.05,
            "video": 0.30,
            "affiliate": 0.05,
            "email": 0.25,
        },
        hour=16.0,
        consent=0.55,
        countries={"DE": 0.30, "FR": 0.25, "US": 0.30, "CA": 0.15},
        birth=1985.0,
        sms=0.30,
        ads=0.55,
    ),
)

#: Countries of customers: ISO code, calling code, national-number length (digits after the
#: calling code and the fixed leading digits of the time zone's prefix).
COUNTRIES: dict[str, tuple[str, int]] = {
    "US": ("1", 7),
    "CA": ("1", 7),
    "GB": ("44", 9),
    "DE": ("49", 8),
    "FR": ("33", 8),
    "NL": ("31", 8),
    "AU": ("61", 8),
}

#: Time zones per country: (country, IANA zone, standard UTC offset in hours, weight in country,
#: phone prefix after the calling code).
TIMEZONES: tuple[tuple[str, str, float, float, str], ...] = (
    ("US", "America/New_York", -5.0, 0.45, "212"),
    ("US", "America/Chicago", -6.0, 0.30, "312"),
    ("US", "America/Denver", -7.0, 0.08, "303"),
    ("US", "America/Los_Angeles", -8.0, 0.17, "213"),
    ("CA", "America/Toronto", -5.0, 0.60, "416"),
    ("CA", "America/Vancouver", -8.0, 0.40, "604"),
    ("GB", "Europe/London", 0.0, 1.0, "7"),
    ("DE", "Europe/Berlin", 1.0, 1.0, "15"),
    ("FR", "Europe/Paris", 1.0, 1.0, "6"),
    ("NL", "Europe/Amsterdam", 1.0, 1.0, "6"),
    ("AU", "Australia/Sydney", 10.0, 0.70, "4"),
    ("AU", "Australia/Perth", 8.0, 0.30, "4"),
)

_FIRST = [
    "Ana",
    "Ben",
    "Carla",
    "David",
    "Elena",
    "Finn",
    "Grace",
    "Hugo",
    "Iris",
    "Jonas",
    "Kai",
    "Lena",
    "Marco",
    "Nina",
    "Omar",
    "Paula",
    "Quinn",
    "Rosa",
    "Sam",
    "Tara",
    "Uma",
    "Victor",
    "Wendy",
    "Xavier",
    "Yara",
    "Zoe",
    "Liam",
    "Emma",
    "Noah",
    "Olivia",
    "Lucas",
    "Mia",
    "Leo",
    "Sofia",
    "Ethan",
    "Chloe",
    "Mateo",
    "Ava",
    "Arjun",
    "Priya",
    "Kenji",
    "Aiko",
    "Mehmet",
    "Leila",
    "Tomas",
    "Ingrid",
    "Pierre",
    "Claire",
    "Jan",
    "Sanne",
    "Felix",
    "Hanna",
    "Oscar",
    "Maya",
    "Ravi",
    "Amara",
    "Diego",
    "Lucia",
    "Sean",
    "Nora",
]
_LAST = [
    "Smith",
    "Johnson",
    "Brown",
    "Garcia",
    "Miller",
    "Davis",
    "Wilson",
    "Taylor",
    "Clark",
    "Lewis",
    "Walker",
    "Young",
    "King",
    "Wright",
    "Lopez",
    "Hill",
    "Green",
    "Adams",
    "Baker",
    "Nelson",
    "Carter",
    "Mitchell",
    "Roberts",
    "Turner",
    "Phillips",
    "Campbell",
    "Parker",
    "Evans",
    "Edwards",
    "Collins",
    "Stewart",
    "Morris",
    "Murphy",
    "Cook",
    "Rogers",
    "Morgan",
    "Cooper",
    "Peterson",
    "Reed",
    "Bailey",
    "Kelly",
    "Howard",
    "Ward",
    "Cox",
    "Richardson",
    "Wood",
    "Watson",
    "Brooks",
    "Bennett",
    "Gray",
    "Hughes",
    "Price",
    "Sanders",
    "Myers",
    "Long",
    "Ross",
    "Foster",
    "Mueller",
    "Schmidt",
    "Dubois",
    "Martin",
    "Jansen",
    "Visser",
    "Nguyen",
    "Tanaka",
    "Silva",
    "Rossi",
]
_DOMAINS = ("example.com", "example.org", "example.net")


def draw_countries(rng: np.random.Generator, segment: np.ndarray) -> np.ndarray:
    """Draw a time-zone row (index into :data:`TIMEZONES`) for each customer of ``segment``."""
    n_tz = len(TIMEZONES)
    probs = np.zeros((len(SEGMENT_SPECS), n_tz))
    for s, spec in enumerate(SEGMENT_SPECS):
        for j, (country, _tz, _off, weight, _pre) in enumerate(TIMEZONES):
            probs[s, j] = spec.country_mix.get(country, 0.0) * weight
        probs[s] /= probs[s].sum()
    cum = np.cumsum(probs, axis=1)
    cum[:, -1] = 1.0
    u = rng.random(len(segment))
    return (u[:, None] >= cum[segment]).sum(axis=1).astype(np.int64)


def draw_local_seconds(rng: np.random.Generator, segment: np.ndarray) -> np.ndarray:
    """Draw a local time of day in seconds (0..86399) with each segment's activity pattern."""
    n = len(segment)
    pref = np.array([s.preferred_hour for s in SEGMENT_SPECS])[segment]
    sd = np.array([s.hour_sd for s in SEGMENT_SPECS])[segment]
    focus = np.array([s.hour_focus for s in SEGMENT_SPECS])[segment]
    focused = rng.random(n) < focus
    hours = np.where(focused, pref + sd * rng.standard_normal(n), rng.uniform(7.0, 23.0, n))
    secs = np.floor(np.mod(hours, 24.0) * 3600.0).astype(np.int64)
    return np.clip(secs, 0, DAY - 1)


def draw_people(
    rng: np.random.Generator, number: np.ndarray, segment: np.ndarray, tz_row: np.ndarray
) -> dict[str, Any]:
    """Draw names, e-mails, phones, birth years and consent for customers.

    Parameters
    ----------
    rng
        Random generator of this chunk.
    number
        Global customer numbers (1-based), used to make e-mail addresses unique.
    segment, tz_row
        Segment index and time-zone row of each customer.

    Returns
    -------
    dict
        ``first_name``, ``last_name``, ``email``, ``phone``, ``country``, ``timezone`` (pyarrow
        string arrays), ``birth_year`` (int64), ``email_consent`` (bool).
    """
    n = len(number)
    first_idx = rng.integers(0, len(_FIRST), n)
    last_idx = rng.integers(0, len(_LAST), n)
    first = take_strings(_FIRST, first_idx)
    last = take_strings(_LAST, last_idx)
    domain = take_strings(_DOMAINS, rng.integers(0, len(_DOMAINS), n))
    local = join_strings(
        [pc.utf8_lower(first), ".", pc.utf8_lower(last), ".", digits(number, 1)], sep=""
    )
    email = join_strings([local, "@", domain], sep="")

    country_codes = [row[0] for row in TIMEZONES]
    calling = [COUNTRIES[c][0] + row[4] for c, row in zip(country_codes, TIMEZONES, strict=True)]
    lengths = np.array([COUNTRIES[c][1] for c in country_codes])[tz_row]
    lo = 2 * 10 ** (lengths - 1)
    national = lo + np.floor(rng.random(n) * (10**lengths - lo)).astype(np.int64)
    phone = join_strings(["+", take_strings(calling, tz_row), digits(national, 1)], sep="")

    mean = np.array([s.birth_year_mean for s in SEGMENT_SPECS])[segment]
    sd = np.array([s.birth_year_sd for s in SEGMENT_SPECS])[segment]
    birth = np.clip(np.rint(mean + sd * rng.standard_normal(n)), 1940, 2006).astype(np.int64)
    consent_rate = np.array([s.email_consent_rate for s in SEGMENT_SPECS])[segment]
    consent = rng.random(n) < consent_rate
    return {
        "first_name": first,
        "last_name": last,
        "email": email,
        "phone": phone,
        "country": take_strings(country_codes, tz_row),
        "timezone": take_strings([row[1] for row in TIMEZONES], tz_row),
        "birth_year": birth,
        "email_consent": consent,
    }


def draw_consents(rng: np.random.Generator, segment: np.ndarray) -> dict[str, np.ndarray]:
    """Draw consent to text messages and to advertising for customers of ``segment``.

    ``rng`` must be a stream of its own (the commerce generator spawns one per chunk for consent
    alone), so that these draws leave every other planted value of the sample as it was.

    Returns
    -------
    dict
        ``sms_consent`` and ``ads_consent`` (bool arrays).
    """
    n = len(segment)
    sms = np.array([s.sms_consent_rate for s in SEGMENT_SPECS])[segment]
    ads = np.array([s.ads_consent_rate for s in SEGMENT_SPECS])[segment]
    return {"sms_consent": rng.random(n) < sms, "ads_consent": rng.random(n) < ads}


def tz_offsets_seconds(tz_row: np.ndarray) -> np.ndarray:
    """Standard UTC offset in seconds of each time-zone row (daylight saving is ignored)."""
    return (np.array([row[2] for row in TIMEZONES]) * 3600.0).astype(np.int64)[tz_row]

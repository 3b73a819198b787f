"""The customer-list upload formats of the large ad platforms, declared once.

Each :class:`Platform` names the file's columns (header, which normalised identifier fills it and
whether it is SHA-256 hashed), how the platform wants e-mail addresses and phone numbers
normalised before hashing, and where that is documented. The export (:mod:`.ads`) compiles these
declarations into SQL; ``docs/ads.md`` describes them for people. Headers and rules are the
platforms' own words as published in the sources listed with each platform (checked 2026); when a
platform documents no rule for an identifier, that identifier is left out of its file rather than
guessed.

Identifiers that reach a file are minimised: a platform gets only the identifiers it can match on
with the data the customers contract holds (e.g. Google matches first and last names only together
with a postal code, which the contract lacks, so its file has no name columns).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from streamwise.errors import ConfigError

__all__ = [
    "PLATFORMS",
    "EmailRule",
    "Field",
    "OutputColumn",
    "PhoneFormat",
    "Platform",
    "get_platform",
]

#: A normalised value of a customer (see :mod:`.ads_normalise`), or ``blank`` for a column the
#: platform's template requires but Streamwise leaves empty, or ``value`` (the seed's CLV).
Field = Literal[
    "email", "phone", "first_name", "last_name", "country", "birth_year", "value", "blank"
]
#: ``plain``: trimmed and lower-cased. ``gmail_dots``: also without the dots of the local part of
#: gmail.com and googlemail.com addresses (Google). ``drop_plus``: also without a ``+tag`` in the
#: local part, whatever the domain (TikTok).
EmailRule = Literal["plain", "gmail_dots", "drop_plus"]
#: ``e164``: ``+`` and digits (``+16502531234``); ``digits``: the same without ``+``.
PhoneFormat = Literal["e164", "digits"]


@dataclass(frozen=True)
class OutputColumn:
    """One column of an upload file: its header, the field that fills it and whether it is
    SHA-256 hashed (lower-case hex)."""

    header: str
    field: Field
    hashed: bool = True


@dataclass(frozen=True)
class Platform:
    """An ad platform's customer-list file.

    Attributes
    ----------
    name, title
        Registry name (``meta``) and the platform's name for people.
    columns
        The file's columns, in order.
    header
        Whether the file starts with a header line (X reads bare lists).
    email_rule, phone_format
        How e-mail addresses and phone numbers are normalised before hashing.
    value_header
        Header of the customer-value column of a seed list, where the platform builds
        value-based lookalikes from one (``None`` elsewhere).
    sources
        Where the headers and rules are documented.
    """

    name: str
    title: str
    columns: tuple[OutputColumn, ...]
    header: bool
    email_rule: EmailRule
    phone_format: PhoneFormat
    value_header: str | None
    sources: tuple[str, ...]

    @property
    def identifiers(self) -> tuple[Field, ...]:
        """The main identifiers the file carries (``email``, ``phone``); a customer needs at
        least one that is usable to be matched."""
        return tuple(c.field for c in self.columns if c.field in ("email", "phone"))

    def headers(self, *, seed: bool = False) -> list[str]:
        """The column headers, with the value column for a seed list where supported."""
        names = [c.header for c in self.columns]
        return [*names, self.value_header] if seed and self.value_header else names

    def to_dict(self) -> dict[str, Any]:
        """The declaration, JSON-ready."""
        return asdict(self)

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Platform:
        """The registered platform named by ``config["name"]`` (registry habit)."""
        return get_platform(str(config.get("name", "")))


def _hashed(*pairs: tuple[str, Field]) -> tuple[OutputColumn, ...]:
    return tuple(OutputColumn(header, field) for header, field in pairs)


# Meta: "How to format a customer list" https://www.facebook.com/business/help/2082575038703844
# (headers email, phone, fn, ln, doby, country; phone with country code), normalisation before
# hashing per the Marketing API, Customer File Custom Audiences, "Hashing and normalising data"
# https://developers.facebook.com/docs/marketing-api/audiences/guides/custom-audiences
# (email trimmed and lower-case; phone digits only with the country code and no leading zeros;
# fn/ln lower-case letters only, no punctuation, UTF-8; doby YYYY; country lower-case ISO 3166-1
# alpha-2, all hashed); the customer-value column "value" for value-based lookalikes:
# https://www.facebook.com/business/help/1033094474356222
META = Platform(
    name="meta",
    title="Meta (Facebook, Instagram) Custom Audience from a customer list",
    columns=_hashed(
        ("email", "email"),
        ("phone", "phone"),
        ("fn", "first_name"),
        ("ln", "last_name"),
        ("doby", "birth_year"),
        ("country", "country"),
    ),
    header=True,
    email_rule="plain",
    phone_format="digits",
    value_header="value",
    sources=(
        "https://www.facebook.com/business/help/2082575038703844",
        "https://developers.facebook.com/docs/marketing-api/audiences/guides/custom-audiences",
        "https://www.facebook.com/business/help/1033094474356222",
    ),
)

# Google Ads Customer Match: headers "Email" and "Phone" (a file may combine them)
# https://support.google.com/google-ads/answer/7659867 ; normalisation: trim, lower-case, phone
# in E.164 (with "+", e.g. +16502531234), "Remove all periods (.) that precede the domain name in
# gmail.com and googlemail.com email addresses" — Google says nothing of "+tags" there, so they
# are kept: https://developers.google.com/google-ads/api/docs/conversions/enhanced-conversions/web
# and https://developers.google.com/google-ads/api/reference/rpc/latest/UserIdentifier .
# First Name, Last Name, Country and Zip only match all four together; the contract has no Zip.
GOOGLE = Platform(
    name="google",
    title="Google Ads Customer Match",
    columns=_hashed(("Email", "email"), ("Phone", "phone")),
    header=True,
    email_rule="gmail_dots",
    phone_format="e164",
    value_header=None,
    sources=(
        "https://support.google.com/google-ads/answer/7659867",
        "https://developers.google.com/google-ads/api/docs/conversions/enhanced-conversions/web",
        "https://developers.google.com/google-ads/api/reference/rpc/latest/UserIdentifier",
    ),
)

# TikTok: "List of supported IDs and formats for a customer file" (updated August 2025)
# https://ads.tiktok.com/help/article/list-of-supported-ids-and-formats-for-a-customer-file
# Headers Email_SHA256 and Phone_SHA256; e-mail lower-case, no spaces, "Remove '+' and any
# characters following the '+' symbol until '@'"; phone: remove symbols including "+", add the
# country code (its hashed example is sha256("37493828222")).
TIKTOK = Platform(
    name="tiktok",
    title="TikTok Custom Audience from a customer file",
    columns=_hashed(("Email_SHA256", "email"), ("Phone_SHA256", "phone")),
    header=True,
    email_rule="drop_plus",
    phone_format="digits",
    value_header=None,
    sources=(
        "https://ads.tiktok.com/help/article/list-of-supported-ids-and-formats-for-a-customer-file",
    ),
)

# LinkedIn Matched Audiences, contact list: the Campaign Manager template's headers must stay as
# they are (https://www.linkedin.com/help/lms/answer/a1489764); its template is
# email,firstname,lastname,jobtitle,employeecompany,country,googleaid. Only e-mail addresses may be
# SHA-256 hashed there; names would travel in clear, so those columns stay empty.
LINKEDIN = Platform(
    name="linkedin",
    title="LinkedIn Matched Audiences contact list",
    columns=(
        OutputColumn("email", "email"),
        *(
            OutputColumn(h, "blank", hashed=False)
            for h in (
                "firstname",
                "lastname",
                "jobtitle",
                "employeecompany",
                "country",
                "googleaid",
            )
        ),
    ),
    header=True,
    email_rule="plain",
    phone_format="e164",
    value_header=None,
    sources=("https://www.linkedin.com/help/lms/answer/a1489764",),
)

# X (Twitter) List Custom Audiences: one identifier per line, SHA-256 without salt, lower-case
# hex; e-mail addresses "lowercase, remove leading and trailing spaces"
# (https://developer.x.com/en/docs/x-ads-api/audiences/overview/user-data, whose example is
# sha256("adsapi") = 49e0be2a...). X documents no normalisation of phone numbers for pre-hashed
# lists, so the file holds e-mail addresses only.
X = Platform(
    name="x",
    title="X (Twitter) List Custom Audience",
    columns=_hashed(("email", "email")),
    header=False,
    email_rule="plain",
    phone_format="e164",
    value_header=None,
    sources=(
        "https://developer.x.com/en/docs/x-ads-api/audiences/overview/user-data",
        "https://business.x.com/en/help/campaign-setup/campaign-targeting/custom-audiences/lists",
    ),
)

#: The platforms by name.
PLATFORMS: dict[str, Platform] = {p.name: p for p in (META, GOOGLE, TIKTOK, LINKEDIN, X)}


def get_platform(name: str) -> Platform:
    """The platform called ``name`` (case-insensitive), or a ConfigError listing them."""
    try:
        return PLATFORMS[name.strip().lower()]
    except KeyError:
        raise ConfigError(
            f"unknown ad platform {name!r}; use one of: {', '.join(PLATFORMS)}"
        ) from None

"""Data contracts: one declaration per input kind, used by import, validation and the docs.

Each :class:`Contract` names its columns (type, whether required, value rules), its key (what makes
a row unique, so that re-importing a file is idempotent), foreign keys to other kinds and row rules
that involve several columns. The importer compiles these declarations into SQL run by DuckDB;
``docs/data.md`` is rendered from them by :func:`render_markdown` (a test keeps the two in step).

Every identifier and literal that reaches SQL comes from this module, never from user input.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from streamwise.errors import ConfigError

__all__ = [
    "CONTRACTS",
    "Column",
    "ColumnType",
    "Contract",
    "RowRule",
    "get_contract",
    "import_order",
    "render_markdown",
]

ColumnType = Literal["VARCHAR", "BIGINT", "DOUBLE", "DATE", "TIMESTAMP", "BOOLEAN", "JSON"]

TYPE_WORDS: dict[str, str] = {
    "VARCHAR": "text",
    "BIGINT": "whole number",
    "DOUBLE": "number",
    "DATE": "date (YYYY-MM-DD)",
    "TIMESTAMP": "timestamp (ISO 8601, UTC)",
    "BOOLEAN": "true/false",
    "JSON": "JSON object",
}

EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
ISO_COUNTRY = r"^[A-Z]{2}$"
ISO_CURRENCY = r"^[A-Z]{3}$"
E164 = r"^\+[1-9][0-9]{6,14}$"


@dataclass(frozen=True)
class Column:
    """One column of a contract.

    ``min``/``max`` bound numeric values (inclusive unless ``exclusive_min``); ``allowed`` lists the
    only accepted values; ``pattern`` is a regular expression the whole text must match, described
    for people by ``pattern_hint``; ``not_future`` refuses dates after today; ``references`` names a
    ``kind.column`` that must hold the value (a foreign key); ``default`` fills empty values and
    absent optional columns; ``aliases`` are other header names accepted for the column.
    """

    name: str
    type: ColumnType
    description: str
    required: bool = False
    default: str | float | bool | None = None
    min: float | None = None
    exclusive_min: bool = False
    max: float | None = None
    allowed: tuple[str, ...] | None = None
    pattern: str | None = None
    pattern_hint: str = ""
    not_future: bool = False
    references: str | None = None
    aliases: tuple[str, ...] = ()
    example: str = ""

    def rule_words(self) -> str:
        """The column's value rules in words, for the docs."""
        words: list[str] = []
        if self.min is not None:
            words.append(f"{'>' if self.exclusive_min else '≥'} {self.min:g}")
        if self.max is not None:
            words.append(f"≤ {self.max:g}")
        if self.allowed:
            words.append("one of " + ", ".join(f"`{v}`" for v in self.allowed))
        if self.pattern_hint:
            words.append(self.pattern_hint)
        if self.not_future:
            words.append("not in the future")
        if self.references:
            words.append(f"must exist in `{self.references}`")
        if self.default is not None:
            words.append(f"default `{self.default}`")
        if self.aliases:
            words.append("also read from " + ", ".join(f"`{a}`" for a in self.aliases))
        return "; ".join(words)


@dataclass(frozen=True)
class RowRule:
    """A rule over several columns of one row.

    ``sql`` is a boolean expression over the contract's typed column names that is true for a
    valid row (NULL counts as valid, so a rule only fires on values that are present).
    """

    name: str
    description: str
    sql: str
    columns: tuple[str, ...]


@dataclass(frozen=True)
class Contract:
    """The declaration of one input kind."""

    kind: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    rules: tuple[RowRule, ...] = field(default=())

    def column(self, name: str) -> Column:
        """Return the column called ``name``."""
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def names(self) -> tuple[str, ...]:
        """Column names in declared order."""
        return tuple(c.name for c in self.columns)

    @property
    def required(self) -> tuple[str, ...]:
        """Names of required columns."""
        return tuple(c.name for c in self.columns if c.required)

    @property
    def depends_on(self) -> tuple[str, ...]:
        """Kinds this contract's foreign keys point to."""
        kinds = [c.references.split(".")[0] for c in self.columns if c.references]
        return tuple(dict.fromkeys(kinds))


def _id(name: str, what: str, **kw: object) -> Column:
    return Column(name, "VARCHAR", what, **kw)  # type: ignore[arg-type]


CUSTOMERS = Contract(
    kind="customers",
    description="People who bought, signed up or were contacted; one row per customer.",
    key=("customer_id",),
    columns=(
        _id("customer_id", "Your identifier of the customer.", required=True, example="C000042"),
        Column(
            "email",
            "VARCHAR",
            "E-mail address.",
            pattern=EMAIL,
            pattern_hint="an e-mail address",
            example="ana@example.com",
        ),
        Column(
            "signup_date",
            "DATE",
            "Date the customer signed up or first bought.",
            required=True,
            not_future=True,
            example="2024-03-05",
        ),
        Column(
            "country",
            "VARCHAR",
            "Country, ISO 3166-1 alpha-2.",
            pattern=ISO_COUNTRY,
            pattern_hint="a two-letter upper-case country code",
            example="DE",
        ),
        Column("first_name", "VARCHAR", "Given name, for personalisation.", example="Ana"),
        Column("last_name", "VARCHAR", "Family name.", example="Lima"),
        Column(
            "phone",
            "VARCHAR",
            "Phone number in E.164 form.",
            pattern=E164,
            pattern_hint="a phone number in E.164 form (+ and 7 to 15 digits)",
            example="+4930123456",
        ),
        Column("timezone", "VARCHAR", "IANA time zone, for send windows.", example="Europe/Berlin"),
        Column("birth_year", "BIGINT", "Year of birth.", min=1900, max=2025, example="1988"),
        Column(
            "acquisition_channel",
            "VARCHAR",
            "Channel that brought the customer in.",
            example="search",
        ),
        Column(
            "email_consent",
            "BOOLEAN",
            "Agreed to marketing e-mail (empty = unknown = no).",
            example="true",
        ),
        Column(
            "sms_consent",
            "BOOLEAN",
            "Agreed to marketing text messages (empty = unknown = no).",
            example="false",
        ),
        Column(
            "ads_consent",
            "BOOLEAN",
            "Agreed to being matched for advertising, e.g. customer-list audiences "
            "(empty = unknown = no).",
            example="true",
        ),
    ),
)

ORDERS = Contract(
    kind="orders",
    description="Purchases; one row per order. Amounts are order totals after discounts.",
    key=("order_id",),
    columns=(
        _id("order_id", "Your identifier of the order.", required=True, example="O0000001"),
        _id(
            "customer_id",
            "Who bought.",
            required=True,
            references="customers.customer_id",
            example="C000042",
        ),
        Column(
            "order_date",
            "TIMESTAMP",
            "When the order was placed (a date means midnight).",
            required=True,
            not_future=True,
            example="2024-03-05 14:02:11",
        ),
        Column("amount", "DOUBLE", "Order total.", required=True, min=0, example="84.50"),
        Column(
            "currency",
            "VARCHAR",
            "ISO 4217 currency code.",
            pattern=ISO_CURRENCY,
            pattern_hint="a three-letter upper-case currency code",
            default="USD",
            example="USD",
        ),
        Column("channel", "VARCHAR", "Sales channel.", example="web"),
        Column("quantity", "BIGINT", "Number of items.", min=0, example="3"),
        Column("discount", "DOUBLE", "Discount granted on the order.", min=0, example="5.00"),
        Column(
            "campaign",
            "VARCHAR",
            "Campaign the order was attributed to at checkout.",
            example="spring-sale",
        ),
    ),
)

ORDER_LINES = Contract(
    kind="order_lines",
    description="Items of an order; one row per order line.",
    key=("order_id", "line_number"),
    columns=(
        _id(
            "order_id",
            "Order the line belongs to.",
            required=True,
            references="orders.order_id",
            example="O0000001",
        ),
        Column(
            "line_number",
            "BIGINT",
            "Position of the line in the order.",
            required=True,
            min=1,
            example="1",
        ),
        _id(
            "product_id",
            "Product sold.",
            required=True,
            references="products.product_id",
            example="P0101",
        ),
        Column(
            "quantity",
            "BIGINT",
            "Units sold.",
            required=True,
            min=0,
            exclusive_min=True,
            example="2",
        ),
        Column("unit_price", "DOUBLE", "Price of one unit.", required=True, min=0, example="39.90"),
        Column("amount", "DOUBLE", "Line total after discounts.", min=0, example="79.80"),
    ),
)

PRODUCTS = Contract(
    kind="products",
    description="The catalogue; one row per product.",
    key=("product_id",),
    columns=(
        _id("product_id", "Your identifier of the product.", required=True, example="P0101"),
        Column("name", "VARCHAR", "Product name.", required=True, example="Ridge 2 Tent"),
        Column("category", "VARCHAR", "Category.", required=True, example="tents"),
        Column("subcategory", "VARCHAR", "Subcategory.", example="backpacking tents"),
        Column("brand", "VARCHAR", "Brand.", example="Northpeak"),
        Column("price", "DOUBLE", "List price.", min=0, example="249.00"),
        Column("launched_on", "DATE", "Launch date.", not_future=True, example="2023-04-01"),
    ),
)

EVENTS = Contract(
    kind="events",
    description=(
        "Behavioural events as in the Segment spec (identify, track, page, screen, group, "
        "alias); camelCase names from Segment exports are accepted."
    ),
    key=("message_id",),
    columns=(
        _id(
            "message_id",
            "Unique id of the event, for de-duplication.",
            required=True,
            aliases=("messageId",),
            example="ajs-1f2e3d",
        ),
        Column(
            "type",
            "VARCHAR",
            "Kind of call.",
            required=True,
            allowed=("identify", "track", "page", "screen", "group", "alias"),
            example="track",
        ),
        _id("user_id", "Known user (customer_id).", aliases=("userId",), example="C000042"),
        _id(
            "anonymous_id",
            "Device or cookie id before identification.",
            aliases=("anonymousId",),
            example="a9c1-77",
        ),
        Column("event", "VARCHAR", "Event name (track calls).", example="Product Viewed"),
        Column("name", "VARCHAR", "Page or screen name.", example="Tents"),
        Column("properties", "JSON", "Event properties.", example='{"product_id": "P0101"}'),
        Column("traits", "JSON", "User traits (identify calls).", example='{"plan": "pro"}'),
        Column(
            "context",
            "JSON",
            "Context (ip, user agent, campaign...).",
            example='{"campaign": {"source": "newsletter"}}',
        ),
        Column(
            "timestamp",
            "TIMESTAMP",
            "When the event happened.",
            required=True,
            not_future=True,
            example="2024-03-05T14:02:11Z",
        ),
        Column(
            "received_at",
            "TIMESTAMP",
            "When the event was received.",
            aliases=("receivedAt",),
            example="2024-03-05T14:02:12Z",
        ),
    ),
    rules=(
        RowRule(
            "identified",
            "user_id or anonymous_id must be present",
            "user_id IS NOT NULL OR anonymous_id IS NOT NULL",
            ("user_id", "anonymous_id"),
        ),
        RowRule(
            "track_named",
            "a track event needs an event name",
            "type <> 'track' OR event IS NOT NULL",
            ("event",),
        ),
    ),
)

TOUCHPOINTS = Contract(
    kind="touchpoints",
    description="Marketing contacts with a customer: impressions, clicks, opens, visits, calls.",
    key=("customer_id", "ts", "channel", "campaign"),
    columns=(
        _id(
            "customer_id",
            "Who was touched.",
            required=True,
            references="customers.customer_id",
            example="C000042",
        ),
        Column(
            "ts",
            "TIMESTAMP",
            "When.",
            required=True,
            not_future=True,
            example="2024-03-01 09:30:00",
        ),
        Column("channel", "VARCHAR", "Marketing channel.", required=True, example="email"),
        Column("campaign", "VARCHAR", "Campaign.", example="spring-sale"),
        Column(
            "interaction",
            "VARCHAR",
            "Kind of contact.",
            allowed=("impression", "click", "open", "visit", "call", "other"),
            example="click",
        ),
        _id(
            "journey_id", "Groups touches that belong to one journey, when known.", example="J0001"
        ),
        Column("cost", "DOUBLE", "Cost of the contact.", min=0, example="0.42"),
    ),
)

SPEND = Contract(
    kind="spend",
    description="Media spend per channel and period (the start date of a day, week or month).",
    key=("period", "channel"),
    columns=(
        Column(
            "period",
            "DATE",
            "Start of the period.",
            required=True,
            not_future=True,
            example="2024-03-04",
        ),
        Column("channel", "VARCHAR", "Media channel.", required=True, example="search"),
        Column("amount", "DOUBLE", "Money spent.", required=True, min=0, example="1250.00"),
        Column("impressions", "BIGINT", "Impressions bought.", min=0, example="120000"),
        Column("clicks", "BIGINT", "Clicks.", min=0, example="2400"),
    ),
)

SURVEY_RESPONSES = Contract(
    kind="survey_responses",
    description=(
        "Survey answers in long form: one row per respondent and question. The questionnaire "
        "(question types, choice designs) is described in YAML next to the data."
    ),
    key=("survey_id", "respondent_id", "question_id"),
    columns=(
        _id("survey_id", "Which survey.", default="default", example="brand-2025"),
        _id("respondent_id", "Who answered.", required=True, example="R00017"),
        _id(
            "question_id", "Which question (as in the questionnaire).", required=True, example="nps"
        ),
        Column("answer", "VARCHAR", "The answer as given (number, choice or text).", example="9"),
        _id("customer_id", "The respondent's customer id, when known.", example="C000042"),
        Column(
            "answered_at",
            "TIMESTAMP",
            "When the answer was given.",
            not_future=True,
            example="2025-05-02 10:11:12",
        ),
        Column(
            "duration_seconds",
            "DOUBLE",
            "Time the respondent took for the whole survey.",
            min=0,
            example="412",
        ),
    ),
)

COMPETITORS = Contract(
    kind="competitors",
    description=(
        "What is known of each brand in the market, ours included: one row per brand and "
        "attribute (a perceived rating, a price, a feature present or not, share of voice)."
    ),
    key=("brand", "attribute"),
    columns=(
        Column("brand", "VARCHAR", "Brand name.", required=True, example="Summit Co"),
        Column("attribute", "VARCHAR", "What is measured.", required=True, example="durability"),
        Column(
            "kind",
            "VARCHAR",
            "What sort of measure the value is.",
            required=True,
            allowed=("rating", "price", "feature", "share_of_voice"),
            example="rating",
        ),
        Column(
            "value",
            "DOUBLE",
            "The value: rating on its scale, price, 1/0 for a feature, share between 0 and 1.",
            required=True,
            example="4.2",
        ),
        Column("source", "VARCHAR", "Where the value came from.", example="survey 2025"),
    ),
    rules=(
        RowRule(
            "feature_binary",
            "a feature value must be 0 or 1",
            "kind <> 'feature' OR value IN (0, 1)",
            ("value",),
        ),
        RowRule(
            "share_fraction",
            "a share of voice must lie between 0 and 1",
            "kind <> 'share_of_voice' OR value BETWEEN 0 AND 1",
            ("value",),
        ),
        RowRule(
            "price_positive",
            "a price must not be negative",
            "kind <> 'price' OR value >= 0",
            ("value",),
        ),
    ),
)

MARKET_SERIES = Contract(
    kind="market_series",
    description="Category demand over time (searches, units, market revenue), one row per period.",
    key=("category", "metric", "period"),
    columns=(
        Column("category", "VARCHAR", "Market category.", required=True, example="tents"),
        Column("metric", "VARCHAR", "What is counted.", default="demand", example="demand"),
        Column(
            "period",
            "DATE",
            "Start of the period.",
            required=True,
            not_future=True,
            example="2024-03-04",
        ),
        Column("value", "DOUBLE", "Observed value.", required=True, min=0, example="1834"),
    ),
)

CONTRACTS: dict[str, Contract] = {
    c.kind: c
    for c in (
        CUSTOMERS,
        ORDERS,
        ORDER_LINES,
        PRODUCTS,
        EVENTS,
        TOUCHPOINTS,
        SPEND,
        SURVEY_RESPONSES,
        COMPETITORS,
        MARKET_SERIES,
    )
}


def get_contract(kind: str) -> Contract:
    """Return the contract of ``kind`` or raise a :class:`ConfigError` listing the kinds."""
    try:
        return CONTRACTS[kind]
    except KeyError:
        kinds = ", ".join(CONTRACTS)
        raise ConfigError(f"unknown data kind {kind!r}; use one of: {kinds}") from None


def import_order(kinds: list[str] | None = None) -> list[str]:
    """Kinds sorted so that every kind comes after the kinds its foreign keys point to."""
    todo = list(kinds if kinds is not None else CONTRACTS)
    done: list[str] = []
    while todo:
        for kind in todo:
            deps = [d for d in get_contract(kind).depends_on if d in todo and d != kind]
            if not deps:
                done.append(kind)
                todo.remove(kind)
                break
        else:  # pragma: no cover - the contracts above have no cycles
            raise ConfigError(f"foreign keys form a cycle among {todo}")
    return done


def render_markdown() -> str:
    """Render every contract as the Markdown page ``docs/data.md``."""
    out = [
        "# Data contracts",
        "",
        "<!-- Generated from src/streamwise/data/contracts.py by `make docs`; "
        "do not edit by hand. -->",
        "",
        "Streamwise reads ten kinds of input with `streamwise import KIND FILE...` (CSV, Parquet "
        "or JSON Lines). Every row is checked against its contract below. Rows that break a "
        "rule are set aside in the quarantine with the file, the row number (1 = first data "
        "row, the header is not counted), the column and the reason, and are listed by "
        "`streamwise quarantine`; the valid rows land. Importing the same rows again changes "
        "nothing: rows are matched on the key, unchanged rows are skipped and changed rows "
        "replace the stored ones.",
        "",
        "Empty values count as missing. Text columns are trimmed. Column names are matched "
        "without regard to case; extra columns in a file are ignored and reported.",
        "",
    ]
    for c in CONTRACTS.values():
        out += [f"## `{c.kind}`", "", c.description, "", f"Key: {', '.join(c.key)}.", ""]
        if c.depends_on:
            deps = ", ".join(f"`{d}`" for d in c.depends_on)
            out += [f"Import after: {deps}.", ""]
        out += [
            "| column | type | required | meaning | rules | example |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for col in c.columns:
            req = "yes" if col.required else ""
            ex = f"`{col.example}`" if col.example else ""
            out.append(
                f"| `{col.name}` | {TYPE_WORDS[col.type]} | {req} | {col.description} | "
                f"{col.rule_words()} | {ex} |"
            )
        if c.rules:
            out += ["", "Row rules:", ""]
            out += [f"- {r.description}." for r in c.rules]
        out.append("")
    return "\n".join(out)

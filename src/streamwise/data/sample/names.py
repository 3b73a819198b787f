"""Names shared by every part of the sample business, so the parts agree with each other."""

from __future__ import annotations

__all__ = [
    "BRAND",
    "CATEGORIES",
    "COMPETITOR_BRANDS",
    "MEDIA_CHANNELS",
    "SALES_CHANNELS",
    "SEGMENTS",
]

#: Our brand (the sample company's name is in SampleConfig.company; this is its product brand).
BRAND = "Northwind"
#: Competing brands in the outdoor-gear market.
COMPETITOR_BRANDS = ("Summit Co", "TrailMark", "Alpenglow", "Basecamp Basics", "Ridgeline")
#: The latent customer segments planted in the data, in a fixed order.
SEGMENTS = (
    "Trail Enthusiasts",
    "Weekend Campers",
    "Bargain Hunters",
    "Gift Shoppers",
    "Alpine Pros",
)
#: Product categories (also the categories of market_series).
CATEGORIES = (
    "tents",
    "backpacks",
    "footwear",
    "apparel",
    "climbing",
    "camp kitchen",
    "sleeping",
    "winter sports",
)
#: Paid and owned media channels (spend, touchpoints, acquisition).
MEDIA_CHANNELS = ("search", "social", "display", "video", "affiliate", "email")
#: Where orders are placed.
SALES_CHANNELS = ("web", "app", "store", "marketplace", "phone")

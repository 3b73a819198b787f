"""Settings of the sample business generator."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

__all__ = ["SampleConfig"]


@dataclass(frozen=True)
class SampleConfig:
    """What to generate.

    Parameters
    ----------
    n_customers
        Number of customers (default 20,000, about 200,000 orders over three years).
    seed
        Seed of every random draw; the same seed gives the same data.
    start, end
        The period the business has been trading (inclusive). Fixed dates, so the data do not
        depend on the day they are generated.
    company, currency
        Name of the sample company (our brand) and its currency.
    bad_share
        Share of extra, deliberately invalid rows added to each table to exercise the quarantine.
    chunk_customers
        Customers generated per chunk; bounds memory when streaming millions of customers.
    """

    n_customers: int = 20_000
    seed: int = 42
    start: date = date(2023, 1, 1)
    end: date = date(2025, 12, 31)
    company: str = "Northwind Outfitters"
    currency: str = "USD"
    bad_share: float = 0.002
    chunk_customers: int = 100_000

    def __post_init__(self) -> None:
        if self.n_customers < 100:
            raise ValueError("n_customers must be at least 100")
        if self.end <= self.start:
            raise ValueError("end must come after start")
        if not 0 <= self.bad_share < 0.5:
            raise ValueError("bad_share must lie in [0, 0.5)")

    @property
    def weeks(self) -> int:
        """Number of whole weeks in the trading period."""
        return (self.end - self.start).days // 7

"""The sample business: a seeded, deterministic outdoor-gear retailer with every input kind.

``generate()`` builds customers, orders, order lines, products, events, touchpoints, media spend,
a market-research survey (with its questionnaire), competitor data and market series, plants
ground truth that later analyses must recover (:class:`GroundTruth`), and adds a small share of
invalid rows so that the quarantine is exercised. Small samples stay in memory; large ones stream
to Parquet or CSV files chunk by chunk, so 10 million customers fit in bounded memory.

Examples
--------
>>> from streamwise.data.sample import generate
>>> biz = generate(n_customers=2_000, seed=7)                       # doctest: +SKIP
>>> biz.tables["orders"].head()                                      # doctest: +SKIP
>>> biz.truth.commerce.segments                                      # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from streamwise.data.sample.bad_rows import BadRow, BadRowSink
from streamwise.data.sample.config import SampleConfig
from streamwise.data.sample.sink import FileSink, MemorySink, TableSink

__all__ = ["GroundTruth", "SampleBusiness", "SampleConfig", "generate", "to_jsonable"]

N_RESPONDENTS = 2_000


def to_jsonable(value: Any) -> Any:
    """Turn truth objects (dataclasses, numpy, pandas, dates) into JSON-compatible values."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        if hasattr(value, "to_dict"):
            return to_jsonable(value.to_dict())
        return to_jsonable(dataclasses.asdict(value))
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [to_jsonable(v) for v in value]
    if isinstance(value, pd.DataFrame):
        return to_jsonable(value.to_dict(orient="records"))
    if isinstance(value, pd.Series):
        return to_jsonable(value.to_dict())
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, datetime | date | pd.Timestamp):
        return value.isoformat()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


@dataclass(frozen=True)
class GroundTruth:
    """What was planted in the sample business.

    Attributes
    ----------
    commerce
        Segments (BG/NBD and Gamma-Gamma parameters, category and channel mixes), media
        (adstock, saturation, ROI per channel), journeys (channel effects on conversion).
        See :class:`streamwise.data.sample.commerce.CommerceTruth`.
    research
        Survey truth (NPS, price thresholds, conjoint part-worths, MaxDiff, Kano, themes),
        competitor positions and market trends and seasonality.
        See :class:`streamwise.data.sample.research.ResearchTruth`.
    bad_rows
        The invalid rows that were added on purpose, with the defect of each.
    customers
        Per-customer latent truth (segment, purchase rate, dropout probability, spend scale):
        a data frame for in-memory samples, else ``None`` (see ``truth/truth_customers``).
    """

    config: SampleConfig
    commerce: Any
    research: Any
    bad_rows: tuple[BadRow, ...]
    customers: pd.DataFrame | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dictionary (per-customer truth left out)."""
        return to_jsonable(
            {
                "config": dataclasses.asdict(self.config),
                "commerce": self.commerce,
                "research": self.research,
                "bad_rows": [b.to_dict() for b in self.bad_rows],
            }
        )

    def save(self, path: str | Path) -> Path:
        """Write :meth:`to_dict` as JSON."""
        path = Path(path)
        path.write_text(json.dumps(self.to_dict(), indent=1))
        return path


@dataclass(frozen=True)
class SampleBusiness:
    """A generated sample: its tables (in memory) or files (on disk), truth and questionnaire."""

    config: SampleConfig
    truth: GroundTruth
    questionnaire_yaml: str
    tables: dict[str, pd.DataFrame] | None = field(default=None, repr=False)
    paths: dict[str, Path] | None = None

    def files(self, kind: str) -> list[Path]:
        """The file(s) of one input kind (on-disk samples)."""
        if self.paths is None:
            raise ValueError("this sample is in memory; use .tables")
        return [self.paths[kind]] if kind in self.paths else []


class _Router:
    """Sends ``truth_*`` tables to the truth sink and the rest (with bad rows) to the data sink,
    keeping a sample of customers (id and segment) to answer the survey."""

    def __init__(self, data: BadRowSink, truth: TableSink, seed: int) -> None:
        self.data, self.truth = data, truth
        self.rng = np.random.default_rng([seed, 0x5E7])
        self.pool: pd.DataFrame | None = None

    def write(self, name: str, frame: pd.DataFrame) -> None:
        if name.startswith("truth_"):
            if name == "truth_customers" and self.pool is None:
                self.pool = frame[["customer_id", "segment"]].copy()
            self.truth.write(name, frame)
        else:
            self.data.write(name, frame)

    def respondents(self, n: int) -> pd.DataFrame:
        if self.pool is None:
            raise RuntimeError("the commerce generator wrote no truth_customers table")
        take = min(n, len(self.pool))
        idx = np.sort(self.rng.choice(len(self.pool), size=take, replace=False))
        return self.pool.iloc[idx].reset_index(drop=True)

    def close(self) -> None:
        self.data.close()
        self.truth.close()


def generate(
    n_customers: int = 20_000,
    seed: int = 42,
    *,
    out_dir: str | Path | None = None,
    fmt: Literal["csv", "parquet"] = "parquet",
    bad_share: float | None = None,
    config: SampleConfig | None = None,
    progress: Callable[[int], None] | None = None,
) -> SampleBusiness:
    """Generate the sample business.

    Parameters
    ----------
    n_customers, seed
        Size and seed (ignored when ``config`` is given). The same seed gives the same data.
    out_dir
        Stream the tables to files in this folder (``KIND.csv`` or ``KIND.parquet``, truth in
        ``truth/``, plus ``questionnaire.yaml`` and ``ground_truth.json``) instead of memory.
    fmt
        File format with ``out_dir``.
    bad_share
        Share of invalid rows to add (default: ``SampleConfig.bad_share``; 0 for none).
    progress
        Called with the number of customers generated so far.
    """
    cfg = config or SampleConfig(n_customers=n_customers, seed=seed)
    if bad_share is not None:
        cfg = dataclasses.replace(cfg, bad_share=bad_share)
    # Imported here: the generators are large modules that only sample generation needs.
    from streamwise.data.sample.commerce import generate_commerce
    from streamwise.data.sample.research import generate_research

    if out_dir is None:
        data_sink: TableSink = MemorySink()
        truth_sink: TableSink = MemorySink()
    else:
        out = Path(out_dir)
        data_sink = FileSink(out, fmt)
        truth_sink = FileSink(out / "truth", "parquet")
    bad = BadRowSink(data_sink, cfg.bad_share, cfg.seed)
    router = _Router(bad, truth_sink, cfg.seed)
    try:
        commerce = generate_commerce(cfg, router, progress)
        research = generate_research(cfg, router.respondents(N_RESPONDENTS), router)
    finally:
        router.close()
    questionnaire = getattr(research, "questionnaire_yaml", "")
    tables = paths = None
    per_customer = None
    if isinstance(data_sink, MemorySink) and isinstance(truth_sink, MemorySink):
        tables = data_sink.frames()
        per_customer = truth_sink.frames().get("truth_customers")
    truth = GroundTruth(
        config=cfg,
        commerce=commerce,
        research=research,
        bad_rows=tuple(bad.bad_rows),
        customers=per_customer,
    )
    if isinstance(data_sink, FileSink):
        paths = dict(data_sink.paths)
        (data_sink.out_dir / "questionnaire.yaml").write_text(questionnaire)
        truth.save(data_sink.out_dir / "ground_truth.json")
    return SampleBusiness(
        config=cfg, truth=truth, questionnaire_yaml=questionnaire, tables=tables, paths=paths
    )

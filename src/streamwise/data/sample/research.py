"""Market research of the sample business: a brand survey, the competitors table, market series.

:func:`generate_research` writes three tables through a :class:`TableSink` and returns the planted
ground truth (:class:`ResearchTruth`), including the questionnaire as YAML text.

Survey long format (``survey_responses``)
-----------------------------------------
One row per respondent and answered question; ``survey_id`` is ``brand-<end year>``; a question a
respondent was not asked or skipped has no row. ``answer`` is always text. The respondents are the
customers passed in plus 20 % non-customers (``customer_id`` empty) whose segments are drawn from
the customers' segment shares. Every respondent answers within the last four weeks of the trading
period; ``duration_seconds`` is the respondent's total time, ``answered_at`` moves through that
time question by question.

Question ids (type in brackets) and their answers:

- ``segment_self`` [single]: segment name (the planted segment).
- ``brands_known`` [multi]: the brands the respondent knows, joined by ``;``.
- ``nps`` [nps]: ``0`` … ``10``; customers only.
- ``vw_too_cheap``, ``vw_cheap``, ``vw_expensive``, ``vw_too_expensive`` [price_vw]: whole
  dollars, strictly increasing in this order.
- ``nms_cheap``, ``nms_expensive`` [rating]: ``1`` … ``5`` purchase likelihood at the
  respondent's own cheap / expensive price (Newton–Miller–Smith).
- ``gg_price_<p>`` for p = 99, 149, …, 399 [price_gg]: ``yes`` / ``no``, monotone in price.
- ``cbc_version`` [cbc]: design version ``1`` … ``10``; ``cbc_t01`` … ``cbc_t12`` [cbc]:
  ``0`` = none, ``1`` … ``3`` = the alternative's position in the task.
- ``maxdiff_version`` [maxdiff]: design version ``1`` … ``10``; ``md_t01_best``,
  ``md_t01_worst`` … ``md_t09_worst`` [maxdiff]: the chosen item's key.
- ``kano_<feature>_functional``, ``kano_<feature>_dysfunctional`` [kano]: ``like``,
  ``must_be``, ``neutral``, ``live_with`` or ``dislike``.
- ``rating_<brand>_<attribute>`` [rating]: ``1`` … ``7``, for the brands the respondent knows
  (brand key: lower case, ``_`` for spaces, e.g. ``rating_summit_co_durability``).
- ``ideal_<attribute>`` [rating]: ``1`` … ``7``, how the ideal outdoor brand would rate.
- ``improve_text`` [text]: free text, about 85 % answer.

The questionnaire YAML lists every question with these fields and, under ``designs``, the CBC
design (attributes, levels, versions × tasks × alternatives) and the MaxDiff design (items,
versions × tasks × items). The planted models are described in
:mod:`~streamwise.data.sample.survey`, :mod:`~streamwise.data.sample.competitors`,
:mod:`~streamwise.data.sample.texts` and :mod:`~streamwise.data.sample.market`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

import numpy as np
import pandas as pd
import yaml

from streamwise.data.sample.competitors import PositioningTruth, generate_competitors
from streamwise.data.sample.competitors import generate_ratings as _generate_ratings
from streamwise.data.sample.config import SampleConfig
from streamwise.data.sample.market import MarketTruth, generate_market
from streamwise.data.sample.names import BRAND, SEGMENTS
from streamwise.data.sample.sink import TableSink
from streamwise.data.sample.survey import (
    ConjointTruth,
    GaborGrangerTruth,
    KanoTruth,
    MaxDiffTruth,
    NpsTruth,
    Panel,
    Question,
    VanWestendorpTruth,
    build_panel,
    generate_conjoint,
    generate_kano,
    generate_maxdiff,
    generate_nps,
    generate_pricing,
    generate_segment_question,
    stream,
    to_plain,
)
from streamwise.data.sample.texts import TextTruth, generate_texts

__all__ = ["SURVEY_COLUMNS", "ResearchTruth", "generate_research"]

SURVEY_COLUMNS = (
    "survey_id",
    "respondent_id",
    "question_id",
    "answer",
    "customer_id",
    "answered_at",
    "duration_seconds",
)
_FIELDWORK_DAYS = 28
_DURATION_MEDIAN, _DURATION_SD, _DURATION_MIN, _DURATION_MAX = 960.0, 0.35, 240.0, 5_400.0


@dataclass(frozen=True)
class ResearchTruth:
    """Ground truth planted in the research tables.

    Attributes
    ----------
    survey_id
        The survey's id in ``survey_responses``.
    n_respondents, n_customers
        Respondents in all, and how many of them are customers.
    segment_shares
        Segment → share among all respondents (weights of every ``"overall"`` truth).
    nps, van_westendorp, gabor_granger, conjoint, maxdiff, kano, text
        Survey truths (see their classes).
    positioning
        Brand positions, ideal points, white space, prices, features, share of voice.
    market
        Category trends and seasonality.
    questionnaire_yaml
        The questionnaire as YAML text (the orchestrator writes it to ``questionnaire.yaml``).
    """

    survey_id: str
    n_respondents: int
    n_customers: int
    segment_shares: dict[str, float]
    nps: NpsTruth
    van_westendorp: VanWestendorpTruth
    gabor_granger: GaborGrangerTruth
    conjoint: ConjointTruth
    maxdiff: MaxDiffTruth
    kano: KanoTruth
    text: TextTruth
    positioning: PositioningTruth
    market: MarketTruth
    questionnaire_yaml: str

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python form (data frames as lists of records, dates as ISO strings)."""
        return to_plain(self)


def _survey_frame(
    survey_id: str,
    panel: Panel,
    questions: list[Question],
    cfg: SampleConfig,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Assemble the long table, ordered by respondent then question."""
    n = panel.n
    end = datetime.combine(cfg.end, time())
    first = max(datetime.combine(cfg.start, time()), end - timedelta(days=_FIELDWORK_DAYS))
    window = max((end - first).total_seconds(), 0.0)
    offset = np.floor(rng.random(n) * window)
    duration = np.clip(
        np.round(_DURATION_MEDIAN * np.exp(_DURATION_SD * rng.standard_normal(n))),
        _DURATION_MIN,
        _DURATION_MAX,
    )
    started = np.datetime64(first, "s") + offset.astype("timedelta64[s]")
    resp = np.concatenate([q.respondents for q in questions])
    qpos = np.concatenate([np.full(len(q.respondents), k) for k, q in enumerate(questions)])
    order = np.lexsort((qpos, resp))
    resp, qpos = resp[order], qpos[order]
    ids = np.array([q.id for q in questions], dtype=object)
    answers = np.concatenate([q.answers for q in questions])[order]
    elapsed = np.floor(duration[resp] * (qpos + 1) / len(questions)).astype("timedelta64[s]")
    return pd.DataFrame(
        {
            "survey_id": survey_id,
            "respondent_id": panel.respondent_id[resp],
            "question_id": ids[qpos],
            "answer": answers,
            "customer_id": panel.customer_id[resp],
            "answered_at": (started[resp] + elapsed).astype("datetime64[us]"),
            "duration_seconds": duration[resp],
        },
        columns=list(SURVEY_COLUMNS),
    )


def _questionnaire(
    cfg: SampleConfig, survey_id: str, questions: list[Question], designs: dict[str, Any]
) -> str:
    doc = {
        "survey_id": survey_id,
        "title": f"{BRAND} outdoor gear survey {cfg.end.year}",
        "company": cfg.company,
        "brand": BRAND,
        "currency": cfg.currency,
        "segments": list(SEGMENTS),
        "format": {
            "table": "survey_responses",
            "layout": "long: one row per respondent and answered question",
            "answer": "text; numbers as digits, choices as option keys, multi as ';'-joined",
            "skipped": "a question not asked or not answered has no row",
        },
        "questions": [q.spec for q in questions],
        "designs": designs,
    }
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return yaml.dump(
        doc, Dumper=dumper, sort_keys=False, allow_unicode=True, width=100, default_flow_style=None
    )


def generate_research(
    cfg: SampleConfig, respondents: pd.DataFrame, sink: TableSink
) -> ResearchTruth:
    """Write ``survey_responses``, ``competitors`` and ``market_series``; return the truth.

    Parameters
    ----------
    cfg
        Settings; ``seed`` fixes every draw, ``start``/``end`` the dates.
    respondents
        Customers who answer the survey: columns ``customer_id`` and ``segment`` (names from
        ``SEGMENTS``). 20 % non-customers are added; the survey's size does not otherwise depend
        on ``cfg.n_customers``.
    sink
        Where the three tables are written (one ``write`` each).

    Returns
    -------
    ResearchTruth
        The planted parameters and the questionnaire YAML.
    """
    survey_id = f"brand-{cfg.end.year}"
    panel = build_panel(respondents, stream(cfg.seed, "panel"))
    nps_q, nps = generate_nps(panel, stream(cfg.seed, "nps"))
    price_q, vw, gg = generate_pricing(panel, stream(cfg.seed, "pricing"))
    cbc_q, cbc, cbc_design = generate_conjoint(panel, stream(cfg.seed, "conjoint"))
    md_q, md, md_design = generate_maxdiff(panel, stream(cfg.seed, "maxdiff"))
    kano_q, kano = generate_kano(panel, stream(cfg.seed, "kano"))
    rating_q = _generate_ratings(panel, stream(cfg.seed, "ratings"))
    text_q, text = generate_texts(panel, stream(cfg.seed, "texts"))
    questions = [
        generate_segment_question(panel),
        rating_q[0],  # brands_known
        *nps_q,
        *price_q,
        *cbc_q,
        *md_q,
        *kano_q,
        *rating_q[1:],
        *text_q,
    ]
    survey = _survey_frame(survey_id, panel, questions, cfg, stream(cfg.seed, "timing"))
    competitors, positioning = generate_competitors(cfg.end.year, stream(cfg.seed, "competitors"))
    market, market_truth = generate_market(cfg.start, cfg.end, stream(cfg.seed, "market"))
    sink.write("survey_responses", survey)
    sink.write("competitors", competitors)
    sink.write("market_series", market)
    return ResearchTruth(
        survey_id=survey_id,
        n_respondents=panel.n,
        n_customers=int(panel.is_customer.sum()),
        segment_shares=panel.shares(),
        nps=nps,
        van_westendorp=vw,
        gabor_granger=gg,
        conjoint=cbc,
        maxdiff=md,
        kano=kano,
        text=text,
        positioning=positioning,
        market=market_truth,
        questionnaire_yaml=_questionnaire(
            cfg, survey_id, questions, {"cbc": cbc_design, "maxdiff": md_design}
        ),
    )

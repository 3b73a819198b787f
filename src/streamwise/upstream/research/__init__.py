"""Market research: questionnaires, checked survey answers, respondent screening, NPS and
pricing research (Van Westendorp with Newton-Miller-Smith, Gabor-Granger)."""

from streamwise.upstream.research.nps import NpsDifference, NpsResult, nps, nps_by, nps_difference
from streamwise.upstream.research.pricing import (
    GaborGrangerResult,
    NmsResult,
    VanWestendorpResult,
    gabor_granger,
    newton_miller_smith,
    van_westendorp,
)
from streamwise.upstream.research.quality import Screening, screen
from streamwise.upstream.research.questionnaire import (
    QUESTION_TYPES,
    VW_POINTS,
    Question,
    Questionnaire,
    load_questionnaire,
)
from streamwise.upstream.research.responses import Survey

__all__ = [
    "QUESTION_TYPES",
    "VW_POINTS",
    "GaborGrangerResult",
    "NmsResult",
    "NpsDifference",
    "NpsResult",
    "Question",
    "Questionnaire",
    "Screening",
    "Survey",
    "VanWestendorpResult",
    "gabor_granger",
    "load_questionnaire",
    "newton_miller_smith",
    "nps",
    "nps_by",
    "nps_difference",
    "screen",
    "van_westendorp",
]

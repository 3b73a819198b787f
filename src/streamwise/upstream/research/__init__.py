"""Market research: questionnaires, checked survey answers, respondent screening, NPS and
pricing research (Van Westendorp with Newton-Miller-Smith, Gabor-Granger)."""

from streamwise.upstream.research.choices import check_choice_frame, choice_frame
from streamwise.upstream.research.conjoint import MixedLogit, MultinomialLogit
from streamwise.upstream.research.kano import KanoResult, kano, kano_by
from streamwise.upstream.research.market import competitor_scenario
from streamwise.upstream.research.maxdiff import (
    MaxDiffCounts,
    MaxDiffLogit,
    maxdiff_counts,
    maxdiff_logit,
    maxdiff_tasks,
)
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
from streamwise.upstream.research.themes import Theme, ThemeFinder, Themes

__all__ = [
    "QUESTION_TYPES",
    "VW_POINTS",
    "GaborGrangerResult",
    "KanoResult",
    "MaxDiffCounts",
    "MaxDiffLogit",
    "MixedLogit",
    "MultinomialLogit",
    "NmsResult",
    "NpsDifference",
    "NpsResult",
    "Question",
    "Questionnaire",
    "Screening",
    "Survey",
    "Theme",
    "ThemeFinder",
    "Themes",
    "VanWestendorpResult",
    "check_choice_frame",
    "choice_frame",
    "competitor_scenario",
    "gabor_granger",
    "kano",
    "kano_by",
    "load_questionnaire",
    "maxdiff_counts",
    "maxdiff_logit",
    "maxdiff_tasks",
    "newton_miller_smith",
    "nps",
    "nps_by",
    "nps_difference",
    "screen",
    "van_westendorp",
]

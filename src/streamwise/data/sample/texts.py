"""Open-text answers of the sample survey ("What could we do better?").

Each answer has exactly one planted theme and one planted sentiment. The theme is drawn from the
respondent's segment's theme probabilities, the sentiment from the segment's share of positive
answers. An answer is one or two sentences built from the theme's templates, whose slots are
filled from the theme's own word lists (``{a}``, ``{b}``, ... from :data:`THEMES`), plus shared
slots (``{product}``, ``{count}``, ...) and optional shared filler sentences. So the theme words
separate the themes and the filler is common to all of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from streamwise.data.sample.names import BRAND, SEGMENTS
from streamwise.data.sample.survey import Panel, Question, to_plain

__all__ = ["ANSWER_RATE", "THEMES", "TextTruth", "compose", "generate_texts"]

#: Share of respondents who answer the open question.
ANSWER_RATE = 0.85

#: Theme → slot → words. Slots are used by the templates below.
THEMES: dict[str, dict[str, tuple[str, ...]]] = {
    "durability": {
        "part": ("zipper", "seams", "stitching", "sole", "straps", "buckle", "poles", "fabric"),
        "fail": ("broke", "tore", "ripped", "frayed", "cracked", "split", "snapped", "wore out"),
        "good": ("durable", "sturdy", "robust", "tough", "solid"),
        "thing": ("build quality", "materials", "construction", "craftsmanship"),
    },
    "sizing": {
        "part": ("sizing", "size chart", "fit", "measurements", "sleeves", "waist", "length"),
        "fail": ("too small", "too tight", "too narrow", "too short", "too loose", "too big"),
        "good": ("true to size", "spot on", "just right", "perfect", "accurate"),
        "thing": ("size guide", "size exchange", "half sizes", "wide fit options"),
    },
    "shipping": {
        "part": ("delivery", "shipping", "parcel", "package", "courier", "tracking", "dispatch"),
        "fail": ("delayed", "late", "lost", "stuck in transit", "held at the depot"),
        "good": ("fast", "quick", "speedy", "prompt", "on time"),
        "thing": ("delivery estimate", "tracking updates", "carrier", "warehouse"),
    },
    "service": {
        "part": ("support", "agent", "staff", "hotline", "chat", "representative", "helpdesk"),
        "fail": ("rude", "unhelpful", "dismissive", "slow to reply", "impossible to reach"),
        "good": ("friendly", "helpful", "patient", "knowledgeable", "courteous"),
        "thing": ("refund", "return request", "complaint", "phone call", "email reply"),
    },
    "price": {
        "part": ("prices", "price tags", "costs", "price points"),
        "fail": ("overpriced", "expensive", "steep", "too high", "not affordable"),
        "good": ("affordable", "reasonable", "fair", "cheap", "a bargain"),
        "thing": ("discounts", "sales", "coupons", "deals", "loyalty rewards", "price matches"),
    },
    "sustainability": {
        "part": (
            "packaging",
            "plastic",
            "plastic bags",
            "chemicals",
            "PFAS coatings",
            "virgin polyester",
            "bubble wrap",
        ),
        "fail": ("wasteful", "unsustainable", "harmful", "polluting"),
        "good": ("eco friendly", "sustainable", "green", "ethical", "responsible"),
        "thing": ("environment", "planet", "climate", "oceans", "wildlife"),
        "ref": ("supply chain", "factories", "carbon footprint", "emissions", "certifications"),
        "eco": (
            "recycled fabrics",
            "organic cotton",
            "repair program",
            "secondhand program",
            "take-back scheme",
        ),
    },
}

_TEMPLATES: dict[str, dict[str, tuple[str, ...]]] = {
    "durability": {
        "negative": (
            "The {part} on my {product} {fail} after {count} trips.",
            "The {part} {fail} far too soon and the {part2} {fail2} as well.",
            "Please improve the {thing}, my {product} {fail} within {period}.",
            "I expected better {thing}, the {part} {fail} on the second trip.",
        ),
        "positive": (
            "My {product} is still {good} after {count} trips, the {part} holds up well.",
            "Really {good} {thing}, the {part} and {part2} never {fail}.",
            "Keep the {thing} this {good}, nothing {fail} in {period}.",
        ),
    },
    "sizing": {
        "negative": (
            "The {part} is off, my {product} came {fail}.",
            "Your {part} is confusing, everything I order is {fail} and the {part2} is {fail2}.",
            "Please add a better {thing}, the {product} was {fail} around the {part}.",
            "I had to send it back because it was {fail}, the {thing} did not help.",
        ),
        "positive": (
            "The {part} is {good}, my {product} fits well.",
            "Great {thing}, the {part} was {good} and the {part2} too.",
            "Keep the {thing}, my {product} is {good}.",
        ),
    },
    "shipping": {
        "negative": (
            "My {part} was {fail} for {count} days and the {thing} was wrong.",
            "The {part} was {fail} again and the {part2} never changed.",
            "Please fix the {thing}, the {part} of my {product} was {fail}.",
            "The {part} arrived {count} days {fail}, the {thing} kept changing.",
        ),
        "positive": (
            "The {part} was {good}, my {product} arrived in {count} days.",
            "Always {good} {part} and accurate {thing}.",
            "Keep the {part} this {good}, the {thing} was spot on.",
        ),
    },
    "service": {
        "negative": (
            "The {part} was {fail} when I asked about my {thing}.",
            "Customer service is {fail}, my {thing} took {count} weeks and the {part} was {fail2}.",
            "Please train the {part}, they were {fail} about a simple {thing}.",
            "I waited {count} days about my {thing}, the {part} seemed {fail}.",
        ),
        "positive": (
            "The {part} was {good} and sorted my {thing} in minutes.",
            "Customer service is {good}, the {part} handled my {thing} well.",
            "Keep the {part} this {good}, my {thing} went smoothly.",
        ),
    },
    "price": {
        "negative": (
            "The {part} are {fail}, a {product} should not cost this much.",
            "Everything is {fail} compared to other shops, more {thing} please.",
            "Your {part} went up again, the {product} is {fail} for my budget.",
            "Offer more {thing}, the {part} are simply {fail}.",
        ),
        "positive": (
            "The {part} are {good} and the {thing} are worth waiting for.",
            "Good value for money, my {product} was {good} with the {thing}.",
            "Keep the {part} {good}, the {thing} make a difference.",
        ),
    },
    "sustainability": {
        "negative": (
            "Too much {part} in every order, it is {fail} for the {thing}.",
            "Please stop using {part}, it is {fail} and bad for the {thing}.",
            "Tell us more about your {ref}, I worry about the {part} in my {product}.",
            "Cut the {part}, shipping a {product} like this is {fail}.",
        ),
        "positive": (
            "I love the {eco}, much better for the {thing}.",
            "Your {good} approach to {eco} and your {ref} is why I buy here.",
            "Keep the {eco} going, the {thing} matters to me.",
        ),
    },
}

_SHARED: dict[str, tuple[str, ...]] = {
    "product": ("tent", "jacket", "backpack", "boots", "sleeping bag", "stove", "order"),
    "count": ("two", "three", "four", "five", "six", "ten"),
    "period": ("a month", "a few weeks", "one season", "half a year"),
}
_OPENERS = (
    "Overall I am a loyal customer.",
    f"I have shopped with {BRAND} for years.",
    "Just one thing to mention.",
    "Thanks for asking.",
    "One suggestion.",
    "Good question.",
    "",
    "",
)
_CLOSERS = (
    "Thanks.",
    "That is all.",
    "Otherwise all good.",
    "I will keep shopping here.",
    "Hope this helps.",
    "",
    "",
)
#: Segment → theme probabilities (order of :data:`THEMES`).
_THEME_PROBS: dict[str, tuple[float, ...]] = {
    "Trail Enthusiasts": (0.25, 0.20, 0.10, 0.10, 0.10, 0.25),
    "Weekend Campers": (0.15, 0.15, 0.20, 0.25, 0.15, 0.10),
    "Bargain Hunters": (0.10, 0.10, 0.20, 0.10, 0.45, 0.05),
    "Gift Shoppers": (0.05, 0.25, 0.35, 0.20, 0.10, 0.05),
    "Alpine Pros": (0.45, 0.15, 0.05, 0.10, 0.05, 0.20),
}
#: Segment → probability that an answer is positive.
_POSITIVE: dict[str, float] = {
    "Trail Enthusiasts": 0.45,
    "Weekend Campers": 0.40,
    "Bargain Hunters": 0.25,
    "Gift Shoppers": 0.35,
    "Alpine Pros": 0.55,
}
#: Probability that an answer has a second theme sentence.
_SECOND_SENTENCE = 0.7
_SLOT = re.compile(r"\{(\w+?)(\d?)\}")


@dataclass(frozen=True)
class TextTruth:
    """Planted themes and sentiments of the open-text answers.

    Attributes
    ----------
    question_id
        The open question's id.
    themes
        Theme names in a fixed order.
    vocabulary
        Theme → the words and phrases its templates fill in.
    theme_probabilities
        Segment → theme → probability.
    positive_share
        Segment → probability that an answer is positive.
    answers
        One row per answer: ``respondent_id``, ``theme``, ``sentiment`` (positive | negative).
    answer_rate
        Probability that a respondent answers.
    """

    question_id: str
    themes: tuple[str, ...]
    vocabulary: dict[str, tuple[str, ...]]
    theme_probabilities: dict[str, dict[str, float]]
    positive_share: dict[str, float]
    answers: pd.DataFrame
    answer_rate: float

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python form."""
        return to_plain(self)


def _pick(rng: np.random.Generator, words: tuple[str, ...]) -> str:
    return words[int(rng.integers(len(words)))]


def _sentence(
    rng: np.random.Generator, theme: str, sentiment: str, avoid: str = ""
) -> tuple[str, str]:
    """A sentence of ``theme`` and ``sentiment`` (not from template ``avoid``) and its template."""
    words = THEMES[theme]
    template = _pick(rng, tuple(t for t in _TEMPLATES[theme][sentiment] if t != avoid))
    used: dict[str, str] = {}

    def fill(m: re.Match[str]) -> str:
        slot, k = m.group(1), m.group(2)
        pool = words.get(slot) or _SHARED[slot]
        if k:  # a second word from the same slot: differ from the first when possible
            rest = tuple(w for w in pool if w != used.get(slot)) or pool
            return _pick(rng, rest)
        used[slot] = _pick(rng, pool)
        return used[slot]

    return _SLOT.sub(fill, template), template


def compose(rng: np.random.Generator, theme: str, sentiment: str) -> str:
    """One answer of ``theme`` and ``sentiment`` (opener, one or two sentences, closer)."""
    opener = _pick(rng, _OPENERS)
    first, template = _sentence(rng, theme, sentiment)
    parts = [opener, first]
    if rng.random() < _SECOND_SENTENCE:
        parts.append(_sentence(rng, theme, sentiment, avoid=template)[0])
    parts.append(_pick(rng, _CLOSERS))
    text = " ".join(p for p in parts if p)
    return text[0].upper() + text[1:]


def generate_texts(panel: Panel, rng: np.random.Generator) -> tuple[list[Question], TextTruth]:
    """``improve_text``: "What could we do better?", answered by about 85 % of respondents.

    Parameters
    ----------
    panel
        The respondents.
    rng
        Random stream.

    Returns
    -------
    tuple of (list of Question, TextTruth)
    """
    themes = tuple(THEMES)
    who = np.flatnonzero(rng.random(panel.n) < ANSWER_RATE)
    seg = panel.segment[who]
    theme_idx = np.zeros(len(who), dtype=np.int64)
    positive = np.zeros(len(who), dtype=bool)
    for s, name in enumerate(SEGMENTS):
        idx = np.flatnonzero(seg == s)
        theme_idx[idx] = rng.choice(len(themes), size=len(idx), p=_THEME_PROBS[name])
        positive[idx] = rng.random(len(idx)) < _POSITIVE[name]
    sentiments = np.where(positive, "positive", "negative")
    answers = [
        compose(rng, themes[t], str(snt)) for t, snt in zip(theme_idx, sentiments, strict=True)
    ]
    spec = {
        "id": "improve_text",
        "type": "text",
        "text": f"What could {BRAND} do better?",
        "optional": True,
    }
    truth = TextTruth(
        question_id="improve_text",
        themes=themes,
        vocabulary={
            t: tuple(w for ws in slots.values() for w in ws) for t, slots in THEMES.items()
        },
        theme_probabilities={s: dict(zip(themes, p, strict=True)) for s, p in _THEME_PROBS.items()},
        positive_share=dict(_POSITIVE),
        answers=pd.DataFrame(
            {
                "respondent_id": panel.respondent_id[who].astype(str),
                "theme": np.array(themes, dtype=object)[theme_idx],
                "sentiment": sentiments,
            }
        ),
        answer_rate=ANSWER_RATE,
    )
    return [Question(spec, who, np.array(answers, dtype=object))], truth

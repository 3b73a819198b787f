"""Journeys: customers enter on an event (from the tracking server) or a change of state
computed upstream, then go through steps — send, wait, branch, split, update, notify sales,
exit — advanced by ``streamwise worker`` from a durable schedule in the operational database.

Define one in YAML (:func:`load_journey`, the shipped :func:`templates`), store it
(:func:`create_journey`), run a :class:`Worker`. See ``docs/journeys.md``.
"""

from streamwise.downstream.journeys.definition import JourneyDefinition, Step, Trigger
from streamwise.downstream.journeys.load import Issue, JourneyError, load_journey, parse_journey
from streamwise.downstream.journeys.report import JourneyReport, journey_report, list_journeys
from streamwise.downstream.journeys.runner import Totals, Worker
from streamwise.downstream.journeys.store import create_journey, journey_by_name, set_state
from streamwise.downstream.journeys.templates import (
    TEMPLATE_NAMES,
    load_template,
    template_text,
    templates,
)

__all__ = [
    "TEMPLATE_NAMES",
    "Issue",
    "JourneyDefinition",
    "JourneyError",
    "JourneyReport",
    "Step",
    "Totals",
    "Trigger",
    "Worker",
    "create_journey",
    "journey_by_name",
    "journey_report",
    "list_journeys",
    "load_journey",
    "load_template",
    "parse_journey",
    "set_state",
    "template_text",
    "templates",
]

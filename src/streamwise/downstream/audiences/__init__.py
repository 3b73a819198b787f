"""Audiences: who to reach, written as filters, resolved at send time, then cleaned by rules.

A filter such as ``segment = "Weekend Campers" and last_order within 90 days`` is parsed
(:func:`parse_filter`), compiled to Ibis (:func:`compile_filter`) and run in the analytics
database by :func:`resolve`. :func:`apply_rules` then removes people without consent, with bad
or suppressed addresses, over the frequency cap or sharing an address, and says how many and why.
"""

from streamwise.downstream.audiences.audience import (
    MEMBER_COLUMNS,
    Audience,
    ResolvedAudience,
    resolve,
)
from streamwise.downstream.audiences.compiler import compile_filter, filter_fields
from streamwise.downstream.audiences.fields import (
    FIELDS,
    FieldSpec,
    FieldTable,
    field_table,
    fields_markdown,
)
from streamwise.downstream.audiences.filters import FilterError, parse_filter, quote
from streamwise.downstream.audiences.rules import FrequencyCap, RuleResult, apply_rules
from streamwise.downstream.audiences.suppression import (
    SuppressionEntry,
    suppress,
    suppressed,
    unsuppress,
)

__all__ = [
    "FIELDS",
    "MEMBER_COLUMNS",
    "Audience",
    "FieldSpec",
    "FieldTable",
    "FilterError",
    "FrequencyCap",
    "ResolvedAudience",
    "RuleResult",
    "SuppressionEntry",
    "apply_rules",
    "compile_filter",
    "field_table",
    "fields_markdown",
    "filter_fields",
    "parse_filter",
    "quote",
    "resolve",
    "suppress",
    "suppressed",
    "unsuppress",
]

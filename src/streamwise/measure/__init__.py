"""Measurement that feeds back into the plan: experiments, incrementality, attribution, media mix,
budget allocation and the plan-versus-actual feedback.

Modules: :mod:`~streamwise.measure.experiments`, :mod:`~streamwise.measure.incrementality`,
:mod:`~streamwise.measure.attribution`, :mod:`~streamwise.measure.mmm`,
:mod:`~streamwise.measure.curves`, :mod:`~streamwise.measure.budget`,
:mod:`~streamwise.measure.feedback`.
"""

__all__: list[str] = []

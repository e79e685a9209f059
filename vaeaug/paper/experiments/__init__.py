"""The paper's experiments, one room each.

- :mod:`~vaeaug.paper.experiments.protocols`: datasets, their splits and VAE settings
  (:data:`PROTOCOLS`); add a protocol there.
- :mod:`~vaeaug.paper.experiments.paper`: the paper's generation recipe and its
  published tables.
- :mod:`~vaeaug.paper.experiments.competitors`: the classifiers that score a
  training set and the augmenters vaeaug is compared with; add one there.
- :mod:`~vaeaug.paper.experiments.runner`: :func:`run_protocol`, every cell of a
  protocol.
- :mod:`~vaeaug.paper.experiments.report`: tables and CSV files of the results.
"""

from .competitors import CLASSIFIERS, COMPETITORS, make_classifier, make_competitor
from .paper import METHODS, PAPER_RECIPE, PAPER_RESULTS
from .protocols import PROTOCOLS, ExperimentData, Protocol
from .runner import RECIPE_PARAMETERS, RUN_VAE_PARAMETERS, recipe_name, run_protocol

__all__ = [
    "CLASSIFIERS",
    "COMPETITORS",
    "METHODS",
    "PAPER_RECIPE",
    "PAPER_RESULTS",
    "PROTOCOLS",
    "RECIPE_PARAMETERS",
    "RUN_VAE_PARAMETERS",
    "ExperimentData",
    "Protocol",
    "make_classifier",
    "make_competitor",
    "recipe_name",
    "run_protocol",
]

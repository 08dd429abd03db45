"""Synthetic companies with a known ground truth, for demos, tests and benchmarks.

:func:`generate_company` writes a data folder in the contract's format (§1) and a
``truth/`` folder with what no model may see (each rep's capacity per year, the
shocks, the seasonality, the plan year's deals). Modules:

- ``org``: unit tree, seats, hires and departures, latent skill
- ``books``: accounts and territories
- ``sales``: capacity and the deals it produces
- ``quotas``: last year's quotas, set the way companies set them
- ``tables``: the contract's tables; ``company``: the public entry point and writing
- ``truth``: what any assignment of accounts would sell (companies generated with book options)
"""

from quotaopt.datasets.company import generate_company
from quotaopt.datasets.truth import book_capacity

__all__ = ["book_capacity", "generate_company"]

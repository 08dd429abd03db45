"""Measures beyond revenue: their names, and (in later modules) their targets per rep."""

from quotaopt.measure_names import PLANNED_FAMILIES, Measure, parse_measure

__all__ = ["PLANNED_FAMILIES", "Measure", "parse_measure"]

"""Synthetic city: every source of the data contracts, from a documented generating process."""

from synth.city import SCALES, CitySpec, generate_city, spec_for_scale

__all__ = ["SCALES", "CitySpec", "generate_city", "spec_for_scale"]

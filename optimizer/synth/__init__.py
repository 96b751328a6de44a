"""The county generator: instances and road networks for any Guizhou county, from the real
tables in ``optimizer/synth/data/`` (NBS 2023 villages and townships, county seats, the
OpenStreetMap trunk-road skeleton) plus seeded synthetic parts."""

from optimizer.synth._geo import county_codes
from optimizer.synth.county import PRODUCTS, default_name, generate_county

__all__ = ["PRODUCTS", "county_codes", "default_name", "generate_county"]

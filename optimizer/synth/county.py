"""Generate a county instance (TOML + CSV tables) and its road network (GeoJSON).

:func:`generate_county` builds an instance for any Guizhou county code of the NBS village
list from the real tables in ``optimizer/synth/data/`` (village and township names and codes,
county seats, Xiuwen township seats, the OpenStreetMap trunk-road skeleton) plus seeded
synthetic parts (village positions, rural roads, terrain, households, volumes, candidate
sites, costs). The same seed gives byte-identical files. Calibration figures and
assumptions are documented next to the constants below (sources: ``research/domain.md``).

Units: lon/lat degrees WGS84 (6 decimals), elevations m (1 decimal), kg/day, yuan.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import tomli_w

from optimizer._io import atomic_dir, write_text
from optimizer.errors import InstanceError
from optimizer.synth._geo import (
    XIUWEN_CODE,
    County,
    Network,
    Township,
    VillageRec,
    build_network,
    draw_households,
    load_places,
    make_terrain,
    place_townships,
    place_villages,
    rng_for,
    shape_roads,
)

__all__ = ["PRODUCTS", "ProductPreset", "generate_county"]

_S_VOLUMES, _S_SITES = 11, 12


@dataclass(frozen=True)
class ProductPreset:
    """Product parameters and volume calibration (all documented assumptions).

    ``season_output_t`` is the marketed harvest of the reference county over the peak;
    other counties get ``season_output_t_per_village`` x their village count.
    ``township_weights`` (reference county only) concentrate production by township code.
    """

    name: str
    label: str
    value_yuan_per_kg: float
    order_kg: float
    decay_per_h_at_ref: float
    q10: float
    storage_temp_c: float
    uncollected_ambient_h: float
    precool_deadline_h: float
    peak_days: int
    peak_label: str
    off_label: str
    reference_county: str
    season_output_t: float
    off_fraction: float  # off-season produce per day as a share of the peak, county-wide
    township_weights: dict[str, float] = field(default_factory=dict)

    @property
    def season_output_t_per_village(self) -> float:
        """Harvest per village (t/season) used outside the reference county."""
        return self.season_output_t / _REFERENCE_VILLAGES[self.reference_county]


_REFERENCE_VILLAGES = {"520123": 126, "520328": 137, "520425": 174}

#: Product presets. Kiwifruit from domain.md 2.1-2.3 (Xiuwen: >100,000 t from 167,000 mu,
#: harvest ~21 Sep through Oct => 42 days, 5.0 kg per e-commerce order, 10-30 yuan/kg in
#: 2017 retail; farm-gate 12 assumed; theta 0.0019/h at 22 C, Q10 3). Tea and sweet potato
#: are ASSUMPTIONS of the right order of magnitude (no stored source): Meitan fresh tea leaf
#: ~40,000 t over a 45-day spring flush, 30 yuan/kg, wilting/heating ~2 %/h at 22 C, Q10 2.5,
#: kept at 5 C, must reach a cooler within 6 h; Ziyun red-heart sweet potato ~60,000 t
#: marketed fresh over a 50-day autumn harvest, 3 yuan/kg, ~1 %/day at 22 C, Q10 2, stored at
#: 13 C (chilling injury below ~10 C is not modelled).
PRODUCTS: dict[str, ProductPreset] = {
    "kiwifruit": ProductPreset(
        name="kiwifruit", label="Kiwifruit (Guichang 贵长)", value_yuan_per_kg=12.0,
        order_kg=5.0, decay_per_h_at_ref=0.0019, q10=3.0, storage_temp_c=0.0,
        uncollected_ambient_h=72.0, precool_deadline_h=12.0, peak_days=42,
        peak_label="Kiwifruit harvest peak (late Sep-Oct, 6 weeks)",
        off_label="Off-season (Nov-mid Sep)", reference_county="520123",
        season_output_t=100_000.0, off_fraction=0.03,
        # western townships grow most (六桶 六广 大石 洒坪, then 谷堡 小箐); little in town
        township_weights={
            "520123106": 3.0, "520123204": 2.6, "520123103": 2.6, "520123105": 2.6,
            "520123107": 2.2, "520123108": 1.8, "520123005": 0.8, "520123104": 0.6,
            "520123004": 0.5, "520123001": 0.3, "520123002": 0.12, "520123003": 0.12,
        },
    ),
    "tea": ProductPreset(
        name="tea", label="Fresh tea leaf", value_yuan_per_kg=30.0, order_kg=1.0,
        decay_per_h_at_ref=0.02, q10=2.5, storage_temp_c=5.0, uncollected_ambient_h=12.0,
        precool_deadline_h=6.0, peak_days=45,
        peak_label="Spring tea flush (mid Mar-Apr, 45 days)", off_label="Off-season (May-Feb)",
        reference_county="520328", season_output_t=40_000.0, off_fraction=0.04,
    ),
    "sweet-potato": ProductPreset(
        name="sweet-potato", label="Red-heart sweet potato", value_yuan_per_kg=3.0,
        order_kg=5.0, decay_per_h_at_ref=0.0004, q10=2.0, storage_temp_c=13.0,
        uncollected_ambient_h=168.0, precool_deadline_h=48.0, peak_days=50,
        peak_label="Sweet potato harvest (Sep-Oct, 50 days)",
        off_label="Off-season (Nov-Aug)", reference_county="520425",
        season_output_t=60_000.0, off_fraction=0.02,
    ),
}

# Calibration constants (documented in the instance README and the TOML `synthetic` text).
PICKUP_SHARE = 0.35            # villages with a parcel pickup point today (seed claim 35.1 %)
HUB_COLD_SHARE = 0.22          # existing hub pre-cooling capacity / peak produce per day
MODULE_T = 30.0                # t per container module per turn
TURNS_PER_DAY = 1.0
#: A 40 ft container cold room costs 15-25 k USD new (domain.md 3.1) = 110-180 k yuan at
#: 7.2 yuan/USD: bought at 120,000 yuan; power 5 kW x 24 h x 0.6 yuan/kWh = 72 yuan/day;
#: leased at ~20 %/year of the price (~66 yuan/day) plus power => 150 yuan/day.
COLD_STORAGE = {"turns_per_day": TURNS_PER_DAY, "module_add_cost_yuan": 5000.0,
                "module_remove_cost_yuan": 2000.0, "module_buy_yuan": 120_000.0,
                "module_power_yuan_per_day": 72.0, "module_lease_yuan_per_day": 150.0,
                # one operator per active store (~4,500 yuan/month); a closed site's upkeep
                "site_staff_yuan_per_day": 150.0, "standby_yuan_per_season": 1000.0}
#: discounting and asset lives (ASSUMPTIONS; instances/README.md)
ECONOMICS = {"discount_rate": 0.06, "horizon_years": 10, "site_life_years": 15.0,
             "module_life_years": 10.0, "vehicle_life_years": 8.0, "pickup_life_years": 5.0,
             "pickup_setup_yuan": 3000.0, "line_haul_yuan_per_kg": 0.0}
#: share of a season's days: rain days in the off-season (Guizhou's rainy season, May to
#: September, about a quarter of the off-season's days); the stress case 10 % of the peak
SCENARIO_SHARES = {"off": 0.75, "rain": 0.25, "peak": 0.9, "stress": 0.1}
#: a hired vehicle costs its owned day cost x this (driver and margin; ASSUMPTION)
HIRE_PREMIUM = 1.5
#: power supply of candidate stores: the hub and township seats on the county grid, orchard
#: villages on rural lines, which storms cut on rain days for about this many hours
#: (ASSUMPTION: the seed's "unstable power" of village cold stations)
RAIN_OUTAGE_H = {"rural": 6.0}
ORDERS_PER_HH_OFF = {"village": 0.06, "urban": 0.09}   # parcels/household/day, off-season
ORDERS_PEAK_FACTOR = 1.3       # harvest income, packaging and inputs raise parcels at peak


def _fmt(x: float, nd: int) -> str:
    """Fixed-decimal text of ``x`` (no negative zero)."""
    s = f"{x:.{nd}f}"
    return s[1:] if s.startswith("-") and float(s) == 0 else s


# --------------------------------------------------------------------------------------------
# Volumes and sites
# --------------------------------------------------------------------------------------------

@dataclass
class _Volumes:
    peak_kg: dict[str, float]
    off_kg: dict[str, float]
    orders_off: dict[str, float]
    orders_peak: dict[str, float]
    pickup: set[str]


def _volumes(county: County, townships: list[Township], villages: list[VillageRec],
             preset: ProductPreset, seed: int) -> _Volumes:
    """Produce (kg/day) by season, parcels/day by season and today's pickup points."""
    rng = rng_for(seed, _S_VOLUMES, county.code)
    if county.code == preset.reference_county:
        season_t = preset.season_output_t
    else:
        season_t = preset.season_output_t_per_village * len(villages)
    peak_total_kg = season_t * 1000.0 / preset.peak_days
    tw: dict[str, float] = {}
    for t in townships:
        if county.code == preset.reference_county and preset.township_weights:
            tw[t.code] = preset.township_weights.get(t.code, 1.0)
        else:
            tw[t.code] = 0.12 if t.urban else float(np.exp(0.6 * rng.normal()))
    raw = {}
    for v in villages:
        noise = float(np.exp(0.5 * rng.normal()))
        raw[v.code] = tw[v.township_code] * noise * (0.1 if v.urban else 1.0)
    total = sum(raw.values())
    peak = {k: round(peak_total_kg * w / total, 1) for k, w in raw.items()}
    off = {k: round(p * preset.off_fraction * float(rng.uniform(0.7, 1.3)), 1)
           for k, p in peak.items()}
    orders_off, orders_peak = {}, {}
    for v in villages:
        rate = ORDERS_PER_HH_OFF["urban" if v.urban else "village"]
        o = v.households * rate * float(rng.uniform(0.8, 1.2))
        orders_off[v.code] = round(o, 1)
        orders_peak[v.code] = round(o * ORDERS_PEAK_FACTOR, 1)
    seats = {t.code: (t.lon, t.lat) for t in townships}
    score = {}
    for v in villages:
        sx, sy = seats[v.township_code]
        d_km = math.hypot((v.lon - sx) * 111.32 * math.cos(math.radians(sy)),
                          (v.lat - sy) * 110.57)
        score[v.code] = math.log(v.households) - d_km / 3.0 + 0.3 * float(rng.normal())
    n_pick = round(PICKUP_SHARE * len(villages))
    pickup = set(sorted(score, key=lambda c: (-score[c], c))[:n_pick])
    return _Volumes(peak_kg=peak, off_kg=off, orders_off=orders_off, orders_peak=orders_peak,
                    pickup=pickup)


def _cold_store_rows(county: County, townships: list[Township], villages: list[VillageRec],
                     vol: _Volumes, net: Network, seed: int) -> list[dict[str, str]]:
    """The county hub (existing) plus candidates at township seats and big orchard villages."""
    rng = rng_for(seed, _S_SITES, county.code)
    peak_t = sum(vol.peak_kg.values()) / 1000.0
    existing = max(1, round(HUB_COLD_SHARE * peak_t / (MODULE_T * TURNS_PER_DAY)))
    rows = [{
        "id": "cs-hub", "name": f"{county.name}冷链物流中心 (county hub)",
        "lon": _fmt(net.hub[0], 6), "lat": _fmt(net.hub[1], 6),
        "module_capacity_t": _fmt(MODULE_T, 1), "max_modules": str(max(30, existing + 15)),
        "opening_cost_yuan": _fmt(60_000.0, 1),
        "existing": "1", "existing_modules": str(existing), "power": "grid",
    }]
    town_t = {t.code: 0.0 for t in townships}
    for v in villages:
        town_t[v.township_code] += vol.peak_kg[v.code] / 1000.0
    for t in townships:
        mm = int(min(max(round(town_t[t.code] / MODULE_T), 10), 30))
        rows.append({
            "id": f"cs-{t.code}", "name": f"{t.name}冷库候选点",
            "lon": _fmt(t.lon, 6), "lat": _fmt(t.lat, 6),
            "module_capacity_t": _fmt(MODULE_T, 1), "max_modules": str(mm),
            "opening_cost_yuan": _fmt(1000.0 * round(float(rng.uniform(40, 60))), 1),
            "existing": "0", "existing_modules": "0", "power": "grid",
        })
    cands = [v for v in villages if v.code not in net.track_villages and not v.urban]
    k = max(3, round(0.04 * len(villages)))
    for v in sorted(cands, key=lambda v: (-vol.peak_kg[v.code], v.code))[:k]:
        mm = int(min(max(round(vol.peak_kg[v.code] / 1000.0 / MODULE_T), 10), 20))
        rows.append({
            "id": f"cs-{v.code}", "name": f"{v.name}冷库候选点",
            "lon": _fmt(v.lon, 6), "lat": _fmt(v.lat, 6),
            "module_capacity_t": _fmt(MODULE_T, 1), "max_modules": str(mm),
            "opening_cost_yuan": _fmt(1000.0 * round(float(rng.uniform(25, 40))), 1),
            "existing": "0", "existing_modules": "0", "power": "rural",
        })
    return rows


def _pickup_rows(county: County, villages: list[VillageRec], vol: _Volumes,
                 seed: int) -> list[dict[str, str]]:
    """One pickup candidate per village (3,000-6,000 yuan/yr); existing where one is today."""
    rng = rng_for(seed, _S_SITES + 1, county.code)
    return [{
        "id": f"pp-{v.code}", "name": f"{v.name}快递服务点", "lon": _fmt(v.lon, 6),
        "lat": _fmt(v.lat, 6),
        "opening_cost_yuan": _fmt(100.0 * round(float(rng.uniform(30, 60))), 1),
        "existing": "1" if v.code in vol.pickup else "0", "village_id": v.code,
    } for v in villages]


def _village_rows(villages: list[VillageRec], vol: _Volumes) -> list[dict[str, str]]:
    return [{
        "id": v.code, "name": v.name, "township": v.township_name,
        "township_code": v.township_code, "lon": _fmt(v.lon, 6), "lat": _fmt(v.lat, 6),
        "households": str(v.households),
        "orders_per_day_off": _fmt(vol.orders_off[v.code], 1),
        "orders_per_day_peak": _fmt(vol.orders_peak[v.code], 1),
        "produce_kg_per_day_off": _fmt(vol.off_kg[v.code], 1),
        "produce_kg_per_day_peak": _fmt(vol.peak_kg[v.code], 1),
        "has_pickup_point": "1" if v.code in vol.pickup else "0",
    } for v in villages]


# --------------------------------------------------------------------------------------------
# TOML
# --------------------------------------------------------------------------------------------

#: Fleet (domain.md 1.2: fixed 100-300 yuan/vehicle/day, refrigeration 13.5-18 yuan/h;
#: per-km costs ASSUMED from ~7.5 yuan/L diesel and driver time: 7 t reefer truck 0.25 L/km
#: + tyres/driver => 2.6, hired 8 t ambient truck 2.2, reefer van 1.5, van 1.1, farm tricycle
#: 0.5 yuan/km). Counts of the two truck types scale with the county's peak produce (see
#: :func:`fleet`); vans and tricycles are fixed.
#: one-off prices (yuan; ASSUMPTIONS of the right order: a 7 t reefer truck ~350,000, an
#: 8 t truck ~250,000, a reefer van ~180,000, a van ~90,000, an electric farm tricycle ~8,000)
FLEET: list[dict[str, object]] = [
    {"id": "reefer-7t", "count": 4, "baseline_count": 4, "capacity_kg": 7000.0,
     "fixed_cost_yuan_per_day": 300.0, "cost_yuan_per_km": 2.6,
     "refrigeration_yuan_per_h": 16.0, "temperature_c": 2.0, "profile": "truck",
     "forbidden_road_classes": ["track"], "max_trips": 6, "co2_kg_per_km": 0.35,
     "purchase_yuan": 350_000.0},
    {"id": "truck-8t", "count": 8, "baseline_count": 8, "capacity_kg": 8000.0,
     "fixed_cost_yuan_per_day": 250.0, "cost_yuan_per_km": 2.2,
     "refrigeration_yuan_per_h": 0.0, "temperature_c": 22.0, "profile": "truck",
     "forbidden_road_classes": ["track"], "max_trips": 6, "co2_kg_per_km": 0.3,
     "purchase_yuan": 250_000.0},
    {"id": "reefer-van", "count": 1, "baseline_count": 1, "capacity_kg": 1500.0,
     "fixed_cost_yuan_per_day": 200.0, "cost_yuan_per_km": 1.5,
     "refrigeration_yuan_per_h": 13.5, "temperature_c": 4.0, "profile": "van",
     "forbidden_road_classes": [], "max_trips": 4, "co2_kg_per_km": 0.22,
     "purchase_yuan": 180_000.0, "max_hired": 9},
    {"id": "van", "count": 8, "baseline_count": 8, "capacity_kg": 1500.0,
     "fixed_cost_yuan_per_day": 150.0, "cost_yuan_per_km": 1.1,
     "refrigeration_yuan_per_h": 0.0, "temperature_c": 22.0, "profile": "van",
     "forbidden_road_classes": [], "max_trips": 4, "co2_kg_per_km": 0.18,
     "purchase_yuan": 90_000.0, "max_hired": 4},
    {"id": "tricycle", "count": 20, "baseline_count": 12, "capacity_kg": 500.0,
     "fixed_cost_yuan_per_day": 80.0, "cost_yuan_per_km": 0.5,
     "refrigeration_yuan_per_h": 0.0, "temperature_c": 22.0, "profile": "tricycle",
     "forbidden_road_classes": ["expressway", "class1"], "max_trips": 3,
     "co2_kg_per_km": 0.06, "purchase_yuan": 8_000.0},
]
_TRUCK_LOAD_FACTOR = 0.85
#: what a peak day's routes carry per vehicle, share of capacity x trips: the plan of the
#: default instance collected 2,161 t with 97 vehicles (22 t each, 53 % of a 7 t reefer's
#: six trips); hires are sized with this so that they do not cap the peak
_PEAK_ROUTE_LOAD_FACTOR = 0.55


def fleet(peak_kg: float, hub_capacity_kg: float) -> list[dict[str, object]]:
    """The county's fleet: today's vehicles owned; reefer trucks for hire at the peak, sized
    to carry the whole peak at the load routes achieve; today's ambient trucks sized to reach
    the hub's pre-cooling
    capacity (with the reefers); reefer vans and vans for hire on busy days. A hired vehicle
    costs its owned day cost x ``HIRE_PREMIUM``."""

    def day_kg(v: dict[str, object]) -> float:
        """kg one truck carries per day: capacity x trips x load factor."""
        return float(str(v["capacity_kg"])) * int(str(v["max_trips"])) * _TRUCK_LOAD_FACTOR

    out = []
    for v in FLEET:
        v = dict(v)
        if v["id"] == "reefer-7t":
            routed = day_kg(v) * _PEAK_ROUTE_LOAD_FACTOR / _TRUCK_LOAD_FACTOR
            v["max_hired"] = max(0, math.ceil(peak_kg / routed) - int(str(v["count"])))
        elif v["id"] == "truck-8t":
            reefer = FLEET[0]
            reefer_kg = day_kg(reefer) * int(str(reefer["baseline_count"]))
            n = max(0, math.ceil((hub_capacity_kg - reefer_kg) / day_kg(v)))
            v["count"] = v["baseline_count"] = n
        if int(str(v.get("max_hired", 0))) > 0:
            v["hire_yuan_per_day"] = float(str(v["fixed_cost_yuan_per_day"])) * HIRE_PREMIUM
        out.append(v)
    return out


_RAIN_SPEED = {"class3": 0.8, "class4": 0.7, "track": 0.6}
_RAIN_CLOSURE = {"class4": 0.02, "track": 0.05}


def _synthetic_text(county: County, preset: ProductPreset, seed: int, n_track: int) -> str:
    ref = county.code == preset.reference_county
    season_t = preset.season_output_t if ref else preset.season_output_t_per_village
    per_village = "" if ref else " per village"
    real_seats = ("township seats (10 of 12 from xiuwen_township_seats.csv, ~1 km accuracy; "
                  "阳明洞街道 and 景阳街道 synthetic near the county seat)"
                  if county.code == XIUWEN_CODE else "")
    reals = ", ".join(p for p in (
        "village and township names and 12-digit NBS 2023 codes", "county seat position",
        real_seats, "trunk-road skeleton (OpenStreetMap via scgraph_data, straight edges, "
                    "labelled class1: the source has no road class)",
        "county extent and area" if county.real_extent else "") if p)
    return (
        f"Generated by `coldchain generate --county {county.code} --seed {seed} "
        f"--product {preset.name}`. REAL: {reals}. SYNTHETIC (seeded): "
        + ("township seats (around the county seat), " if county.code != XIUWEN_CODE else "")
        + ("county extent (square from the village count x 9.8 km2), "
           if not county.real_extent else "")
        + "village positions (1.5-7 km from their township seat, 0.5-3 km for "
        "neighbourhood committees, >= 600 m apart), terrain (Gaussian ridges + value noise, "
        "900-1,700 m, mean 1,250 m) and all elevations, rural roads (class2 seat links, "
        f"class3/class4 village roads, {n_track} track-only villages, extra loop links; "
        "meandering, sinuosity 1.2-1.8), households, produce volumes "
        f"({season_t:,.0f} t{per_village} over "
        f"{preset.peak_days} peak days, township weights + village noise; off-season "
        f"{preset.off_fraction:.0%} of peak), parcels per household, today's pickup points "
        f"({PICKUP_SHARE:.0%} of villages) and cold store (hub at "
        f"{HUB_COLD_SHARE:.0%} of peak), candidate sites, all costs and the fleet. "
        "See README.md beside this file."
    )


def _instance_toml(county: County, preset: ProductPreset, name: str, network_rel: str,
                   seed: int, n_track: int, vehicles: list[dict[str, object]],
                   rural_sites: bool = True) -> str:
    off_days = 365 - preset.peak_days
    # the rain outages cut rural lines: only where a candidate site is on one
    outage = dict(RAIN_OUTAGE_H) if rural_sites else {}
    doc: dict[str, object] = {
        "format_version": 1,
        "name": name,
        "title": f"{county.slug.capitalize()} ({county.name}) {preset.name} cold chain",
        "county_code": county.code,
        "synthetic": _synthetic_text(county, preset, seed, n_track),
        "files": {"network": network_rel, "villages": "villages.csv",
                  "cold_store_sites": "cold_store_sites.csv",
                  "pickup_sites": "pickup_sites.csv"},
        "product": {
            "name": preset.name, "value_yuan_per_kg": preset.value_yuan_per_kg,
            "order_kg": preset.order_kg, "decay_per_h_at_ref": preset.decay_per_h_at_ref,
            "ref_temp_c": 22.0, "q10": preset.q10, "ambient_temp_c": 22.0,
            "storage_temp_c": preset.storage_temp_c,
            "uncollected_ambient_h": preset.uncollected_ambient_h,
            "perishable_requires_reefer": False,
        },
        "operations": {
            "day_start": "06:00", "day_end": "20:00", "harvest_ready": "08:00",
            "precool_deadline_h": preset.precool_deadline_h, "coverage_radius_min": 30.0,
            "max_snap_m": 3000.0, "service_min_per_stop": 10.0, "service_min_per_t": 6.0,
            "lot_kg": 7000.0, "hub": "cs-hub", "reload_min": 20.0,
        },
        "cold_storage": dict(COLD_STORAGE),
        "economics": dict(ECONOMICS),
        "vehicles": [{**v, "depot": "cs-hub"} for v in vehicles],
        "seasons": [
            {"id": "off", "days": off_days, "label": preset.off_label},
            {"id": "peak", "days": preset.peak_days, "label": preset.peak_label},
        ],
        "scenarios": [
            {"id": "off", "season": "off", "label": "Off-season, dry roads",
             "probability": SCENARIO_SHARES["off"]},
            {"id": "peak", "season": "peak", "label": f"{preset.label} peak, dry roads",
             "probability": SCENARIO_SHARES["peak"]},
            {"id": "rain", "season": "off", "label": "Rainy season: slower village roads, "
             "sampled closures", "rain_speed_factor": dict(_RAIN_SPEED),
             "closure_probability": dict(_RAIN_CLOSURE), "closure_samples": 5, "seed": seed,
             "outage_h": dict(outage), "probability": SCENARIO_SHARES["rain"]},
            {"id": "stress", "season": "peak", "label": "Peak + rain + 48 h hold at the hub",
             "rain_speed_factor": dict(_RAIN_SPEED),
             "closure_probability": dict(_RAIN_CLOSURE), "closure_samples": 5,
             "hold_h": 48.0, "outage_h": dict(outage), "seed": seed,
             "probability": SCENARIO_SHARES["stress"]},
        ],
    }
    head = (f"# {name}: generated by coldchain generate --county {county.code} --seed {seed} "
            f"--product {preset.name}\n# Format: instances/README.md. Do not edit by hand; "
            "re-run the generator.\n\n")
    return head + tomli_w.dumps(doc)


# --------------------------------------------------------------------------------------------
# Writers
# --------------------------------------------------------------------------------------------

def _csv_text(rows: list[dict[str, str]]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


def _geojson_text(net: Network, county: County, seed: int) -> str:
    """FeatureCollection of 3-D LineStrings, one feature per line, stable edge ids."""
    head = {
        "type": "FeatureCollection",
        "name": f"{county.slug}-synthetic",
        "attribution": ("Trunk roads (synthetic=false): © OpenStreetMap contributors, ODbL 1.0 "
                        "(simplified by scgraph_data 2.0.0). Rural roads and all elevations "
                        "(synthetic=true): generated by coldchain generate."),
        "description": (f"{county.name} ({county.code}) road network for coldchain-optimizer, "
                        f"seed {seed}: coordinates lon, lat (degrees WGS84), elev_m (m, "
                        "synthetic terrain). Road classes: class1 (OSM trunk skeleton, no "
                        "class in source), class2, class3, class4, track (generated)."),
    }
    feats = []
    for i, r in enumerate(net.roads, start=1):
        coords = ",".join(f"[{_fmt(x, 6)},{_fmt(y, 6)},{_fmt(z, 1)}]" for x, y, z in r.coords)
        props = json.dumps({"edge_id": f"e{i:06d}", "name": r.name, "road_class": r.road_class,
                            "synthetic": r.synthetic}, ensure_ascii=False, sort_keys=True)
        feats.append('{"type":"Feature","properties":' + props
                     + ',"geometry":{"type":"LineString","coordinates":[' + coords + "]}}")
    body = json.dumps(head, ensure_ascii=False)[:-1]
    return body + ',"features":[\n' + ",\n".join(feats) + "\n]}\n"


def _readme(county: County, preset: ProductPreset, name: str, seed: int, totals: dict[str, float],
            network_rel: str) -> str:
    xiuwen = county.code == XIUWEN_CODE
    seats_real = "; township seats of 10 of the 12 units (about 1 km accuracy)" if xiuwen else ""
    seats_syn = ("the two urban sub-districts 阳明洞街道 and 景阳街道 placed 1.5-4 km from the "
                 "county seat" if xiuwen else "township seats placed around the county seat")
    def bullets(items: list[str]) -> str:
        return "\n".join(textwrap.fill(t, width=92, initial_indent="- ",
                                        subsequent_indent="  ", break_on_hyphens=False)
                         for t in items)

    real = bullets([
        "village and township names and NBS 2023 codes (village ids are the 12-digit codes);",
        f"county seat position{seats_real};",
        "the OpenStreetMap trunk-road skeleton (road_class `class1`, `synthetic=false`; "
        "straight edges between junctions; the source has no road class).",
    ])
    synthetic = bullets([
        f"{seats_syn};",
        "village positions: 1.5-7 km from their township seat (neighbourhood committees "
        "0.5-3 km), at least 600 m apart;",
        "terrain and every elevation; rural roads (class2-class4, track) with meanders;",
        "households: village committees median 550, neighbourhood committees median 2,000;",
        f"produce: {totals['season_t']:,.0f} t over {preset.peak_days} peak days = "
        f"{totals['peak_t']:,.1f} t/day at peak, concentrated by township weights with "
        f"village noise; off-season {totals['off_t']:,.1f} t/day ({preset.off_fraction:.0%} "
        "of peak: other fresh produce and stored fruit);",
        f"parcels delivered: {ORDERS_PER_HH_OFF['village']} per household per day (villages), "
        f"{ORDERS_PER_HH_OFF['urban']} (neighbourhood committees) off-season, "
        f"x{ORDERS_PEAK_FACTOR} at peak: {totals['orders_off']:,.0f} and "
        f"{totals['orders_peak']:,.0f} parcels/day;",
        f"today: {int(totals['pickup'])} villages ({PICKUP_SHARE:.0%}) with a pickup point "
        "(larger and closer to their seat first); one cold store `cs-hub` near the county "
        f"seat with {int(totals['hub_modules'])} x {MODULE_T:.0f} t modules "
        f"({totals['hub_share']:.1%} of peak produce per day);",
        "candidate cold-store sites at every township seat and the largest orchard villages "
        f"({MODULE_T:.0f} t modules: a 15-25 k USD container cold room bought at "
        f"{COLD_STORAGE['module_buy_yuan']:,.0f} yuan, powered at "
        f"{COLD_STORAGE['module_power_yuan_per_day']:,.0f} yuan/day, or leased at "
        f"{COLD_STORAGE['module_lease_yuan_per_day']:,.0f} yuan/day with power; a store's "
        f"staff {COLD_STORAGE['site_staff_yuan_per_day']:,.0f} yuan/day, an idle site's "
        f"standby {COLD_STORAGE['standby_yuan_per_season']:,.0f} yuan/season); pickup "
        "candidates in every village (3,000-6,000 yuan/yr to run, "
        f"{ECONOMICS['pickup_setup_yuan']:,.0f} yuan to set up);",
        "fleet and costs (domain.md 1.2: fixed 80-300 yuan/day, refrigeration 13.5-16 "
        "yuan/h; per-km costs assumed): today's vehicles owned, reefer trucks, reefer vans "
        f"and vans hired on busy days at {HIRE_PREMIUM:g}x the owned day cost; see the "
        "comments in optimizer/synth/county.py;",
        "power: the hub and township seats on the county grid, orchard-village sites on "
        f"rural lines cut for {RAIN_OUTAGE_H['rural']:g} h on rain days;",
        "scenario shares of their season's days: rain "
        f"{SCENARIO_SHARES['rain']:.0%} of the off-season, the peak + rain + 48 h stress "
        f"case {SCENARIO_SHARES['stress']:.0%} of the peak.",
    ])
    return f"""# {name}

Generated by `coldchain generate --county {county.code} --seed {seed} --product {preset.name}`
(`optimizer/synth/county.py`); re-run that command to rebuild it byte for byte. Do not edit by
hand. Format: `instances/README.md`.
Road network: `{network_rel}` (see `networks/README.md`).

County: {county.name} ({county.code}), {county.prefecture}: {int(totals['villages'])} villages, \
{int(totals['townships'])} township-level units (NBS 2023).

## Real
{real}

## Synthetic (seeded; see the `synthetic` field of instance.toml)
{synthetic}
"""


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------

def default_name(county_code: str, product: str, seed: int) -> str:
    """Instance directory name: ``<county slug>-<product>`` (``-s<seed>`` if seed != 0)."""
    from optimizer.synth._geo import COUNTY_SLUGS

    slug = COUNTY_SLUGS.get(county_code, f"c{county_code}")
    return f"{slug}-{product}" + (f"-s{seed}" if seed else "")


def generate_county(county_code: str, *, seed: int = 0, product: str = "kiwifruit",
                    name: str | None = None, instances_dir: Path,
                    networks_dir: Path) -> Path:
    """Generate the instance of a Guizhou county and its road network; return the instance dir.

    Writes ``networks_dir/<slug>-synthetic.geojson`` (``-s<seed>`` suffix if seed != 0) and
    ``instances_dir/<name>/`` (``instance.toml``, ``villages.csv``, ``cold_store_sites.csv``,
    ``pickup_sites.csv``, ``README.md``), each atomically. ``name`` defaults to
    ``<county slug>-<product>`` (``-s<seed>`` if seed != 0). The same arguments give
    byte-identical files. Raises :class:`InstanceError` for an unknown county or product.
    """
    county_code = str(county_code).strip()
    if product not in PRODUCTS:
        raise InstanceError.at(None, "--product", "unknown product", got=product,
                               fix=f"use one of {', '.join(sorted(PRODUCTS))}")
    if name is not None and (name.strip() != name or name in ("", ".", "..")
                             or len(name) > 100 or not name.isprintable()
                             or any(c in name for c in '/\\:*?"<>|')):
        raise InstanceError.at(None, "--name", "not a plain folder name", got=name[:100],
                               fix="use letters, digits, '-' and '_' (e.g. xiuwen-2027)")
    if not (county_code.isascii() and county_code.isdigit() and len(county_code) == 6):
        raise InstanceError.at(
            None, "--county", "not a 6-digit county code", got=county_code,
            fix="use a code from optimizer/synth/data/guizhou_county_seats.csv "
                "(e.g. 520123 Xiuwen)")
    preset = PRODUCTS[product]
    county, townships, villages = load_places(county_code)
    place_townships(county, townships, seed)
    place_villages(county, townships, villages, seed)
    draw_households(county, villages, seed)
    terrain = make_terrain(county, seed)
    net = build_network(county, townships, villages, seed)
    shape_roads(net, county, terrain, seed)

    vol = _volumes(county, townships, villages, preset, seed)
    cs_rows = _cold_store_rows(county, townships, villages, vol, net, seed)
    pp_rows = _pickup_rows(county, villages, vol, seed)
    v_rows = _village_rows(villages, vol)

    name = name or default_name(county_code, product, seed)
    instance_dir = Path(instances_dir) / name
    net_name = f"{county.slug}-synthetic" + (f"-s{seed}" if seed else "") + ".geojson"
    net_path = Path(networks_dir) / net_name
    network_rel = Path(os.path.relpath(net_path.resolve(), instance_dir.resolve())).as_posix()

    peak_t = sum(vol.peak_kg.values()) / 1000.0
    hub_modules = int(cs_rows[0]["existing_modules"])
    totals = {
        "villages": len(villages), "townships": len(townships),
        "season_t": peak_t * preset.peak_days, "peak_t": peak_t,
        "off_t": sum(vol.off_kg.values()) / 1000.0,
        "orders_off": sum(vol.orders_off.values()), "orders_peak": sum(vol.orders_peak.values()),
        "pickup": len(vol.pickup), "hub_modules": hub_modules,
        "hub_share": hub_modules * MODULE_T * TURNS_PER_DAY / peak_t if peak_t else 0.0,
    }
    files = {
        "instance.toml": _instance_toml(
            county, preset, name, network_rel, seed, len(net.track_villages),
            fleet(peak_t * 1000.0, hub_modules * MODULE_T * 1000.0 * TURNS_PER_DAY),
            rural_sites=any(r["power"] == "rural" for r in cs_rows)),
        "villages.csv": _csv_text(v_rows),
        "cold_store_sites.csv": _csv_text(cs_rows),
        "pickup_sites.csv": _csv_text(pp_rows),
        "README.md": _readme(county, preset, name, seed, totals, network_rel),
    }
    write_text(net_path, _geojson_text(net, county, seed))
    with atomic_dir(instance_dir) as tmp:
        for fname, text in files.items():
            write_text(tmp / fname, text)
    return instance_dir

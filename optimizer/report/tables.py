"""Key figures as tables: the KPI specs (label and format of the numeric
:class:`~optimizer.plans.Kpis` fields), :func:`kpi_rows` (one dict per scenario x plan), the
rich console table (:func:`print_kpi_table`), the year in money (:data:`YEAR_SPECS`,
:func:`year_rows`, :func:`print_year_table`, :func:`year_summary`) and the text of kpis.csv
(per-scenario rows, then the year rows, under a fixed header).

Also the lookups and formats the other outputs share: the scenarios in order, one outcome,
the reference (peak) plan, clock times. Money in yuan, mass in kg, distance in km, shares in
%; floats rounded to 6 decimals (plan.json's precision). Tables print "-" for a figure not
computed (NaN) and "n/a" for an infinite one (a cost per order without orders).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from optimizer.formats.plan_json import FLOAT_DECIMALS
from optimizer.plans import Kpis, PlannedStop, PlanningResult, ScenarioOutcome, YearFigures

if TYPE_CHECKING:
    from rich.console import Console

    from optimizer.instance import Instance


@dataclass(frozen=True, slots=True)
class _KpiSpec:
    field: str
    label: str
    fmt: str


#: KPIs shown in tables (every numeric Kpis field but ``spoilage_value_pct``, which equals
#: the mass share: one price per kg; it stays in kpis.csv), with labels and formats.
KPI_SPECS: tuple[_KpiSpec, ...] = (
    _KpiSpec("cost_per_order_yuan", "cost per order (yuan)", ",.2f"),
    _KpiSpec("operating_cost_per_order_yuan", "operating cost per order (yuan)", ",.2f"),
    _KpiSpec("first_mile_yuan_per_order", "first mile (yuan/order)", ",.2f"),
    _KpiSpec("cold_storage_yuan_per_order", "cold storage (yuan/order)", ",.2f"),
    _KpiSpec("last_mile_yuan_per_order", "last mile (yuan/order)", ",.2f"),
    _KpiSpec("line_haul_yuan_per_order", "line haul to the city (yuan/order)", ",.2f"),
    _KpiSpec("logistics_cost_yuan", "logistics cost (yuan/day)", ",.0f"),
    _KpiSpec("operating_cost_yuan", "operating cost (yuan/day)", ",.0f"),
    _KpiSpec("routing_cost_yuan", "routing cost (yuan/day)", ",.0f"),
    _KpiSpec("facility_cost_yuan", "facility cost (yuan/day)", ",.0f"),
    _KpiSpec("investment_yuan_per_day", "annualised investment (yuan/day)", ",.0f"),
    _KpiSpec("spoilage_mass_pct", "spoilage (% of produce mass)", ",.2f"),
    _KpiSpec("spoilage_kg", "spoilage (kg/day)", ",.0f"),
    _KpiSpec("spoilage_yuan", "spoilage value (yuan/day)", ",.0f"),
    _KpiSpec("cold_chain_pct", "cold-chain coverage (% pre-cooled in time)", ",.1f"),
    _KpiSpec("village_coverage_pct", "villages covered by a pickup point (%)", ",.1f"),
    _KpiSpec("household_coverage_pct", "households covered (%)", ",.1f"),
    _KpiSpec("orders", "orders handled", ",.0f"),
    _KpiSpec("produce_kg", "produce ready (kg)", ",.0f"),
    _KpiSpec("collected_kg", "produce collected (kg)", ",.0f"),
    _KpiSpec("produce_dropped_kg", "produce left to the ambient channel (kg)", ",.0f"),
    _KpiSpec("parcels_dropped", "parcels not delivered", ",.0f"),
    _KpiSpec("distance_km", "distance driven (km)", ",.1f"),
    _KpiSpec("vehicles_used", "vehicles used", ",.0f"),
    _KpiSpec("hired_vehicles", "hired vehicles", ",.0f"),
    _KpiSpec("vehicle_utilisation_pct", "vehicle utilisation (% of working day)", ",.1f"),
    _KpiSpec("cold_room_utilisation_pct", "cold-room utilisation (%)", ",.1f"),
    _KpiSpec("co2_kg_per_order", "CO2 per order (kg)", ",.3f"),
)


# ---- KPI rows and tables ---------------------------------------------------------------
def _round(x: float) -> float:
    return round(float(x), FLOAT_DECIMALS) if math.isfinite(float(x)) else float(x)


def kpi_rows(result: PlanningResult) -> list[dict[str, Any]]:
    """One dict per scenario x plan: every :class:`Kpis` field (``extra`` flattened as
    ``extra.<key>``) plus ``robust_village_coverage_pct`` (None when not sampled).

    Floats are rounded to 6 decimals; rows follow ``result.outcomes``; every row has the
    same keys (a missing ``extra`` key is None)."""
    extra_keys = sorted({k for o in result.outcomes for k in o.kpis.extra})
    rows: list[dict[str, Any]] = []
    for o in result.outcomes:
        row: dict[str, Any] = {}
        for f in fields(Kpis):
            v = getattr(o.kpis, f.name)
            if f.name == "extra":
                continue
            row[f.name] = _round(v) if isinstance(v, float) else v
        rc = o.robust_village_coverage_pct
        row["robust_village_coverage_pct"] = None if rc is None else _round(rc)
        for k in extra_keys:
            v = o.kpis.extra.get(k)
            row[f"extra.{k}"] = None if v is None else _round(v)
        rows.append(row)
    return rows


def _scenarios(result: PlanningResult) -> list[str]:
    out: list[str] = []
    for o in result.outcomes:
        if o.scenario not in out:
            out.append(o.scenario)
    return out


def _get(result: PlanningResult, scenario: str, plan: str) -> ScenarioOutcome | None:
    try:
        return result.outcome(scenario, plan)
    except KeyError:
        return None


def _fmt(v: float | None, fmt: str) -> str:
    """``v`` in ``fmt``; "-" when missing or NaN (not computed), "n/a" when infinite."""
    if v is None or math.isnan(v):
        return "-"
    if not math.isfinite(v):
        return "n/a"
    return format(v, fmt)


def _change(base: float | None, plan: float | None, fmt: str, *, grouped: bool = False) -> str:
    """plan - base in ``fmt`` (thousands separators only when ``grouped``: the per-scenario
    tables stay 80 columns wide), with the relative change; "-" when either is missing."""
    if base is None or plan is None or not (math.isfinite(base) and math.isfinite(plan)):
        return "-"
    d = plan - base
    s = format(d, "+" + (fmt if grouped else fmt.lstrip(",")))
    if abs(base) > 1e-12:
        s += f" ({100.0 * d / abs(base):+.1f}%)"
    return s


def _kpi_table(result: PlanningResult, scenario: str) -> list[tuple[str, str, str, str]]:
    """(label, baseline, plan, change) rows of one scenario."""
    b = _get(result, scenario, "baseline")
    p = _get(result, scenario, "plan")
    rows = []
    for spec in KPI_SPECS:
        bv = float(getattr(b.kpis, spec.field)) if b else None
        pv = float(getattr(p.kpis, spec.field)) if p else None
        rows.append((spec.label, _fmt(bv, spec.fmt), _fmt(pv, spec.fmt),
                     _change(bv, pv, spec.fmt)))
    rb = b.robust_village_coverage_pct if b else None
    rp = p.robust_village_coverage_pct if p else None
    if rb is not None or rp is not None:
        rows.append(("villages covered in every closure sample (%)", _fmt(rb, ",.1f"),
                     _fmt(rp, ",.1f"), _change(rb, rp, ",.1f")))
    return rows


def _rich_table(result: PlanningResult, scenarios: list[str], title: str) -> Any:
    from rich.table import Table

    table = Table(title=title)
    table.add_column("KPI")
    per = {s: _kpi_table(result, s) for s in scenarios}
    for s in scenarios:
        table.add_column(f"{s}\nbaseline", justify="right", no_wrap=True)
        table.add_column(f"{s}\nplan", justify="right", no_wrap=True)
        table.add_column(f"{s}\nchange", justify="right", no_wrap=True)
    n = max((len(r) for r in per.values()), default=0)
    for i in range(n):
        label = next(per[s][i][0] for s in scenarios if i < len(per[s]))
        cells: list[str] = [label]
        for s in scenarios:
            cells += list(per[s][i][1:]) if i < len(per[s]) else ["-", "-", "-"]
        table.add_row(*cells)
    return table


def _table_width(table: Any) -> int:
    """Characters needed to print ``table`` without wrapping or truncating a cell."""
    from rich.console import Console

    probe = Console(width=10_000, file=io.StringIO(), record=True, color_system=None)
    probe.print(table)
    return max((len(line.rstrip()) for line in probe.export_text().splitlines()), default=0)


def print_kpi_table(result: PlanningResult, console: Console) -> None:
    """Print the KPI table: one row per KPI; per scenario columns baseline / plan / change.

    When the console is too narrow for every scenario side by side, one table per scenario
    is printed instead (same rows and columns)."""
    scenarios = _scenarios(result)
    title = f"{result.instance}: key figures per scenario (baseline vs plan)"
    table = _rich_table(result, scenarios, title)
    if len(scenarios) <= 1 or _table_width(table) <= console.width:
        console.print(table)
        return
    for s in scenarios:
        console.print(_rich_table(result, [s], f"{result.instance}: scenario {s}"))


# ---- a year in money -------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class _YearSpec:
    label: str
    value: Callable[[YearFigures], float]
    fmt: str


#: rows of the year table: the plan and today's baseline rolled up to a year
#: (:mod:`optimizer.planning.year`)
YEAR_SPECS: tuple[_YearSpec, ...] = (
    _YearSpec("days counted (d/year)", lambda y: y.days, ",.0f"),
    _YearSpec("orders (per year)", lambda y: y.orders, ",.0f"),
    _YearSpec("logistics cost (yuan/year)", lambda y: y.logistics_cost_yuan, ",.0f"),
    _YearSpec("operating cost: routes and cold stores (yuan/year)",
              lambda y: y.operating_cost_yuan, ",.0f"),
    _YearSpec("pickup points (yuan/year)", lambda y: y.pickup_running_yuan, ",.0f"),
    _YearSpec("annualised investment (yuan/year)", lambda y: y.annualised_investment_yuan,
              ",.0f"),
    _YearSpec("cost per order (yuan)", lambda y: y.cost_per_order_yuan, ",.2f"),
    _YearSpec("operating cost per order (yuan)", lambda y: y.operating_cost_per_order_yuan,
              ",.2f"),
    _YearSpec("first mile (yuan/order)", lambda y: y.first_mile_yuan_per_order, ",.2f"),
    _YearSpec("cold storage (yuan/order)", lambda y: y.cold_storage_yuan_per_order, ",.2f"),
    _YearSpec("last mile (yuan/order)", lambda y: y.last_mile_yuan_per_order, ",.2f"),
    _YearSpec("line haul to the city (yuan/order)", lambda y: y.line_haul_yuan_per_order,
              ",.2f"),
    _YearSpec("spoilage (t/year)", lambda y: y.spoilage_kg / 1000.0, ",.1f"),
    _YearSpec("spoilage value (million yuan/year)", lambda y: y.spoilage_yuan / 1e6, ",.2f"),
    _YearSpec("spoilage (% of produce)", lambda y: y.spoilage_pct, ",.2f"),
    _YearSpec("cold-chain coverage (% of produce pre-cooled in time)",
              lambda y: y.cold_chain_pct, ",.1f"),
    _YearSpec("villages covered by a pickup point (%, average day)",
              lambda y: y.village_coverage_pct, ",.1f"),
    _YearSpec("investment: new cold-store sites (yuan)", lambda y: y.investment_sites_yuan,
              ",.0f"),
    _YearSpec("investment: bought modules (yuan)", lambda y: y.investment_modules_yuan, ",.0f"),
    _YearSpec("investment: new pickup points (yuan)", lambda y: y.investment_pickups_yuan,
              ",.0f"),
    _YearSpec("investment: vehicles bought (yuan)", lambda y: y.investment_vehicles_yuan,
              ",.0f"),
    _YearSpec("investment, total (yuan, one-off)", lambda y: y.investment_yuan, ",.0f"),
    _YearSpec("hired vehicle-days (per year)", lambda y: y.hired_vehicle_days, ",.0f"),
)

#: YearFigures properties reported beside its fields
_YEAR_PROPERTIES = ("investment_yuan", "logistics_cost_yuan", "total_cost_yuan")


def _num_or_none(v: float) -> float | None:
    """Rounded ``v``; None for NaN (a figure not computed, e.g. the baseline's saving)."""
    return None if math.isnan(float(v)) else _round(v)


def year_rows(result: PlanningResult) -> list[dict[str, Any]]:
    """One dict per :class:`~optimizer.plans.YearFigures` row of ``result.year`` (the
    baseline, then the plan): every field plus ``investment_yuan``, ``logistics_cost_yuan``
    and ``total_cost_yuan``. Floats rounded to 6 decimals, NaN as None (the comparison
    with today on the baseline's own row), infinity kept (a payback that never comes).
    [] when the result has no year roll-up."""
    rows: list[dict[str, Any]] = []
    for y in result.year:
        row: dict[str, Any] = {}
        for f in fields(YearFigures):
            v = getattr(y, f.name)
            row[f.name] = _num_or_none(v) if isinstance(v, float) else v
        for name in _YEAR_PROPERTIES:
            row[name] = _num_or_none(getattr(y, name))
        rows.append(row)
    return rows


def _year_table(result: PlanningResult) -> list[tuple[str, str, str, str]]:
    """(label, baseline, plan, change) rows of the year table; [] without a roll-up."""
    b = result.year_of("baseline")
    p = result.year_of("plan")
    if b is None and p is None:
        return []
    rows = []
    for spec in YEAR_SPECS:
        bv = float(spec.value(b)) if b is not None else None
        pv = float(spec.value(p)) if p is not None else None
        rows.append((spec.label, _fmt(bv, spec.fmt), _fmt(pv, spec.fmt),
                     _change(bv, pv, spec.fmt, grouped=True)))
    return rows


def _payback(years: float) -> str:
    if math.isnan(years):
        return "-"
    if math.isinf(years):
        return "never"
    if years <= 0.0:
        return "immediate"
    if years >= 1.0:
        return f"{years:,.2f} years"
    days = years * 365.0
    if days < 0.5:
        return "under a day"
    n = round(days)
    return f"{years:.2g} years ({n:,} day{'s' if n != 1 else ''})"


def _yuan(v: float) -> str:
    return _fmt(v, ",.0f")


def year_summary(result: PlanningResult, instance: Instance | None = None) -> str:
    """The line under the year table: net saving a year against today, payback, NPV (over
    ``economics.horizon_years`` at ``discount_rate`` when ``instance`` is given) and, when
    the plan was made within a budget, the budget and what the plan uses of it; a note when
    the roll-up leaves out days of the year. "" without a roll-up of the plan."""
    p = result.year_of("plan")
    if p is None:
        return ""
    saving = f"net saving {_yuan(p.saving_yuan)} yuan/year against today"
    b = result.year_of("baseline")
    if b is not None:
        running = (b.operating_cost_yuan + b.pickup_running_yuan
                   - p.operating_cost_yuan - p.pickup_running_yuan)
        spoilage = b.spoilage_yuan - p.spoilage_yuan
        saving += (f" (of which {_fmt(running, '+,.0f')} on running routes, cold stores and "
                   f"pickup points and {_fmt(spoilage, '+,.0f')} on the value of produce "
                   "spoiled)")
    else:
        saving += " (running cost and spoilage value)"
    parts = [saving, f"payback {_payback(p.payback_years)}"]
    if instance is not None:
        eco = instance.economics
        parts.append(f"NPV over {eco.horizon_years} years at {100.0 * eco.discount_rate:g}%: "
                     f"{_yuan(p.npv_yuan)} yuan")
    else:
        parts.append(f"NPV {_yuan(p.npv_yuan)} yuan")
    if result.budget_yuan is not None:
        budget = f"budget {_yuan(result.budget_yuan)} yuan/year, used {_yuan(p.budget_use_yuan)}"
        over = p.budget_use_yuan - result.budget_yuan
        if math.isfinite(over) and over > 1e-6 * max(1.0, result.budget_yuan):
            budget += f" (over by {_yuan(over)})"
        parts.append(budget)
    if instance is not None:
        year_days = float(sum(s.days for s in instance.seasons))
        if p.days < year_days - 1e-6:
            parts.append(f"the roll-up counts {p.days:,.0f} of the {year_days:,.0f} days "
                         "(seasons without a planned scenario are left out, while the "
                         "annualised investment counts in full)")
    return "; ".join(parts)


def print_year_table(result: PlanningResult, console: Console, *,
                     instance: Instance | None = None) -> None:
    """Print the year table (rows: the year figures; columns baseline / plan / change) and
    the line under it (:func:`year_summary`; NPV horizon and rate named when ``instance``
    is given). Prints nothing when the result has no year roll-up (it needs both the
    baseline and the plan)."""
    from rich.table import Table

    rows = _year_table(result)
    if not rows:
        return
    table = Table(title=f"{result.instance}: a year in money (baseline vs plan)")
    table.add_column("figure")
    for name in ("baseline", "plan", "change"):
        table.add_column(name, justify="right", no_wrap=True)
    for row in rows:
        table.add_row(*row)
    console.print(table)
    line = year_summary(result, instance)
    if line:
        console.print(line, markup=False, highlight=False, soft_wrap=True)


# ---- kpis.csv ---------------------------------------------------------------------------
#: columns of kpis.csv, in order: every Kpis field, the robust coverage, the year-only
#: figures (empty on scenario rows), then the ``extra.*`` figures the planner records
CSV_KPI_COLUMNS: tuple[str, ...] = (
    *(f.name for f in fields(Kpis) if f.name != "extra"), "robust_village_coverage_pct")
CSV_YEAR_COLUMNS: tuple[str, ...] = (
    "year_days", "pickup_running_yuan", "annualised_investment_yuan", "investment_yuan",
    "investment_sites_yuan", "investment_modules_yuan", "investment_pickups_yuan",
    "investment_vehicles_yuan", "hired_vehicle_days", "saving_yuan", "payback_years",
    "npv_yuan", "budget_use_yuan")
CSV_EXTRA_COLUMNS: tuple[str, ...] = ("extra.outage_kg", "extra.parcels_delivered",
                                      "extra.spoiled_kg")

#: kpis.csv column <- YearFigures field or property on the ``scenario=year`` rows (the
#: columns with a yearly meaning; the others stay empty there)
_YEAR_CSV: dict[str, str] = {
    "orders": "orders",
    "cost_per_order_yuan": "cost_per_order_yuan",
    "logistics_cost_yuan": "logistics_cost_yuan",
    "spoilage_mass_pct": "spoilage_pct",
    "spoilage_value_pct": "spoilage_pct",  # one price per kg: equals the mass share
    "produce_kg": "produce_kg",
    "collected_kg": "collected_kg",
    "cold_chain_pct": "cold_chain_pct",
    "village_coverage_pct": "village_coverage_pct",
    "operating_cost_yuan": "operating_cost_yuan",
    "operating_cost_per_order_yuan": "operating_cost_per_order_yuan",
    "spoilage_kg": "spoilage_kg",
    "spoilage_yuan": "spoilage_yuan",
    "first_mile_yuan_per_order": "first_mile_yuan_per_order",
    "cold_storage_yuan_per_order": "cold_storage_yuan_per_order",
    "last_mile_yuan_per_order": "last_mile_yuan_per_order",
    "line_haul_yuan_per_order": "line_haul_yuan_per_order",
    "year_days": "days",
    "pickup_running_yuan": "pickup_running_yuan",
    "annualised_investment_yuan": "annualised_investment_yuan",
    "investment_yuan": "investment_yuan",
    "investment_sites_yuan": "investment_sites_yuan",
    "investment_modules_yuan": "investment_modules_yuan",
    "investment_pickups_yuan": "investment_pickups_yuan",
    "investment_vehicles_yuan": "investment_vehicles_yuan",
    "hired_vehicle_days": "hired_vehicle_days",
    "saving_yuan": "saving_yuan",
    "payback_years": "payback_years",
    "npv_yuan": "npv_yuan",
    "budget_use_yuan": "budget_use_yuan",
}


def csv_columns(result: PlanningResult) -> list[str]:
    """The header of kpis.csv: :data:`CSV_KPI_COLUMNS`, :data:`CSV_YEAR_COLUMNS` and
    :data:`CSV_EXTRA_COLUMNS`, the same whatever the result; an ``extra`` figure outside
    those (none the planner records) is appended, sorted."""
    known = set(CSV_EXTRA_COLUMNS)
    more = sorted({f"extra.{k}" for o in result.outcomes for k in o.kpis.extra} - known)
    return [*CSV_KPI_COLUMNS, *CSV_YEAR_COLUMNS, *CSV_EXTRA_COLUMNS, *more]


def _year_csv_rows(result: PlanningResult) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for y in result.year:
        row: dict[str, Any] = {"scenario": "year", "plan": y.plan}
        for col, attr in _YEAR_CSV.items():
            row[col] = _num_or_none(float(getattr(y, attr)))
        out.append(row)
    return out


def _cell(v: Any) -> Any:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    return v


def _csv_text(result: PlanningResult) -> str:
    """kpis.csv: one row per scenario x plan (:func:`kpi_rows`), then, when the result has
    a year roll-up, two rows ``scenario=year`` (baseline, plan) with the yearly figures.
    Same header whatever the result (:func:`csv_columns`); byte-identical for equal
    results."""
    header = csv_columns(result)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=header, lineterminator="\n", restval="")
    w.writeheader()
    for r in [*kpi_rows(result), *_year_csv_rows(result)]:
        w.writerow({k: _cell(v) for k, v in r.items()})
    return buf.getvalue()


# ---- shared by the other outputs -------------------------------------------------------
def _reference(result: PlanningResult) -> ScenarioOutcome | None:
    """The peak scenario's plan: the plan outcome with the most produce (first on ties)."""
    plans = [o for o in result.outcomes if o.plan == "plan"] or list(result.outcomes)
    if not plans:
        return None
    return max(plans, key=lambda o: (o.kpis.produce_kg, -plans.index(o)))


def _hhmm(minutes: float) -> str:
    m = int(round(minutes))
    return f"{m // 60:02d}:{m % 60:02d}"


def _stop_kg(stop: PlannedStop) -> float:
    """kg handled at ``stop``: produce picked up, or parcels delivered."""
    return stop.pickup_kg if stop.kind == "pickup" else stop.delivery_kg

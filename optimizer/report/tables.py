"""Key figures as tables: the KPI specs (label and format of every numeric
:class:`~optimizer.plans.Kpis` field), :func:`kpi_rows` (one dict per scenario x plan), the
rich console table (:func:`print_kpi_table`) and the text of kpis.csv.

Also the lookups and formats the other outputs share: the scenarios in order, one outcome,
the reference (peak) plan, clock times. Money in yuan, mass in kg, distance in km, shares in
%; floats rounded to 6 decimals (plan.json's precision).
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from optimizer.formats.plan_json import FLOAT_DECIMALS
from optimizer.plans import Kpis, PlanningResult, ScenarioOutcome

if TYPE_CHECKING:
    from rich.console import Console


@dataclass(frozen=True, slots=True)
class _KpiSpec:
    field: str
    label: str
    fmt: str


#: KPIs shown in tables (every numeric Kpis field), with labels and formats.
KPI_SPECS: tuple[_KpiSpec, ...] = (
    _KpiSpec("cost_per_order_yuan", "cost per order (yuan)", ",.2f"),
    _KpiSpec("logistics_cost_yuan", "logistics cost (yuan/day)", ",.0f"),
    _KpiSpec("routing_cost_yuan", "routing cost (yuan/day)", ",.0f"),
    _KpiSpec("facility_cost_yuan", "facility cost (yuan/day)", ",.0f"),
    _KpiSpec("spoilage_mass_pct", "spoilage (% of produce mass)", ",.2f"),
    _KpiSpec("spoilage_value_pct", "spoilage (% of produce value)", ",.2f"),
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
    if v is None:
        return "-"
    if not math.isfinite(v):
        return "n/a"
    return format(v, fmt)


def _change(base: float | None, plan: float | None, fmt: str) -> str:
    if base is None or plan is None or not (math.isfinite(base) and math.isfinite(plan)):
        return "-"
    d = plan - base
    s = format(d, "+" + fmt.lstrip(","))
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


# ---- kpis.csv ---------------------------------------------------------------------------
def _csv_text(result: PlanningResult) -> str:
    rows = kpi_rows(result)
    buf = io.StringIO()
    header = list(rows[0]) if rows else ["scenario", "plan"]
    w = csv.DictWriter(buf, fieldnames=header, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: ("" if v is None else v) for k, v in r.items()})
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

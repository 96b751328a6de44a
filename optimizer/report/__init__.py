"""Outputs of a planning run: plan.json, GeoPackage, KPI CSV, Markdown report, charts, map.

:func:`write_outputs` writes every file of ``coldchain solve --out DIR`` atomically (through
:mod:`optimizer._io`); a failure raises :class:`~optimizer.errors.InputError` naming the path
and leaves no partial file. :func:`kpi_rows`, :func:`print_kpi_table`, :func:`year_rows` and
:func:`print_year_table` serve the CLI.
Routes are drawn along the roads with the scenario's travel matrices and road network
(:func:`route_coords`); lon/lat, EPSG:4326.

One module per output: :mod:`~optimizer.report.names` (file and layer names),
:mod:`~optimizer.report.tables` (KPI rows, the year in money, console tables, kpis.csv),
:mod:`~optimizer.report.geometry` (coordinates, routes), :mod:`~optimizer.report.gpkg`,
:mod:`~optimizer.report.charts`, :mod:`~optimizer.report.markdown`,
:mod:`~optimizer.report.map` and :mod:`~optimizer.report.outputs` (:func:`write_outputs`).
"""

from optimizer.report.geometry import route_coords
from optimizer.report.names import (
    COST_PNG,
    CRS,
    GPKG_LAYERS,
    KPIS_CSV,
    MAP_HTML,
    OUTPUT_NAMES,
    PLAN_GPKG,
    PLAN_JSON,
    REPORT_MD,
    SPOILAGE_PNG,
)
from optimizer.report.outputs import write_outputs
from optimizer.report.tables import (
    KPI_SPECS,
    YEAR_SPECS,
    kpi_rows,
    print_kpi_table,
    print_year_table,
    year_rows,
    year_summary,
)

__all__ = [
    "COST_PNG",
    "CRS",
    "GPKG_LAYERS",
    "KPIS_CSV",
    "KPI_SPECS",
    "MAP_HTML",
    "OUTPUT_NAMES",
    "PLAN_GPKG",
    "PLAN_JSON",
    "REPORT_MD",
    "SPOILAGE_PNG",
    "YEAR_SPECS",
    "kpi_rows",
    "print_kpi_table",
    "print_year_table",
    "route_coords",
    "write_outputs",
    "year_rows",
    "year_summary",
]

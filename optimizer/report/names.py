"""Names of the output files of a planning run, of the GeoPackage layers, and the CRS.

Shared by every writer of the package (report.md links the other files by these names).
Coordinates are lon/lat degrees, EPSG:4326.
"""

PLAN_JSON = "plan.json"
PLAN_GPKG = "plan.gpkg"
KPIS_CSV = "kpis.csv"
REPORT_MD = "report.md"
MAP_HTML = "map.html"
COST_PNG = "cost_per_order.png"
SPOILAGE_PNG = "spoilage.png"
OUTPUT_NAMES = (PLAN_JSON, PLAN_GPKG, KPIS_CSV, COST_PNG, SPOILAGE_PNG, REPORT_MD, MAP_HTML)
GPKG_LAYERS = ("cold_stores", "pickup_points", "villages", "routes", "stops", "roads")
CRS = "EPSG:4326"

"""The entry point :func:`write_outputs`: every file of ``coldchain solve --out DIR``.

Refuses an output directory that is the instance's own or a path that would overwrite one
of its input files, draws the routes once, then writes each file atomically through
:mod:`optimizer._io` (``write_text`` for text, ``atomic_path`` for the files GDAL and
matplotlib create themselves); a failure raises :class:`~optimizer.errors.InputError`
naming the path and leaves no partial file.
"""

from __future__ import annotations

import logging
import os
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from optimizer._io import atomic_path, locked_dir, write_text
from optimizer.errors import InputError
from optimizer.formats.plan_json import dumps_plan
from optimizer.instance import Instance
from optimizer.plans import PlanningResult
from optimizer.report.charts import _chart
from optimizer.report.geometry import route_coords
from optimizer.report.gpkg import _gpkg_frames, _write_gpkg
from optimizer.report.map import TIANDITU_KEY_ENV, _map_html
from optimizer.report.markdown import _markdown
from optimizer.report.names import (
    COST_PNG,
    KPIS_CSV,
    MAP_HTML,
    OUTPUT_NAMES,
    PLAN_GPKG,
    PLAN_JSON,
    REPORT_MD,
    SPOILAGE_PNG,
)
from optimizer.report.tables import _csv_text

if TYPE_CHECKING:
    from optimizer.planning.matrices import Matrices
    from optimizer.roads import RoadNetwork

log = logging.getLogger(__name__)


def _atomic(path: Path, write: Callable[[Path], None], *, suffix: str) -> None:
    """Call ``write(tmp)`` on a fresh temp path beside ``path`` (GDAL and matplotlib create
    the file themselves), then rename it to ``path`` (:func:`optimizer._io.atomic_path`)."""
    import pyogrio.errors

    with atomic_path(path, suffix=suffix,
                     errors=(pyogrio.errors.DataSourceError,
                             pyogrio.errors.DataLayerError)) as tmp:
        write(tmp)


def _input_files(instance: Instance) -> set[Path]:
    """Resolved paths of the instance's input files (TOML, CSV tables, network)."""
    out = {Path(instance.network_path).resolve()}
    src = instance.source
    if src is None:
        return out
    src = Path(src)
    toml = src if src.is_file() else src / "instance.toml"
    out.add(toml.resolve())
    try:
        doc = tomllib.loads(toml.read_text(encoding="utf-8-sig"))
        for v in (doc.get("files") or {}).values():
            if isinstance(v, str):
                out.add((toml.parent / v).resolve())
    except (OSError, tomllib.TOMLDecodeError, AttributeError):
        log.debug("could not list the input files of %s", toml)
    return out


def write_outputs(
    out_dir: str | Path,
    instance: Instance,
    result: PlanningResult,
    *,
    networks: Mapping[str, RoadNetwork],
    matrices: Mapping[str, Matrices],
) -> list[Path]:
    """Write plan.json, plan.gpkg, kpis.csv, the charts, report.md and map.html to ``out_dir``.

    ``networks`` and ``matrices`` are keyed by scenario id (the network and matrices the
    scenario was routed on) and are used to draw routes along the roads (a scenario missing
    from them is drawn with straight segments) and the roads themselves (map.html's
    offline background, plan.gpkg's ``roads`` layer). map.html loads nothing from the
    network; with a Tianditu key in the environment variable ``TIANDITU_KEY`` it offers
    Tianditu tiles (online, off by default). Every file is written atomically. Raises
    :class:`InputError` when ``out_dir`` cannot be created or written, or when an output
    would overwrite one of the instance's input files. Returns the paths written, in order.
    """
    out = Path(out_dir)
    paths = {name: out / name for name in OUTPUT_NAMES}
    inputs = _input_files(instance)
    for p in paths.values():
        if p.resolve() in inputs:
            raise InputError.at(p, None, "would overwrite an input file of instance "
                                f"{instance.name}", fix="choose another --out directory")
    if instance.source is not None:
        src = Path(instance.source)
        inst_dir = (src.parent if src.suffix else src).resolve()
        if out.resolve() == inst_dir:
            raise InputError.at(out, None, "is the instance's own directory",
                                fix="choose another --out directory")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError.at(out, None, f"cannot create the output directory ({exc.strerror})",
                            fix="choose a writable --out directory") from None
    if not out.is_dir():
        raise InputError.at(out, None, "is not a directory", fix="choose a directory for --out")

    geoms: dict[tuple[int, int], list[tuple[float, float]]] = {}
    for i, o in enumerate(result.outcomes):
        for j, r in enumerate(o.day.routes):
            geoms[(i, j)] = route_coords(instance, r, networks.get(o.scenario),
                                         matrices.get(o.scenario))

    with locked_dir(out):  # a second run writing here waits: one run's set, never a mix
        written: list[Path] = []
        write_text(paths[PLAN_JSON], dumps_plan(result))
        written.append(paths[PLAN_JSON])
        frames = _gpkg_frames(instance, result, geoms, matrices, networks)
        _atomic(paths[PLAN_GPKG], lambda tmp: _write_gpkg(tmp, frames), suffix=".tmp.gpkg")
        written.append(paths[PLAN_GPKG])
        write_text(paths[KPIS_CSV], _csv_text(result))
        written.append(paths[KPIS_CSV])
        _atomic(paths[COST_PNG], lambda tmp: _chart(tmp, result, "cost_per_order_yuan",
                                                     "yuan per order", "Cost per order"),
                suffix=".tmp.png")
        written.append(paths[COST_PNG])
        _atomic(paths[SPOILAGE_PNG], lambda tmp: _chart(tmp, result, "spoilage_mass_pct",
                                                         "% of produce mass", "Spoilage"),
                suffix=".tmp.png")
        written.append(paths[SPOILAGE_PNG])
        write_text(paths[REPORT_MD], _markdown(instance, result))
        written.append(paths[REPORT_MD])
        write_text(paths[MAP_HTML], _map_html(instance, result, geoms, matrices, networks,
                                              os.environ.get(TIANDITU_KEY_ENV)))
        written.append(paths[MAP_HTML])
    log.info("wrote %d files to %s", len(written), out)
    return written

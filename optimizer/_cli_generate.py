"""The ``coldchain generate`` command: build a county instance and its road network."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from optimizer.generator import PRODUCTS, generate_county

_HELP = (
    "Generate a county instance and its road network from the real Guizhou tables "
    "(NBS 2023 villages and townships, county seats, OpenStreetMap trunk roads) plus seeded "
    "synthetic parts (village positions, rural roads, terrain, volumes, candidate sites, "
    "costs). The same seed gives byte-identical files. Valid county codes: the county_code "
    "column of optimizer/data/guizhou_county_seats.csv (88 Guizhou county-level units; "
    "520123 is Xiuwen; Shuicheng and Qianxi also under their 2023 codes 520204, 520581)."
)


def register(app: typer.Typer) -> None:
    """Add the ``generate`` command to ``app``."""

    @app.command("generate", help=_HELP)
    def generate(
        county: Annotated[str, typer.Option(
            "--county", help="6-digit NBS county code (e.g. 520123 Xiuwen, 520328 Meitan, "
            "520425 Ziyun).")] = "520123",
        seed: Annotated[int, typer.Option("--seed", help="Random seed of every synthetic "
                                          "part.")] = 0,
        product: Annotated[str, typer.Option(
            "--product", help=f"Product preset: {', '.join(PRODUCTS)}.")] = "kiwifruit",
        name: Annotated[str | None, typer.Option(
            "--name", help="Instance directory name (default <county>-<product>, with "
            "-s<seed> when the seed is not 0).", show_default=False)] = None,
        instances_dir: Annotated[Path, typer.Option(
            "--instances-dir", help="Where the instance directory is written.")] = Path(
            "instances"),
        networks_dir: Annotated[Path, typer.Option(
            "--networks-dir", help="Where the road-network GeoJSON is written.")] = Path(
            "networks"),
    ) -> None:
        path = generate_county(county, seed=seed, product=product, name=name,
                               instances_dir=instances_dir, networks_dir=networks_dir)
        typer.echo(f"wrote {path} (instance) and its road network under {networks_dir}")

"""The ``coldchain generate`` command: build a county instance and its road network."""

from __future__ import annotations

from concurrent.futures import as_completed
from pathlib import Path
from typing import Annotated

import typer

from optimizer._parallel import process_pool
from optimizer.cli._common import EXIT_SOME_FAILED, options
from optimizer.errors import ColdChainError, InputError
from optimizer.synth.county import PRODUCTS, generate_county

_HELP = (
    "Generate a county instance and its road network from the real Guizhou tables "
    "(NBS 2023 villages and townships, county seats, OpenStreetMap trunk roads) plus seeded "
    "synthetic parts (village positions, rural roads, terrain, volumes, candidate sites, "
    "costs). The same seed gives byte-identical files. Valid county codes: the county_code "
    "column of optimizer/synth/data/guizhou_county_seats.csv (88 Guizhou county-level units; "
    "520123 is Xiuwen; Shuicheng and Qianxi also under their 2023 codes 520204, 520581). "
    "With --province (all 88 counties) or --counties CODE,CODE,... it builds many instances, "
    "--jobs at a time; --out-dir D writes them to D/instances and D/networks, ready for "
    "`coldchain batch D/instances`."
)


def province_codes() -> list[str]:
    """The 88 county codes of the Guizhou village list (sorted)."""
    from optimizer.synth import county_codes

    return county_codes()


def _parse_counties(text: str) -> list[str]:
    codes = [c.strip() for c in text.replace(";", ",").split(",") if c.strip()]
    bad = [c for c in codes if not (c.isdigit() and len(c) == 6)]
    if not codes or bad:
        raise InputError.at(None, "--counties", "must be comma-separated 6-digit county codes",
                            got=text, fix="e.g. --counties 520123,520328")
    return list(dict.fromkeys(codes))


def _generate_one(code: str, seed: int, product: str, instances_dir: Path,
                  networks_dir: Path) -> tuple[str, str | None, str | None]:
    """(code, instance dir, None) or (code, None, one-line error): runs in a worker."""
    try:
        path = generate_county(code, seed=seed, product=product,
                               instances_dir=instances_dir, networks_dir=networks_dir)
    except ColdChainError as exc:
        return code, None, str(exc)
    except Exception as exc:  # a generator bug: report it for this county, go on
        return code, None, f"internal error: {type(exc).__name__}: {exc}"
    return code, str(path), None


def generate_many(codes: list[str], *, seed: int, product: str, instances_dir: Path,
                  networks_dir: Path, jobs: int) -> list[tuple[str, str | None, str | None]]:
    """Generate every county of ``codes`` (``jobs`` processes); results in ``codes`` order."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    results: dict[str, tuple[str, str | None, str | None]] = {}
    progress = Progress(TextColumn("generate"), BarColumn(), MofNCompleteColumn(),
                        TextColumn("{task.fields[last]}"), TimeRemainingColumn(),
                        console=Console(stderr=True), disable=options.quiet)
    with progress:
        bar = progress.add_task("generate", total=len(codes), last="")
        if jobs <= 1:
            for code in codes:
                results[code] = _generate_one(code, seed, product, instances_dir, networks_dir)
                progress.update(bar, advance=1, last=code)
        else:
            with process_pool(jobs, preload=("optimizer.synth",)) as pool:
                futs = [pool.submit(_generate_one, c, seed, product, instances_dir,
                                    networks_dir) for c in codes]
                for f in as_completed(futs):
                    code, path, err = f.result()
                    results[code] = (code, path, err)
                    progress.update(bar, advance=1, last=code)
    return [results[c] for c in codes]


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
        province: Annotated[bool, typer.Option(
            "--province", help="Generate all 88 Guizhou counties (--county is ignored).")
        ] = False,
        counties: Annotated[str | None, typer.Option(
            "--counties", help="Comma-separated county codes to generate (e.g. "
            "520123,520328).", show_default=False)] = None,
        out_dir: Annotated[Path | None, typer.Option(
            "--out-dir", help="Write instances to OUT_DIR/instances and networks to "
            "OUT_DIR/networks (overrides --instances-dir/--networks-dir).",
            show_default=False)] = None,
        jobs: Annotated[int, typer.Option(
            "--jobs", "-j", min=1, help="Counties generated at once (--province/--counties)."
        )] = 1,
    ) -> None:
        if out_dir is not None:
            instances_dir, networks_dir = out_dir / "instances", out_dir / "networks"
        if not province and counties is None:
            path = generate_county(county, seed=seed, product=product, name=name,
                                   instances_dir=instances_dir, networks_dir=networks_dir)
            typer.echo(f"wrote {path} (instance) and its road network under {networks_dir}")
            return
        if name is not None:
            raise InputError.at(None, "--name", "cannot name several instances",
                                fix="drop --name with --province/--counties")
        codes = province_codes() if province else _parse_counties(counties or "")
        done = generate_many(codes, seed=seed, product=product, instances_dir=instances_dir,
                             networks_dir=networks_dir, jobs=jobs)
        failed = [(c, e) for c, p, e in done if p is None]
        for c, e in failed:
            typer.echo(f"error: {c}: {e}", err=True)
        typer.echo(f"wrote {len(done) - len(failed)} of {len(codes)} county instances under "
                   f"{instances_dir} (networks under {networks_dir})")
        if failed:
            raise typer.Exit(code=EXIT_SOME_FAILED)

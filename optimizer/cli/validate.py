"""``coldchain validate [INSTANCE]``: check an instance's files and summarise it."""

from __future__ import annotations

import typer

from optimizer.cli._common import InstanceArg, default_instance, out


def validate(instance: InstanceArg = None) -> None:
    """Check an instance's files (TOML, CSV tables, network reference) and summarise it."""
    from optimizer.formats.instance_toml import read_instance

    inst = read_instance(default_instance(instance))
    peak = {s.id: sum(v.produce_kg_per_day[s.id] for v in inst.villages) for s in inst.seasons}
    orders = {s.id: sum(v.orders_per_day[s.id] for v in inst.villages) for s in inst.seasons}
    out.print(f"[bold]{inst.name}[/bold]: {inst.title}")
    out.print(f"  villages {len(inst.villages)}, cold-store sites {len(inst.cold_store_sites)} "
              f"({sum(s.existing for s in inst.cold_store_sites)} existing), pickup sites "
              f"{len(inst.pickup_sites)} ({sum(p.existing for p in inst.pickup_sites)} existing), "
              f"vehicle types {len(inst.vehicle_types)}, scenarios "
              f"{', '.join(s.id for s in inst.scenarios)}")
    for s in inst.seasons:
        out.print(f"  season {s.id} ({s.days} d): produce {peak[s.id] / 1000:,.1f} t/day, "
                  f"parcels {orders[s.id]:,.0f}/day")
    out.print("  valid")


def register(app: typer.Typer) -> None:
    """Add the ``validate`` command to ``app``."""
    app.command("validate")(validate)


__all__ = ["register", "validate"]

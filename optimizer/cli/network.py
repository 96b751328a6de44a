"""``coldchain network [INSTANCE]``: the road network's size, classes, reachability."""

from __future__ import annotations

import typer
from rich.table import Table

from optimizer.cli._common import InstanceArg, default_instance, out


def network(instance: InstanceArg = None) -> None:
    """Describe an instance's road network: size, km by road class, components, reachability."""
    from optimizer.facade import load_instance
    from optimizer.planning.matrices import build_matrices, load_instance_network
    from optimizer.roads import network_stats

    inst = load_instance(default_instance(instance))
    net = load_instance_network(inst)
    st = network_stats(net)
    out.print(f"[bold]{net.name}[/bold] ({inst.network_path})")
    out.print(f"  nodes {st.nodes:,}, directed edges {st.edges:,}, weakly connected components "
              f"{st.components} (largest {st.largest_component_nodes:,} nodes)")
    table = Table("road class", "km")
    for cls, km in st.km_by_class.items():
        table.add_row(cls, f"{km:,.1f}")
    out.print(table)
    m = build_matrices(inst, net)
    n = len(m.coverage.ids)
    out.print(f"  sites {n}: all snapped within {inst.operations.max_snap_m:,.0f} m and mutually "
              f"reachable; unreachable sites: none")
    out.print(f"  matrices: {len(set(map(id, m.by_vehicle_type.values()))) + 1} profiles x "
              f"{n} x {n} built in {m.build_s:.2f} s")


def register(app: typer.Typer) -> None:
    """Add the ``network`` command to ``app``."""
    app.command("network")(network)


__all__ = ["register", "network"]

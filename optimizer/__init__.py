"""coldchain-optimizer: cold-chain and last-mile logistics planning for mountain townships.

The public surface, in data-flow order::

    inst = load_instance("instances/xiuwen-kiwifruit")         # Instance (validated)
    net = load_network(inst.network_path)                       # RoadNetwork (nx.MultiDiGraph)
    mats = build_matrices(inst, net)                            # travel matrices per vehicle
    res = solve(inst, scenario="peak", network=net)             # one day, today's sites
    planning = plan(inst, network=net)                          # sites, modules, routes, KPIs
    write_outputs("out", inst, planning.result,
                  networks=planning.networks, matrices=planning.matrices)

Every routed day is re-checked by :func:`verify` (routing) and every plan by
:func:`check_plan`'s checker before it is returned. Units are in the names: metres,
seconds, kg, yuan (fen = 0.01 yuan inside the solvers). ``solve`` is the facade
(:mod:`optimizer.facade`), ``plan`` the planner (:mod:`optimizer.planning.planner`).
"""

import importlib
from typing import TYPE_CHECKING, Any

# Public names -> (module, attribute). Loaded on first use (PEP 562), so that importing one
# part (e.g. the solver-free checker) does not import every solver.
_EXPORTS: dict[str, tuple[str, str]] = {
    "verify": ("optimizer.routing.verify", "verify"),
    "CheckError": ("optimizer.errors", "CheckError"),
    "ColdChainError": ("optimizer.errors", "ColdChainError"),
    "InfeasibleError": ("optimizer.errors", "InfeasibleError"),
    "InputError": ("optimizer.errors", "InputError"),
    "InstanceError": ("optimizer.errors", "InstanceError"),
    "NetworkError": ("optimizer.errors", "NetworkError"),
    "read_plan_json": ("optimizer.formats.plan_json", "read_plan_json"),
    "write_plan_json": ("optimizer.formats.plan_json", "write_plan_json"),
    "generate_county": ("optimizer.synth.county", "generate_county"),
    "Instance": ("optimizer.instance", "Instance"),
    "Scenario": ("optimizer.instance", "Scenario"),
    "evaluate_kpis": ("optimizer.planning.kpi", "evaluate"),
    "FacilityPlan": ("optimizer.plans", "FacilityPlan"),
    "Kpis": ("optimizer.plans", "Kpis"),
    "PlanningResult": ("optimizer.plans", "PlanningResult"),
    "check_plan": ("optimizer.planning.verify", "check_plan"),
    "Planning": ("optimizer.planning.planner", "Planning"),
    "write_outputs": ("optimizer.report", "write_outputs"),
    "RoadNetwork": ("optimizer.roads", "RoadNetwork"),
    "TravelMatrix": ("optimizer.roads", "TravelMatrix"),
    "load_network": ("optimizer.roads", "load_network"),
    "RoutingProblem": ("optimizer.routing", "RoutingProblem"),
    "solve_routing": ("optimizer.routing", "solve_routing"),
    "Limits": ("optimizer.limits", "Limits"),
    "Result": ("optimizer.facade", "Result"),
    "build_matrices": ("optimizer.planning.matrices", "build_matrices"),
    "load_instance": ("optimizer.facade", "load_instance"),
    "solve": ("optimizer.facade", "solve"),
    "plan": ("optimizer.planning.planner", "plan"),
}

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs
    from optimizer.errors import CheckError as CheckError
    from optimizer.errors import ColdChainError as ColdChainError
    from optimizer.errors import InfeasibleError as InfeasibleError
    from optimizer.errors import InputError as InputError
    from optimizer.errors import InstanceError as InstanceError
    from optimizer.errors import NetworkError as NetworkError
    from optimizer.facade import Result as Result
    from optimizer.facade import load_instance as load_instance
    from optimizer.facade import solve as solve
    from optimizer.formats.plan_json import read_plan_json as read_plan_json
    from optimizer.formats.plan_json import write_plan_json as write_plan_json
    from optimizer.instance import Instance as Instance
    from optimizer.instance import Scenario as Scenario
    from optimizer.limits import Limits as Limits
    from optimizer.planning.kpi import evaluate as evaluate_kpis
    from optimizer.planning.matrices import build_matrices as build_matrices
    from optimizer.planning.planner import Planning as Planning
    from optimizer.planning.planner import plan as plan
    from optimizer.planning.verify import check_plan as check_plan
    from optimizer.plans import FacilityPlan as FacilityPlan
    from optimizer.plans import Kpis as Kpis
    from optimizer.plans import PlanningResult as PlanningResult
    from optimizer.report import write_outputs as write_outputs
    from optimizer.roads import RoadNetwork as RoadNetwork
    from optimizer.roads import TravelMatrix as TravelMatrix
    from optimizer.roads import load_network as load_network
    from optimizer.routing import RoutingProblem as RoutingProblem
    from optimizer.routing import solve_routing as solve_routing
    from optimizer.routing.verify import verify as verify
    from optimizer.synth.county import generate_county as generate_county

def __getattr__(name: str) -> Any:
    try:
        module, attr = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'optimizer' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(list(globals()) + list(_EXPORTS))


from optimizer._version import package_version  # noqa: E402

__version__ = package_version()

__all__ = [
    "CheckError",
    "ColdChainError",
    "FacilityPlan",
    "InfeasibleError",
    "InputError",
    "Instance",
    "InstanceError",
    "Kpis",
    "Limits",
    "NetworkError",
    "Planning",
    "PlanningResult",
    "Result",
    "RoadNetwork",
    "RoutingProblem",
    "Scenario",
    "TravelMatrix",
    "build_matrices",
    "check_plan",
    "evaluate_kpis",
    "generate_county",
    "load_instance",
    "load_network",
    "plan",
    "read_plan_json",
    "solve",
    "solve_routing",
    "verify",
    "write_outputs",
    "write_plan_json",
]

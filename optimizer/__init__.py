"""coldchain-optimizer: cold-chain and last-mile logistics planning for mountain townships.

The public surface, in data-flow order::

    inst = load_instance("instances/xiuwen-kiwifruit")         # Instance (validated)
    net = load_network(inst.network_path)                       # RoadNetwork (nx.MultiDiGraph)
    mats = build_matrices(inst, net)                            # travel matrices per vehicle
    res = solve(inst, scenario="peak", network=net)             # one day, today's sites
    planning = plan(inst, network=net)                          # sites, modules, routes, KPIs
    write_outputs("out", inst, planning.result,
                  networks=planning.networks, matrices=planning.matrices)

Every routed day is re-checked by :func:`verify` (routing) before it is returned. Units are
in the names: metres, seconds, kg, yuan (fen = 0.01 yuan inside the solvers).
"""

from optimizer.check import verify as verify
from optimizer.errors import CheckError as CheckError
from optimizer.errors import ColdChainError as ColdChainError
from optimizer.errors import InfeasibleError as InfeasibleError
from optimizer.errors import InputError as InputError
from optimizer.errors import InstanceError as InstanceError
from optimizer.errors import NetworkError as NetworkError
from optimizer.formats.plan_json import read_plan_json as read_plan_json
from optimizer.formats.plan_json import write_plan_json as write_plan_json
from optimizer.generator import generate_county as generate_county
from optimizer.instance import Instance as Instance
from optimizer.instance import Scenario as Scenario
from optimizer.kpi import evaluate as evaluate_kpis
from optimizer.plan import FacilityPlan as FacilityPlan
from optimizer.plan import Kpis as Kpis
from optimizer.plan import PlanningResult as PlanningResult
from optimizer.plancheck import check_plan as check_plan
from optimizer.planner import Planning as Planning
from optimizer.planner import plan as plan
from optimizer.report import write_outputs as write_outputs
from optimizer.roads import RoadNetwork as RoadNetwork
from optimizer.roads import TravelMatrix as TravelMatrix
from optimizer.roads import load_network as load_network
from optimizer.routing import RoutingProblem as RoutingProblem
from optimizer.routing import solve_routing as solve_routing
from optimizer.solve import Limits as Limits
from optimizer.solve import Result as Result
from optimizer.solve import build_matrices as build_matrices
from optimizer.solve import load_instance as load_instance
from optimizer.solve import solve as solve

__version__ = "0.1.0"

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

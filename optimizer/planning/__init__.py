"""The planning pipeline of a county, on the engines below it (one module per stage):

- ``matrices``: the road network and travel matrices of an instance;
- ``scenario``: a scenario's roads (rain, closures), its volumes, coverage samples;
- ``sites``: pickup points (robust set covering) and cold stores with modules per season;
- ``fleet``: vehicles per type and the depot each is based at;
- ``baseline``: today's sites and fleet;
- ``rules``: the cold-chain rules of a day, stated once;
- ``day``: the routing problems of a day and the one way a day is routed;
- ``kpi``: the figures of a routed day;
- ``planner``: the whole plan (location-routing over seasons and scenarios) vs today;
- ``verify``: the plan-level checker, re-deriving a plan from the plan and the instance.

Import the stage modules directly (``from optimizer.planning.day import route_day``); this
package imports nothing itself, so that loading the checker loads no solver.
"""

"""Road networks: load, speeds by vehicle, snapping, travel matrices.

Imports nothing from ``optimizer`` except ``optimizer.errors``. Units: metres, seconds,
km/h, lon/lat degrees (EPSG:4326).
"""

from ._load import load_network as load_network
from ._network import OSM_HIGHWAY_TO_CLASS as OSM_HIGHWAY_TO_CLASS
from ._network import ROAD_CLASSES as ROAD_CLASSES
from ._network import NetworkStats as NetworkStats
from ._network import RoadNetwork as RoadNetwork
from ._network import close_edges as close_edges
from ._network import network_stats as network_stats
from ._network import path_coords as path_coords
from ._network import scale_speeds as scale_speeds
from ._write import write_network as write_network
from .matrix import UNREACHABLE as UNREACHABLE
from .matrix import TravelMatrix as TravelMatrix
from .matrix import check_reachable as check_reachable
from .matrix import travel_matrix as travel_matrix
from .matrix import travel_minutes as travel_minutes
from .snap import Snap as Snap
from .snap import snap_sites as snap_sites
from .speeds import DEFAULT_PROFILES as DEFAULT_PROFILES
from .speeds import SpeedProfile as SpeedProfile
from .speeds import edge_speed_kph as edge_speed_kph

__all__ = [
    "DEFAULT_PROFILES",
    "OSM_HIGHWAY_TO_CLASS",
    "ROAD_CLASSES",
    "UNREACHABLE",
    "NetworkStats",
    "RoadNetwork",
    "Snap",
    "SpeedProfile",
    "TravelMatrix",
    "check_reachable",
    "close_edges",
    "edge_speed_kph",
    "load_network",
    "network_stats",
    "path_coords",
    "scale_speeds",
    "snap_sites",
    "travel_matrix",
    "travel_minutes",
    "write_network",
]

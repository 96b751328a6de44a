"""Write ``streets.osm.pbf`` and the same data as ``streets.osm`` (XML), the OSM test fixtures.

A hand-made town street set near Xiuwen (no real data): a 6 x 5 grid of residential streets
(100 m apart), a primary road along the south edge with a name, a one-way street (``-1``,
i.e. against its node order), a roundabout, a track, a footway (not routable, dropped), a
way with a node missing from the file (split there) and a building outline (no highway).
Run ``python tests/roads/data/make_streets.py`` to rebuild them (needs ``osmium``).
"""

from __future__ import annotations

from pathlib import Path

import osmium
from osmium.osm.mutable import Node, Way

HERE = Path(__file__).parent
LON0, LAT0 = 106.590, 26.840
D_LON, D_LAT = 0.001, 0.0009  # about 100 m either way at 26.8 N
COLS, ROWS = 6, 5


def _nid(i: int, j: int) -> int:
    return 1000 + 10 * j + i


def _elements() -> tuple[list[Node], list[Way]]:
    nodes = [Node(id=_nid(i, j), location=(round(LON0 + i * D_LON, 7), round(LAT0 + j * D_LAT, 7)))
             for j in range(ROWS) for i in range(COLS)]
    # roundabout around grid point (2, 2) plus footway/track ends and a building
    ring = [(2001, 0.0003, 0.0), (2002, 0.0, 0.0003), (2003, -0.0003, 0.0), (2004, 0.0, -0.0003)]
    cx, cy = LON0 + 2.5 * D_LON, LAT0 + 2.5 * D_LAT
    nodes += [Node(id=n, location=(round(cx + dx, 7), round(cy + dy, 7))) for n, dx, dy in ring]
    nodes += [Node(id=3001, location=(LON0 + 7 * D_LON, LAT0 + 6 * D_LAT)),
              Node(id=3002, location=(LON0 - D_LON, LAT0 + 6 * D_LAT)),
              Node(id=3003, location=(LON0 + 3 * D_LON, LAT0 + 5 * D_LAT)),
              Node(id=3004, location=(LON0 + 5 * D_LON, LAT0 + 6 * D_LAT)),
              Node(id=4001, location=(LON0 + 0.2 * D_LON, LAT0 + 0.2 * D_LAT)),
              Node(id=4002, location=(LON0 + 0.4 * D_LON, LAT0 + 0.2 * D_LAT)),
              Node(id=4003, location=(LON0 + 0.4 * D_LON, LAT0 + 0.4 * D_LAT))]
    ways: list[Way] = []
    wid = 100
    for j in range(1, ROWS):  # east-west streets (row 0 is the primary road)
        tags = {"highway": "residential", "name": f"Street {j}"}
        if j == 3:
            tags["oneway"] = "-1"
        ways.append(Way(id=wid, nodes=[_nid(i, j) for i in range(COLS)], tags=tags))
        wid += 1
    for i in range(COLS):  # north-south streets
        ways.append(Way(id=wid, nodes=[_nid(i, j) for j in range(ROWS)],
                        tags={"highway": "residential"}))
        wid += 1
    ways.append(Way(id=200, nodes=[_nid(i, 0) for i in range(COLS)],
                    tags={"highway": "primary", "name": "G210", "ref": "G210"}))
    ways.append(Way(id=201, nodes=[2001, 2002, 2003, 2004, 2001],
                    tags={"highway": "tertiary", "junction": "roundabout"}))
    ways.append(Way(id=202, nodes=[_nid(5, 4), 3001], tags={"highway": "track"}))
    ways.append(Way(id=203, nodes=[_nid(0, 4), 3002], tags={"highway": "footway"}))
    # node 9999 is not in the file: the way is split there and its stubs kept
    ways.append(Way(id=204, nodes=[_nid(3, 4), 3003, 9999, 3004, 3001],
                    tags={"highway": "unclassified"}))
    ways.append(Way(id=205, nodes=[4001, 4002, 4003, 4001], tags={"building": "yes"}))
    ways.append(Way(id=206, nodes=[2004, _nid(2, 2)], tags={"highway": "service"}))
    return nodes, ways


def main() -> None:
    nodes, ways = _elements()
    for name in ("streets.osm.pbf", "streets.osm"):
        path = HERE / name
        path.unlink(missing_ok=True)
        with osmium.SimpleWriter(str(path)) as w:
            for n in nodes:
                w.add_node(n)
            for way in ways:
                w.add_way(way)


if __name__ == "__main__":
    main()

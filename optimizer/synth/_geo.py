"""Geography for the instance generator: real places, synthetic positions, terrain and roads.

Private helper of :mod:`optimizer.synth.county`. Everything random here draws from
``numpy.random.default_rng([seed, stream, county])`` with a fixed stream number per step, so
the road network does not depend on the product and each step is reproducible on its own.

Units: lon/lat in degrees WGS84; ``x``/``y`` in metres on a local equirectangular plane
centred on the county seat; elevations in metres; lengths in metres unless named ``_km``.
"""

from __future__ import annotations

import csv
import gzip
import io
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import ndimage

from optimizer.errors import InstanceError

DATA_DIR = Path(__file__).parent / "data"

#: Xiuwen county extent (degrees WGS84) from geodata/SOURCE.md; other counties get a square
#: around the county seat derived from the village count.
XIUWEN_CODE = "520123"
XIUWEN_BBOX = (106.36, 26.75, 106.88, 27.20)
XIUWEN_AREA_KM2 = 1075.7
#: Guizhou: 176,167 km2 / 17,964 villages = 9.8 km2 per village (average area per village).
KM2_PER_VILLAGE = 9.8

#: Village list county codes renamed since the county-seat table was drawn (NBS 2023):
#: Shuicheng county -> district (520221 -> 520204), Qianxi county -> city (520522 -> 520581).
SEAT_ALIASES = {"520204": "520221", "520581": "520522"}

#: Pinyin slugs of the 88 county-level units (used in file names).
COUNTY_SLUGS = {
    "520102": "nanming", "520103": "yunyan", "520111": "huaxi", "520112": "wudang",
    "520113": "baiyun", "520115": "guanshanhu", "520121": "kaiyang", "520122": "xifeng",
    "520123": "xiuwen", "520181": "qingzhen", "520201": "zhongshan", "520203": "liuzhi",
    "520204": "shuicheng", "520281": "panzhou", "520302": "honghuagang", "520303": "huichuan",
    "520304": "bozhou", "520322": "tongzi", "520323": "suiyang", "520324": "zhengan",
    "520325": "daozhen", "520326": "wuchuan", "520327": "fenggang", "520328": "meitan",
    "520329": "yuqing", "520330": "xishui", "520381": "chishui", "520382": "renhuai",
    "520402": "xixiu", "520403": "pingba", "520422": "puding", "520423": "zhenning",
    "520424": "guanling", "520425": "ziyun", "520502": "qixingguan", "520521": "dafang",
    "520581": "qianxi", "520523": "jinsha", "520524": "zhijin", "520525": "nayong",
    "520526": "weining", "520527": "hezhang", "520602": "bijiang", "520603": "wanshan",
    "520621": "jiangkou", "520622": "yuping", "520623": "shiqian", "520624": "sinan",
    "520625": "yinjiang", "520626": "dejiang", "520627": "yanhe", "520628": "songtao",
    "522301": "xingyi", "522302": "xingren", "522323": "puan", "522324": "qinglong",
    "522325": "zhenfeng", "522326": "wangmo", "522327": "ceheng", "522328": "anlong",
    "522601": "kaili", "522622": "huangping", "522623": "shibing", "522624": "sansui",
    "522625": "zhenyuan", "522626": "cengong", "522627": "tianzhu", "522628": "jinping",
    "522629": "jianhe", "522630": "taijiang", "522631": "liping", "522632": "rongjiang",
    "522633": "congjiang", "522634": "leishan", "522635": "majiang", "522636": "danzhai",
    "522701": "duyun", "522702": "fuquan", "522722": "libo", "522723": "guiding",
    "522725": "wengan", "522726": "dushan", "522727": "pingtang", "522728": "luodian",
    "522729": "changshun", "522730": "longli", "522731": "huishui", "522732": "sandu",
}

# Random streams (one per step; never reuse a number for another purpose).
_S_TOWNSHIPS, _S_VILLAGES, _S_TERRAIN, _S_ROADS, _S_HOUSEHOLDS = 1, 2, 3, 4, 5

ELEV_MIN_M, ELEV_MAX_M, ELEV_MEAN_M = 900.0, 1700.0, 1250.0
TRUNK_MARGIN_M = 5000.0
VILLAGE_SPACING_M = 600.0


def rng_for(seed: int, stream: int, county_code: str) -> np.random.Generator:
    """The seeded generator of one step (``stream``) for one county."""
    return np.random.default_rng([int(seed) & 0xFFFFFFFF, stream, int(county_code)])


# --------------------------------------------------------------------------------------------
# Source tables
# --------------------------------------------------------------------------------------------

def _csv_rows(name: str) -> Iterator[dict[str, str]]:
    path = DATA_DIR / name
    if name.endswith(".gz"):
        with gzip.open(path, "rt", encoding="utf-8", newline="") as fh:
            yield from csv.DictReader(io.StringIO(fh.read()))
    else:
        with path.open(encoding="utf-8", newline="") as fh:
            yield from csv.DictReader(fh)


@dataclass(frozen=True)
class County:
    """A county-level unit: seat position (degrees), extent (degrees), area (km2)."""

    code: str
    name: str
    prefecture: str
    slug: str
    seat_lon: float
    seat_lat: float
    bbox: tuple[float, float, float, float]
    area_km2: float
    real_extent: bool


@dataclass
class Township:
    """A township-level unit with its seat (degrees); ``real_seat`` False if synthetic."""

    code: str
    name: str
    lon: float = 0.0
    lat: float = 0.0
    real_seat: bool = False
    urban: bool = False  # a sub-district (街道)


@dataclass
class VillageRec:
    """A village with a synthetic position (degrees) and a synthetic household count."""

    code: str
    name: str
    township_code: str
    township_name: str
    urban: bool  # a neighbourhood committee (NBS code suffix < 200), not a village committee
    lon: float = 0.0
    lat: float = 0.0
    households: int = 0


def county_codes() -> list[str]:
    """All county codes of the Guizhou village list, sorted."""
    return sorted({r["county_code"] for r in _csv_rows("guizhou_villages_nbs2023.csv.gz")})


def load_places(county_code: str) -> tuple[County, list[Township], list[VillageRec]]:
    """County, townships and villages (unplaced) of ``county_code`` from the NBS tables.

    Raises :class:`InstanceError` for a code not in the village list.
    """
    county_code = {old: new for new, old in SEAT_ALIASES.items()}.get(county_code, county_code)
    villages = [
        VillageRec(
            code=r["village_code"], name=r["village_name"], township_code=r["township_code"],
            township_name=r["township_name"], urban=int(r["village_code"][-3:]) < 200,
        )
        for r in _csv_rows("guizhou_villages_nbs2023.csv.gz")
        if r["county_code"] == county_code
    ]
    if not villages:
        raise InstanceError.at(
            None, "--county", "unknown Guizhou county code", got=county_code,
            fix="use a 6-digit code from optimizer/synth/data/guizhou_county_seats.csv or the "
                "county_code column of optimizer/synth/data/guizhou_villages_nbs2023.csv.gz "
                "(e.g. 520123 Xiuwen)",
        )
    villages.sort(key=lambda v: v.code)
    seat_code = SEAT_ALIASES.get(county_code, county_code)
    seat = next(r for r in _csv_rows("guizhou_county_seats.csv") if r["county_code"] == seat_code)
    county_name = next(r["county_name"] for r in _csv_rows("guizhou_villages_nbs2023.csv.gz")
                       if r["county_code"] == county_code)
    lon0, lat0 = float(seat["lon"]), float(seat["lat"])
    if county_code == XIUWEN_CODE:
        bbox, area, real = XIUWEN_BBOX, XIUWEN_AREA_KM2, True
    else:
        area = min(max(len(villages) * KM2_PER_VILLAGE, 300.0), 4000.0)
        half = math.sqrt(area) / 2 * 1000.0 * 1.1  # a square a little larger than the area
        dlon, dlat = half / _m_per_deg_lon(lat0), half / _M_PER_DEG_LAT
        bbox, real = (lon0 - dlon, lat0 - dlat, lon0 + dlon, lat0 + dlat), False
    county = County(
        code=county_code, name=county_name, prefecture=seat["prefecture_name"],
        slug=COUNTY_SLUGS.get(county_code, f"c{county_code}"), seat_lon=lon0, seat_lat=lat0,
        bbox=bbox, area_km2=area, real_extent=real,
    )
    names = {v.township_code: v.township_name for v in villages}
    townships = [Township(code=c, name=n, urban=n.endswith("街道"))
                 for c, n in sorted(names.items())]
    return county, townships, villages


# --------------------------------------------------------------------------------------------
# Local plane
# --------------------------------------------------------------------------------------------

_M_PER_DEG_LAT = 110_574.0


def _m_per_deg_lon(lat: float) -> float:
    return 111_320.0 * math.cos(math.radians(lat))


@dataclass(frozen=True)
class Plane:
    """Equirectangular projection around (lon0, lat0); good to ~0.1 % over a county."""

    lon0: float
    lat0: float

    def to_xy(self, lon: float, lat: float) -> tuple[float, float]:
        """Degrees -> metres."""
        return (lon - self.lon0) * _m_per_deg_lon(self.lat0), (lat - self.lat0) * _M_PER_DEG_LAT

    def to_lonlat(self, x: float, y: float) -> tuple[float, float]:
        """Metres -> degrees rounded to 6 decimals (about 0.1 m)."""
        return (round(self.lon0 + x / _m_per_deg_lon(self.lat0), 6),
                round(self.lat0 + y / _M_PER_DEG_LAT, 6))


# --------------------------------------------------------------------------------------------
# Placing townships and villages
# --------------------------------------------------------------------------------------------

def place_townships(county: County, townships: list[Township], seed: int) -> None:
    """Set township seats: real for Xiuwen where known, else synthetic around the county seat.

    Synthetic: sub-districts (街道) 1.5-4 km from the county seat (the first one in code order
    at the seat itself when no real seat is known); towns/townships spread by angle at
    35-85 % of the county half-width, at least 3 km from other seats.
    """
    rng = rng_for(seed, _S_TOWNSHIPS, county.code)
    plane = Plane(county.seat_lon, county.seat_lat)
    real: dict[str, tuple[float, float]] = {}
    if county.code == XIUWEN_CODE:
        real = {r["township_code"]: (float(r["lon"]), float(r["lat"]))
                for r in _csv_rows("xiuwen_township_seats.csv")}
    x0, y0 = plane.to_xy(county.bbox[0], county.bbox[1])
    x1, y1 = plane.to_xy(county.bbox[2], county.bbox[3])
    half = min(x1 - x0, y1 - y0) / 2
    placed: list[tuple[float, float]] = []
    for t in townships:
        if t.code in real:
            t.lon, t.lat = real[t.code]
            t.real_seat = True
            placed.append(plane.to_xy(t.lon, t.lat))
    if not real:
        first = next((t for t in townships if t.urban), townships[0])
        first.lon, first.lat = round(county.seat_lon, 6), round(county.seat_lat, 6)
        placed.append((0.0, 0.0))
    todo = [t for t in townships if t.lon == 0.0 and t.lat == 0.0]
    rural = [t for t in todo if not t.urban]
    base = float(rng.uniform(0, 2 * math.pi))
    order = rng.permutation(len(rural))
    angle_of = {rural[int(k)].code: base + 2 * math.pi * i / max(len(rural), 1)
                for i, k in enumerate(order)}
    for t in todo:
        for attempt in range(400):
            if t.urban:
                r = float(rng.uniform(1500.0, 4000.0))
                a = float(rng.uniform(0, 2 * math.pi))
                min_gap = 1500.0
            else:
                r = float(rng.uniform(0.35, 0.85)) * half
                a = angle_of[t.code] + float(rng.normal(0, 0.25))
                min_gap = 3000.0
            if attempt > 200:
                min_gap /= 2
            x, y = r * math.cos(a), r * math.sin(a)
            if all(math.hypot(x - px, y - py) >= min_gap for px, py in placed):
                break
        t.lon, t.lat = plane.to_lonlat(x, y)
        placed.append((x, y))


def place_villages(county: County, townships: list[Township], villages: list[VillageRec],
                   seed: int) -> None:
    """Place each village near its township seat (synthetic positions).

    Village committees 1.5-7 km from their seat, neighbourhood committees (社区) 0.5-3 km;
    at least 600 m from every other village and seat, inside the county extent, and not much
    nearer another township's seat (distance to own seat <= 1.25 x to any other seat).
    Constraints relax step by step if a position cannot be found in 300 draws.
    """
    rng = rng_for(seed, _S_VILLAGES, county.code)
    plane = Plane(county.seat_lon, county.seat_lat)
    seats = {t.code: plane.to_xy(t.lon, t.lat) for t in townships}
    seat_xy = np.array(list(seats.values()))
    bx0, by0 = plane.to_xy(county.bbox[0], county.bbox[1])
    bx1, by1 = plane.to_xy(county.bbox[2], county.bbox[3])
    pts = [tuple(p) for p in seat_xy]
    for v in villages:
        sx, sy = seats[v.township_code]
        rmin, rmax = (500.0, 3000.0) if v.urban else (1500.0, 7000.0)
        x = y = 0.0
        for attempt in range(1200):
            level = attempt // 300  # 0 strict, 1 no Voronoi, 2 half spacing, 3 outside bbox ok
            r = math.sqrt(float(rng.uniform(rmin**2, rmax**2)))
            a = float(rng.uniform(0, 2 * math.pi))
            x, y = sx + r * math.cos(a), sy + r * math.sin(a)
            if level < 3 and not (bx0 + 300 <= x <= bx1 - 300 and by0 + 300 <= y <= by1 - 300):
                continue
            gap = VILLAGE_SPACING_M if level < 2 else VILLAGE_SPACING_M / 2
            if any(math.hypot(x - px, y - py) < gap for px, py in pts):
                continue
            if level < 1:
                d = np.hypot(seat_xy[:, 0] - x, seat_xy[:, 1] - y)
                if r > 1.25 * float(d.min()) + 1e-6:
                    continue
            break
        v.lon, v.lat = plane.to_lonlat(x, y)
        pts.append(plane.to_xy(v.lon, v.lat))


def draw_households(county: County, villages: list[VillageRec], seed: int) -> None:
    """Synthetic households: village committees lognormal median 550 (150-1,500),
    neighbourhood committees median 2,000 (400-5,000)."""
    rng = rng_for(seed, _S_HOUSEHOLDS, county.code)
    for v in villages:
        z = float(rng.normal())
        if v.urban:
            v.households = int(min(max(round(2000 * math.exp(0.5 * z)), 400), 5000))
        else:
            v.households = int(min(max(round(550 * math.exp(0.45 * z)), 150), 1500))


# --------------------------------------------------------------------------------------------
# Terrain
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Terrain:
    """A gridded elevation field (m) over ``bbox`` (degrees); bilinear sampling."""

    bbox: tuple[float, float, float, float]
    grid: np.ndarray  # [row = lat index south->north, col = lon index west->east]

    def elev_m(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Elevation (m) at degrees ``lon``/``lat`` (clamped to the grid)."""
        ny, nx = self.grid.shape
        c = (np.asarray(lon, float) - self.bbox[0]) / (self.bbox[2] - self.bbox[0]) * (nx - 1)
        r = (np.asarray(lat, float) - self.bbox[1]) / (self.bbox[3] - self.bbox[1]) * (ny - 1)
        coords = np.vstack([np.clip(r, 0, ny - 1).ravel(), np.clip(c, 0, nx - 1).ravel()])
        return ndimage.map_coordinates(self.grid, coords, order=1, mode="nearest").reshape(
            np.shape(lon))


def make_terrain(county: County, seed: int, margin_m: float = 10_000.0) -> Terrain:
    """Procedural elevation: 10 anisotropic Gaussian ridges/valleys plus two octaves of
    smooth value noise, rescaled so the county extent spans 900-1,700 m with mean 1,250 m
    (a power-law stretch sets the mean). Grid 256 x 256 over the extent + ``margin_m``."""
    rng = rng_for(seed, _S_TERRAIN, county.code)
    plane = Plane(county.seat_lon, county.seat_lat)
    dlon = margin_m / _m_per_deg_lon(county.seat_lat)
    dlat = margin_m / _M_PER_DEG_LAT
    bb = county.bbox
    bbox = (bb[0] - dlon, bb[1] - dlat, bb[2] + dlon, bb[3] + dlat)
    n = 256
    lons = np.linspace(bbox[0], bbox[2], n)
    lats = np.linspace(bbox[1], bbox[3], n)
    gx = (lons - plane.lon0) * _m_per_deg_lon(plane.lat0)
    gy = (lats - plane.lat0) * _M_PER_DEG_LAT
    X, Y = np.meshgrid(gx, gy)
    f = np.zeros_like(X)
    for _ in range(10):
        cx = float(rng.uniform(gx[0], gx[-1]))
        cy = float(rng.uniform(gy[0], gy[-1]))
        th = float(rng.uniform(0, math.pi))
        s_long = float(rng.uniform(8_000, 25_000))
        s_short = float(rng.uniform(2_500, 6_000))
        amp = float(rng.uniform(0.5, 1.0)) * (1 if rng.uniform() < 0.6 else -1)
        u = (X - cx) * math.cos(th) + (Y - cy) * math.sin(th)
        w = -(X - cx) * math.sin(th) + (Y - cy) * math.cos(th)
        f += amp * np.exp(-0.5 * ((u / s_long) ** 2 + (w / s_short) ** 2))
    span = max(gx[-1] - gx[0], gy[-1] - gy[0])
    for cell_m, amp in ((6_000.0, 0.45), (2_500.0, 0.18)):
        k = int(math.ceil(span / cell_m)) + 4
        lattice = rng.normal(size=(k, k))
        rr = (Y - gy[0]) / cell_m + 1
        cc = (X - gx[0]) / cell_m + 1
        f += amp * ndimage.map_coordinates(lattice, [rr.ravel(), cc.ravel()], order=3,
                                           mode="nearest").reshape(X.shape)
    in_lon = (lons >= bb[0]) & (lons <= bb[2])
    in_lat = (lats >= bb[1]) & (lats <= bb[3])
    inside = in_lat[:, None] & in_lon[None, :]
    lo, hi = float(f[inside].min()), float(f[inside].max())
    u01 = np.clip((f - lo) / (hi - lo), 0.0, 1.0)
    target = (ELEV_MEAN_M - ELEV_MIN_M) / (ELEV_MAX_M - ELEV_MIN_M)
    a, b = -3.0, 3.0  # bisection on log(gamma): mean(u**gamma) decreases with gamma
    for _ in range(60):
        mid = (a + b) / 2
        if float(np.mean(u01[inside] ** math.exp(mid))) > target:
            a = mid
        else:
            b = mid
    grid = ELEV_MIN_M + (ELEV_MAX_M - ELEV_MIN_M) * u01 ** math.exp((a + b) / 2)
    return Terrain(bbox=bbox, grid=grid)


# --------------------------------------------------------------------------------------------
# Roads
# --------------------------------------------------------------------------------------------

@dataclass
class Road:
    """One road feature between two node keys (lon, lat rounded to 6 decimals)."""

    u: tuple[float, float]
    v: tuple[float, float]
    road_class: str
    synthetic: bool
    name: str | None = None
    sinuosity: float = 1.0
    coords: list[tuple[float, float, float]] = field(default_factory=list)


@dataclass
class Network:
    """The generated road layer and the node kinds used to build it."""

    roads: list[Road]
    track_villages: set[str]
    hub: tuple[float, float]


def _trunk(county: County, plane: Plane) -> tuple[dict[str, tuple[float, float]],
                                                 list[tuple[str, str]]]:
    """Trunk nodes (id -> lon/lat) and edges inside the county extent + 5 km margin."""
    bb = county.bbox
    dlon = TRUNK_MARGIN_M / _m_per_deg_lon(county.seat_lat)
    dlat = TRUNK_MARGIN_M / _M_PER_DEG_LAT
    nodes = {}
    for r in _csv_rows("guizhou_trunk_roads_osm_nodes.csv"):
        lon, lat = float(r["lon"]), float(r["lat"])
        if bb[0] - dlon <= lon <= bb[2] + dlon and bb[1] - dlat <= lat <= bb[3] + dlat:
            nodes[r["node_id"]] = (round(lon, 6), round(lat, 6))
    edges = set()
    for r in _csv_rows("guizhou_trunk_roads_osm_edges.csv"):
        u, v = r["u"], r["v"]
        if u in nodes and v in nodes and nodes[u] != nodes[v]:
            edges.add((min(u, v, key=int), max(u, v, key=int)))
    used = {n for e in edges for n in e}
    kept = {k: p for k, p in nodes.items() if k in used}
    return kept, sorted(edges, key=lambda e: (int(e[0]), int(e[1])))


class _UF:
    def __init__(self) -> None:
        self.p: dict[tuple[float, float], tuple[float, float]] = {}

    def find(self, a: tuple[float, float]) -> tuple[float, float]:
        self.p.setdefault(a, a)
        while self.p[a] != a:
            self.p[a] = self.p[self.p[a]]
            a = self.p[a]
        return a

    def union(self, a: tuple[float, float], b: tuple[float, float]) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.p[max(ra, rb)] = min(ra, rb)


def build_network(county: County, townships: list[Township], villages: list[VillageRec],
                  seed: int) -> Network:
    """Build the road layer (topology only; geometry comes from :func:`shape_roads`).

    1. Real OSM trunk edges inside the extent + 5 km (``class1``, not synthetic).
    2. The county hub 1.5 km from the county seat towards the nearest trunk node, linked
       (``class2``) to that node and to the nearest township seat.
    3. Each township seat -> the nearest trunk node, or to an already linked seat when that is
       under 0.6 x as far (``class2``; seats in order of distance to the trunk).
    4. Villages of each township, nearest-first, link to the nearest already linked node of
       the township (its seat or a village): ``class3`` for neighbourhood committees and the
       largest 30 % of villages hanging on the seat or a class3 village, ``track`` for about
       10 % of villages (remote leaves only, so a truck barred from tracks cannot reach them),
       ``class4`` otherwise.
    5. Loops: about 8 % extra village-village links (<= 3.5 km, class4, never to a track
       village) and n_townships/3 township-township links (<= 15 km, class3).
    6. Components left apart are joined (class2) to the hub's component; trunk fragments
       with no site further than 10 km are dropped.
    """
    rng = rng_for(seed, _S_ROADS, county.code)
    plane = Plane(county.seat_lon, county.seat_lat)
    roads: list[Road] = []
    links: set[frozenset[tuple[float, float]]] = set()

    def add(u: tuple[float, float], v: tuple[float, float], cls: str, synthetic: bool,
            name: str | None) -> None:
        if u == v or frozenset((u, v)) in links:
            return
        links.add(frozenset((u, v)))
        s = 1.0
        if synthetic:
            s = float(rng.uniform(1.2, 1.4) if cls in ("class1", "class2")
                      else rng.uniform(1.3, 1.8))
        roads.append(Road(u=u, v=v, road_class=cls, synthetic=synthetic, name=name, sinuosity=s))

    def dist(a: tuple[float, float], b: tuple[float, float]) -> float:
        ax, ay = plane.to_xy(*a)
        bx, by = plane.to_xy(*b)
        return math.hypot(ax - bx, ay - by)

    # 1. trunk
    tnodes, tedges = _trunk(county, plane)
    for tu, tv in tedges:
        add(tnodes[tu], tnodes[tv], "class1", False, None)
    trunk_pts = sorted(set(tnodes.values()))

    # 2. hub
    seat = (round(county.seat_lon, 6), round(county.seat_lat, 6))
    sx, sy = plane.to_xy(*seat)
    seat_pts = {t.code: (t.lon, t.lat) for t in townships}
    if trunk_pts:
        near = min(trunk_pts, key=lambda p: dist(seat, p))
        nx, ny = plane.to_xy(*near)
        d = math.hypot(nx - sx, ny - sy)
        step = 1500.0 if d > 2500.0 else max(d / 3, 300.0)
        a = math.atan2(ny - sy, nx - sx) if d > 0 else 0.0
    else:
        near, step, a = None, 1500.0, float(rng.uniform(0, 2 * math.pi))
    hub = plane.to_lonlat(sx + step * math.cos(a), sy + step * math.sin(a))
    if near is not None:
        add(hub, near, "class2", True, f"{county.name}冷链物流园连接线")
    home = min(townships, key=lambda t: dist(hub, seat_pts[t.code]))
    add(hub, seat_pts[home.code], "class2", True, f"{county.name}冷链物流园进城路")

    # 3. township seats
    anchors = list(trunk_pts) or [hub]
    linked_seats: list[tuple[float, float]] = [seat_pts[home.code]] if not trunk_pts else []
    by_trunk = sorted(townships, key=lambda t: (min(dist(seat_pts[t.code], p) for p in anchors),
                                                t.code))
    for t in by_trunk:
        p = seat_pts[t.code]
        if p in linked_seats:
            continue
        best = min(anchors, key=lambda q: dist(p, q))
        dbest = dist(p, best)
        others = [q for q in linked_seats if q != p]
        if others:
            q = min(others, key=lambda q: dist(p, q))
            if dist(p, q) < 0.6 * dbest:
                best = q
        add(p, best, "class2", True, f"{t.name}连接线")
        linked_seats.append(p)

    # 4. villages
    track: set[str] = set()
    n_track = round(0.10 * len(villages))
    by_town: dict[str, list[VillageRec]] = {}
    for v in villages:
        by_town.setdefault(v.township_code, []).append(v)
    parent: dict[str, tuple[float, float]] = {}
    children: dict[tuple[float, float], int] = {}
    order: list[VillageRec] = []
    for tcode in sorted(by_town):
        s = seat_pts[tcode]
        vs = sorted(by_town[tcode], key=lambda v: (dist(s, (v.lon, v.lat)), v.code))
        linked = [s]
        for v in vs:
            p = (v.lon, v.lat)
            q = min(linked, key=lambda q: dist(p, q))
            parent[v.code] = q
            children[q] = children.get(q, 0) + 1
            linked.append(p)
            order.append(v)
    leaves = [v for v in villages
              if not v.urban and children.get((v.lon, v.lat), 0) == 0]
    remote = sorted(leaves, key=lambda v: -dist(seat_pts[v.township_code], (v.lon, v.lat))
                    * float(np.exp(0.3 * rng.normal())))
    track = {v.code for v in remote[:n_track]}
    class3_pts: set[tuple[float, float]] = set(seat_pts.values())
    for tcode in sorted(by_town):
        vs = by_town[tcode]
        k = max(1, round(0.3 * len(vs)))
        big = {v.code for v in sorted(vs, key=lambda v: (-v.households, v.code))[:k]}
        for v in [w for w in order if w.township_code == tcode]:
            p = (v.lon, v.lat)
            if v.code in track:
                cls, nm = "track", f"{v.name}机耕道"
            elif v.urban or (v.code in big and parent[v.code] in class3_pts):
                cls, nm = "class3", f"{v.name}通村路"
                class3_pts.add(p)
            else:
                cls, nm = "class4", f"{v.name}通村路"
            add(parent[v.code], p, cls, True, nm)

    # 5. loops
    free = [v for v in villages if v.code not in track]
    pairs = []
    for i, a_ in enumerate(free):
        for b_ in free[i + 1:]:
            d = dist((a_.lon, a_.lat), (b_.lon, b_.lat))
            if d <= 3500.0 and frozenset(((a_.lon, a_.lat), (b_.lon, b_.lat))) not in links:
                pairs.append((d * float(np.exp(0.5 * rng.normal())), a_, b_))
    pairs.sort(key=lambda t: (t[0], t[1].code, t[2].code))
    for _, a_, b_ in pairs[:max(2, round(0.08 * len(villages)))]:
        add((a_.lon, a_.lat), (b_.lon, b_.lat), "class4", True, f"{a_.name}-{b_.name}连村路")
    tpairs = []
    for i, a_t in enumerate(townships):
        for b_t in townships[i + 1:]:
            pa, pb = seat_pts[a_t.code], seat_pts[b_t.code]
            d = dist(pa, pb)
            if pa != pb and d <= 15_000.0 and frozenset((pa, pb)) not in links:
                tpairs.append((d * float(np.exp(0.4 * rng.normal())), a_t, b_t))
    tpairs.sort(key=lambda t: (t[0], t[1].code, t[2].code))
    for _, a_t, b_t in tpairs[:max(1, len(townships) // 3)]:
        add(seat_pts[a_t.code], seat_pts[b_t.code], "class3", True, f"{a_t.name}-{b_t.name}公路")

    # 6. one component
    _join_components(roads, links, hub, {(v.lon, v.lat) for v in villages if v.code in track},
                     dist, add)
    return Network(roads=roads, track_villages=track, hub=hub)


def _join_components(roads: list[Road], links: set[frozenset[tuple[float, float]]],
                     hub: tuple[float, float], forbidden: set[tuple[float, float]],
                     dist: Callable[[tuple[float, float], tuple[float, float]], float],
                     add: Callable[..., None]) -> None:
    """Join every component to the hub's; drop far trunk-only fragments (see build_network).

    ``roads`` and ``links`` are updated in place (``add`` appends to them); nodes in
    ``forbidden`` (track-only villages) never receive a joining link.
    """
    while True:
        uf = _UF()
        for r in roads:
            uf.union(r.u, r.v)
        comps: dict[tuple[float, float], list[tuple[float, float]]] = {}
        for p in sorted(uf.p):
            comps.setdefault(uf.find(p), []).append(p)
        main = uf.find(hub)
        if len(comps) == 1:
            return
        other_root = min(r for r in comps if r != main)
        other = comps[other_root]
        targets = [p for p in comps[main] if p not in forbidden]
        tarr = np.array(targets)
        best = (math.inf, other[0], targets[0])
        for p in other:
            if p in forbidden:
                continue
            d = np.hypot((tarr[:, 0] - p[0]) * math.cos(math.radians(p[1])), tarr[:, 1] - p[1])
            j = int(np.argmin(d))
            dm = dist(p, targets[j])
            if dm < best[0]:
                best = (dm, p, targets[j])
        only_trunk = all(not r.synthetic for r in roads if r.u in set(other))
        if only_trunk and best[0] > 10_000.0:
            keep = set(other)
            roads[:] = [r for r in roads if r.u not in keep]  # in place: ``add`` appends here
            for k in [k for k in links if k & keep]:
                links.discard(k)
            continue
        add(best[1], best[2], "class2", True, "连接线")


def shape_roads(network: Network, county: County, terrain: Terrain, seed: int) -> None:
    """Give every road its 3-D geometry (lon, lat, elev_m).

    Trunk edges stay straight (two vertices, as in the source). Synthetic roads meander:
    a lateral offset sum of sine harmonics (zero at both ends, wavelengths about 1.5-4 km)
    scaled by bisection so that length / straight distance equals the road's sinuosity;
    a vertex every ~150 m. Elevations are sampled from ``terrain`` and rounded to 0.1 m.
    """
    rng = rng_for(seed, _S_ROADS + 100, county.code)
    plane = Plane(county.seat_lon, county.seat_lat)
    for road in network.roads:
        ax, ay = plane.to_xy(*road.u)
        bx, by = plane.to_xy(*road.v)
        d = math.hypot(bx - ax, by - ay)
        if not road.synthetic or d < 200.0:
            pts = [road.u, road.v]
        else:
            n_seg = max(2, math.ceil(road.sinuosity * d / 150.0))
            t = np.linspace(0.0, 1.0, n_seg + 1)
            k_max = max(2, min(24, round(2 * d / float(rng.uniform(1500, 4000)))))
            ks = np.arange(1, k_max + 1)
            amps = rng.normal(size=k_max) / ks ** 0.7
            off = (amps[:, None] * np.sin(np.pi * ks[:, None] * t[None, :])).sum(axis=0)
            ux, uy = (bx - ax) / d, (by - ay) / d
            base_x, base_y = ax + t * (bx - ax), ay + t * (by - ay)

            def length(lam: float, off: np.ndarray = off, base_x: np.ndarray = base_x,
                       base_y: np.ndarray = base_y, ux: float = ux, uy: float = uy) -> float:
                xs = base_x - uy * lam * off
                ys = base_y + ux * lam * off
                return float(np.hypot(np.diff(xs), np.diff(ys)).sum())

            lo, hi = 0.0, d
            while length(hi) < road.sinuosity * d and hi < 100 * d:
                hi *= 2
            for _ in range(50):
                mid = (lo + hi) / 2
                if length(mid) < road.sinuosity * d:
                    lo = mid
                else:
                    hi = mid
            lam = (lo + hi) / 2
            xs = base_x - uy * lam * off
            ys = base_y + ux * lam * off
            pts = [road.u] + [plane.to_lonlat(float(x), float(y))
                              for x, y in zip(xs[1:-1], ys[1:-1], strict=True)] + [road.v]
        lon = np.array([p[0] for p in pts])
        lat = np.array([p[1] for p in pts])
        z = terrain.elev_m(lon, lat)
        road.coords = [(p[0], p[1], round(float(e), 1)) for p, e in zip(pts, z, strict=True)]

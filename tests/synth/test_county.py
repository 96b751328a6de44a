"""Tests of the instance generator (optimizer.synth.county) and the ``generate`` command."""

from __future__ import annotations

import json
from pathlib import Path

import networkx as nx
import pytest
import typer
from typer.testing import CliRunner

from optimizer.cli.generate import register
from optimizer.errors import InstanceError
from optimizer.formats.instance_toml import read_instance
from optimizer.synth.county import generate_county

FILES = ("instance.toml", "villages.csv", "cold_store_sites.csv", "pickup_sites.csv",
         "README.md")


def _gen(root: Path, county: str = "520123", **kw: object) -> Path:
    return generate_county(county, instances_dir=root / "instances",
                           networks_dir=root / "networks", **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def xiuwen(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _gen(tmp_path_factory.mktemp("xiuwen"))


def _network_bytes(inst_dir: Path) -> bytes:
    return read_instance(inst_dir).network_path.read_bytes()


def test_deterministic_per_seed(xiuwen: Path, tmp_path: Path) -> None:
    again = _gen(tmp_path)
    assert again.name == xiuwen.name == "xiuwen-kiwifruit"
    for f in FILES:
        assert (again / f).read_bytes() == (xiuwen / f).read_bytes(), f
    assert _network_bytes(again) == _network_bytes(xiuwen)
    other = _gen(tmp_path, seed=1)
    assert other.name == "xiuwen-kiwifruit-s1"
    assert (other / "villages.csv").read_bytes() != (xiuwen / "villages.csv").read_bytes()
    assert _network_bytes(other) != _network_bytes(xiuwen)
    # re-running over an existing instance replaces it (atomic directory swap)
    assert _gen(tmp_path) == again
    assert sorted(p.name for p in again.iterdir()) == sorted(FILES)
    assert not [p for p in again.parent.iterdir() if p.name.startswith(".")]


def test_xiuwen_reads_and_is_calibrated(xiuwen: Path) -> None:
    inst = read_instance(xiuwen)
    assert inst.county_code == "520123"
    assert len(inst.villages) == 126
    assert all(len(v.id) == 12 and v.id.startswith("520123") for v in inst.villages)
    peak = sum(v.produce_kg_per_day["peak"] for v in inst.villages)
    off = sum(v.produce_kg_per_day["off"] for v in inst.villages)
    assert peak == pytest.approx(2.4e6, rel=0.10)
    assert 0.02 <= off / peak <= 0.04
    share = sum(v.has_pickup_point for v in inst.villages) / len(inst.villages)
    assert share == pytest.approx(0.35, abs=0.02)
    existing = [p for p in inst.pickup_sites if p.existing]
    assert {p.village_id for p in existing} == {v.id for v in inst.villages if v.has_pickup_point}
    assert len(inst.pickup_sites) == len(inst.villages)
    hub = inst.hub
    assert hub.id == "cs-hub" and hub.existing
    cold = hub.existing_modules * hub.module_capacity_t * inst.cold_storage.turns_per_day
    assert cold * 1000 / peak == pytest.approx(0.22, abs=0.02)
    assert [s.id for s in inst.seasons] == ["off", "peak"]
    assert [s.days for s in inst.seasons] == [323, 42]
    assert [s.id for s in inst.scenarios] == ["off", "peak", "rain", "stress"]
    assert inst.scenario("stress").hold_h == 48.0
    assert {v.id for v in inst.vehicle_types} == {"reefer-7t", "truck-8t", "reefer-van", "van",
                                                  "tricycle"}
    # today's reefer trucks and the hired ones can carry the whole peak; today's trucks fill
    # the hub's rooms; hired vehicles cost 1.5 x the owned day cost
    vt = {v.id: v for v in inst.vehicle_types}
    day_kg = {k: v.capacity_kg * v.max_trips * 0.85 for k, v in vt.items()}
    reefer = vt["reefer-7t"]
    assert reefer.count == reefer.baseline_count
    assert (reefer.count + reefer.max_hired) * day_kg["reefer-7t"] >= peak
    assert reefer.hire_yuan_per_day == pytest.approx(1.5 * reefer.fixed_cost_yuan_per_day)
    assert inst.scenario_shares() == {"off": 0.75, "rain": 0.25, "peak": 0.9, "stress": 0.1}
    today = sum(vt[k].baseline_count * day_kg[k] for k in ("reefer-7t", "truck-8t"))
    assert today >= cold * 1000 * 0.99
    # western townships grow most of the kiwifruit
    west = {"六桶镇", "大石布依族乡", "六广镇", "洒坪镇", "谷堡镇", "小箐镇"}
    west_kg = sum(v.produce_kg_per_day["peak"] for v in inst.villages if v.township in west)
    assert west_kg / peak > 0.75
    assert "SYNTHETIC" in inst.synthetic and "REAL" in inst.synthetic


def _graph(geojson: Path) -> tuple[nx.Graph, dict]:
    doc = json.loads(geojson.read_text(encoding="utf-8"))
    g = nx.Graph()
    for f in doc["features"]:
        c = f["geometry"]["coordinates"]
        assert all(len(p) == 3 for p in c)
        g.add_edge(tuple(c[0][:2]), tuple(c[-1][:2]), road_class=f["properties"]["road_class"])
    return g, doc


def test_network_connected_and_sites_on_nodes(xiuwen: Path) -> None:
    inst = read_instance(xiuwen)
    g, doc = _graph(inst.network_path)
    assert "OpenStreetMap contributors" in doc["attribution"]
    assert "ODbL" in doc["attribution"]
    assert nx.number_connected_components(g) == 1
    assert nx.cycle_basis(g), "network should have loops"
    nodes = set(g.nodes)
    for sid, lon, lat in inst.site_points():
        assert (lon, lat) in nodes, sid
    ids = [f["properties"]["edge_id"] for f in doc["features"]]
    assert len(set(ids)) == len(ids)
    classes = {f["properties"]["road_class"] for f in doc["features"]}
    assert classes == {"class1", "class2", "class3", "class4", "track"}
    trunk = [f for f in doc["features"] if f["properties"]["road_class"] == "class1"]
    assert trunk and not any(f["properties"]["synthetic"] for f in trunk)
    zs = [p[2] for f in doc["features"] for p in f["geometry"]["coordinates"]]
    assert min(zs) >= 900.0 and max(zs) <= 1700.0
    # about 10 % of villages hang on tracks only: unreachable without tracks
    no_track = nx.Graph([(u, v) for u, v, d in g.edges(data=True) if d["road_class"] != "track"])
    hub = (inst.hub.lon, inst.hub.lat)
    reach = nx.node_connected_component(no_track, hub)
    cut = [v for v in inst.villages if (v.lon, v.lat) not in reach]
    assert 0.05 <= len(cut) / len(inst.villages) <= 0.15
    assert inst.network_path.stat().st_size < 3_000_000


def test_network_loads_with_optimizer_roads(xiuwen: Path) -> None:
    roads = pytest.importorskip("optimizer.roads")
    inst = read_instance(xiuwen)
    net = roads.load_network(inst.network_path)
    snaps = roads.snap_sites(net, inst.site_points(), max_snap_m=inst.operations.max_snap_m)
    assert max(s.distance_m for s in snaps.values()) < 1.0
    roads.check_reachable(net, snaps)


def test_second_county_with_tea(tmp_path: Path) -> None:
    d = _gen(tmp_path, "520328", product="tea")
    assert d.name == "meitan-tea"
    inst = read_instance(d)
    assert inst.county_code == "520328"
    assert inst.product.name == "tea"
    assert len(inst.villages) == 137
    assert sum(s.days for s in inst.seasons) == 365
    g, _ = _graph(inst.network_path)
    assert nx.number_connected_components(g) == 1
    assert inst.synthetic.count("township seats") >= 1


def test_unknown_county_and_product(tmp_path: Path) -> None:
    with pytest.raises(InstanceError, match="unknown Guizhou county code.*520123"):
        _gen(tmp_path, "999999")
    with pytest.raises(InstanceError, match="6-digit"):
        _gen(tmp_path, "xiuwen")
    with pytest.raises(InstanceError, match="unknown product"):
        _gen(tmp_path, product="durian")
    assert not (tmp_path / "instances").exists()


def test_cli(tmp_path: Path) -> None:
    app = typer.Typer()
    register(app)

    @app.command()
    def _other() -> None:  # a second command so typer keeps "generate" as a subcommand
        pass

    runner = CliRunner()
    res = runner.invoke(app, ["generate", "--help"])
    assert res.exit_code == 0 and "--county" in res.output
    args = ["generate", "--county", "520123", "--seed", "3", "--name", "x",
            "--instances-dir", str(tmp_path / "i"), "--networks-dir", str(tmp_path / "n")]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    assert (tmp_path / "i" / "x" / "instance.toml").exists()
    assert (tmp_path / "n" / "xiuwen-synthetic-s3.geojson").exists()
    res = runner.invoke(app, ["generate", "--county", "123456",
                              "--instances-dir", str(tmp_path / "i")])
    assert isinstance(res.exception, InstanceError)


def test_no_rain_outage_without_a_site_on_a_rural_line(tmp_path: Path, monkeypatch) -> None:
    """A county whose candidate sites are all on the grid (every village urban or on a
    track, e.g. a small merged benchmark county) gets no rural outage, and reads."""
    import optimizer.synth.county as county_mod

    real = county_mod._cold_store_rows

    def grid_only(*a, **k):  # type: ignore[no-untyped-def]
        return [r for r in real(*a, **k) if r["power"] != "rural"]

    monkeypatch.setattr(county_mod, "_cold_store_rows", grid_only)
    inst = read_instance(_gen(tmp_path, "522635") / "instance.toml")
    assert {s.power for s in inst.cold_store_sites} == {"grid"}
    assert all(not sc.outage_h for sc in inst.scenarios)

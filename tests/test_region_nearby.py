"""The region's powiats ordered by the distance between their seats, and region files with or without
the seats' coordinates."""
import json

import pytest
from flask import Flask

from marketplace import region

TORUN, BYDGOSZCZ, GRUDZIADZ, WLOCLAWEK = "0463", "0461", "0462", "0464"
TORUNSKI, BYDGOSKI = "0415", "0403"


@pytest.fixture
def region_file(tmp_path):
    """Run the test with another region file, written from the given powiats."""
    app = Flask(__name__)

    def use(powiats: list[dict]):
        path = tmp_path / f"region-{len(list(tmp_path.iterdir()))}.json"
        path.write_text(json.dumps({"voivodeship": {"code": "99", "name_pl": "województwo próbne"},
                                    "powiats": powiats}, ensure_ascii=False), encoding="utf-8")
        app.config["REGION_FILE"] = str(path)
        return app.app_context()

    return use


def test_every_powiat_of_the_default_region_has_its_seat_in_the_voivodeship():
    powiats = region.data()["powiats"]
    assert len(powiats) == 23
    for p in powiats:
        assert 52.3 < p["seat_lat"] < 53.8 and 17.2 < p["seat_lon"] < 19.8, p["code"]
        assert round(p["seat_lat"], 3) == p["seat_lat"] and round(p["seat_lon"], 3) == p["seat_lon"]


def test_bydgoszcz_and_torun_are_about_45_km_apart():
    assert 40 <= region.distance_km(BYDGOSZCZ, TORUN) <= 50
    assert region.distance_km(TORUN, BYDGOSZCZ) == region.distance_km(BYDGOSZCZ, TORUN)
    assert region.distance_km(TORUN, TORUN) == 0
    assert 50 <= region.distance_km(TORUN, GRUDZIADZ) <= 60


def test_distance_needs_two_powiats_of_the_region():
    with pytest.raises(ValueError):
        region.distance_km(TORUN, "9999")


def test_the_powiat_around_torun_is_its_nearest():
    assert region.nearest(TORUN, [BYDGOSZCZ, WLOCLAWEK, TORUNSKI]) == [TORUNSKI, BYDGOSZCZ, WLOCLAWEK]
    assert region.nearest(BYDGOSZCZ, [TORUN, BYDGOSKI, WLOCLAWEK]) == [BYDGOSKI, TORUN, WLOCLAWEK]


def test_the_powiat_itself_comes_first_and_unknown_codes_and_repeats_are_left_out():
    assert region.nearest(TORUN, iter([WLOCLAWEK, "9999", TORUN, TORUNSKI, WLOCLAWEK])) == [
        TORUN, TORUNSKI, WLOCLAWEK]
    assert region.nearest(TORUN, []) == []


def test_limit_keeps_the_nearest():
    everyone = region.powiat_codes()
    nearest = region.nearest(TORUN, everyone)
    assert sorted(nearest) == sorted(everyone) and nearest[:2] == [TORUN, TORUNSKI]
    assert region.nearest(TORUN, everyone, limit=3) == nearest[:3]
    assert region.nearest(TORUN, everyone, limit=0) == []
    distances = [region.distance_km(TORUN, code) for code in nearest]
    assert distances == sorted(distances)


def test_an_unknown_powiat_keeps_the_order_given():
    assert region.nearest("9999", [WLOCLAWEK, TORUNSKI, BYDGOSZCZ]) == [WLOCLAWEK, TORUNSKI, BYDGOSZCZ]


def test_a_region_without_coordinates_keeps_the_order_given(region_file):
    powiats = [{"code": c, "name": c, "label_pl": f"powiat {c}"} for c in ("9901", "9902", "9903", "9961")]
    with region_file(powiats):
        assert region.powiat_codes() == ["9901", "9902", "9903", "9961"]
        assert region.nearest("9902", ["9961", "9901", "9903"]) == ["9961", "9901", "9903"]
        assert region.nearest("9902", ["9961", "9902", "9901"], limit=2) == ["9902", "9961"]
        with pytest.raises(ValueError):
            region.distance_km("9901", "9902")


def test_powiats_without_coordinates_come_after_those_with_them(region_file):
    powiats = [{"code": "9901", "name": "a", "label_pl": "a", "seat_lat": 52.0, "seat_lon": 19},
               {"code": "9902", "name": "b", "label_pl": "b"},
               {"code": "9903", "name": "c", "label_pl": "c", "seat_lat": 52.5, "seat_lon": 19.0},
               {"code": "9904", "name": "d", "label_pl": "d", "seat_lat": 52.1, "seat_lon": 19.0}]
    with region_file(powiats):
        assert region.nearest("9901", ["9902", "9903", "9904"]) == ["9904", "9903", "9902"]
        assert 10 < region.distance_km("9901", "9904") < 12


@pytest.mark.parametrize("coordinates", [{"seat_lat": 52.0}, {"seat_lon": 19.0},
                                         {"seat_lat": "52.0", "seat_lon": 19.0},
                                         {"seat_lat": 52.0, "seat_lon": True},
                                         {"seat_lat": 91, "seat_lon": 19.0},
                                         {"seat_lat": 52.0, "seat_lon": -181}])
def test_a_region_file_with_unusable_coordinates_is_refused(region_file, coordinates):
    with region_file([{"code": "9901", "name": "a", "label_pl": "a", **coordinates}]):
        with pytest.raises(region.RegionFileError, match="9901"):
            region.powiat_codes()


def test_a_region_file_without_a_list_of_powiats_is_refused(region_file):
    with region_file([{"name": "a"}]):
        with pytest.raises(region.RegionFileError):
            region.powiat_codes()

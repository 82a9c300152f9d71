"""The one map's grid rules, by the table: a box parsed or refused with a message, cells about
64 px wide at each zoom (taller in degrees of latitude near the equator than at 60°N), and the
cell of a point counted from (-180, -90); an outline meets a box when their bounds meet."""

from __future__ import annotations

import pytest

from anjian.core.mapgrid import BBox, cell_of, cell_size, outline_meets, parse_bbox


def test_a_box_is_four_numbers_west_south_east_north() -> None:
    assert parse_bbox("112.5,39.1,113.5,40") == BBox(112.5, 39.1, 113.5, 40.0)
    assert parse_bbox("-180,-90,180,90").mid_lat == 0


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("1,2,3", "四个数"),
        ("1,2,3,4,5", "四个数"),
        ("a,2,3,4", "非数字"),
        ("nan,2,3,4", "非有限数"),
        ("1,2,inf,4", "非有限数"),
        ("3,2,1,4", "最小值"),
        ("1,4,3,2", "最小值"),
        ("1,1,1,1", "最小值"),
        ("-181,0,1,1", "范围"),
        ("0,0,1,91", "范围"),
        ("1" * 300, "四个数"),
        ("1e400,0,1,1", "非有限数"),
    ],
)
def test_a_bad_box_is_refused_saying_why(text: str, says: str) -> None:
    with pytest.raises(ValueError, match=says):
        parse_bbox(text)


@pytest.mark.parametrize(
    ("zoom", "lng_deg"),
    [(0, 90.0), (1, 45.0), (4, 5.625), (10, 0.087890625), (20, 360 / 2**22)],
)
def test_cells_are_about_64_pixels_at_every_zoom(zoom: int, lng_deg: float) -> None:
    lng, lat = cell_size(zoom, 0.0)
    assert lng == pytest.approx(lng_deg) and lat == pytest.approx(lng_deg)
    north = cell_size(zoom, 60.0)
    assert north[1] == pytest.approx(lng_deg / 2)  # cos 60° = 0.5


@pytest.mark.parametrize(
    ("lng", "lat", "size", "cell"),
    [
        (-180.0, -90.0, (1.0, 1.0), (0, 0)),
        (113.19, 39.55, (1.0, 1.0), (293, 129)),
        (113.0, 39.0, (0.5, 0.5), (586, 258)),  # on a border: the cell to the east and north
        (112.999999, 38.999999, (0.5, 0.5), (585, 257)),
        (-0.1, -0.1, (1.0, 1.0), (179, 89)),
    ],
)
def test_the_cell_of_a_point(
    lng: float, lat: float, size: tuple[float, float], cell: tuple[int, int]
) -> None:
    assert cell_of(lng, lat, size) == cell


SQUARE = [[113.0, 39.0], [113.2, 39.0], [113.2, 39.2], [113.0, 39.2], [113.0, 39.0]]


@pytest.mark.parametrize(
    ("box", "meets"),
    [
        (BBox(112.0, 38.0, 114.0, 40.0), True),  # holds it
        (BBox(113.05, 39.05, 113.1, 39.1), True),  # inside it
        (BBox(113.1, 39.1, 114.0, 40.0), True),  # overlaps a corner
        (BBox(113.2, 39.2, 114.0, 40.0), True),  # touches a corner
        (BBox(113.21, 39.0, 114.0, 40.0), False),  # east of it
        (BBox(112.0, 39.21, 114.0, 40.0), False),  # north of it
        (BBox(112.0, 38.0, 112.99, 40.0), False),  # west of it
    ],
)
def test_an_outline_meets_a_box_by_its_bounds(box: BBox, meets: bool) -> None:
    assert outline_meets(SQUARE, box) is meets
    assert outline_meets([], box) is False

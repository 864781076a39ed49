"""The pages tell the truth at every date: finished, overdue, no plan, dots by date, drill-down, bad queries."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.progress_builders import at, centre, load_province, plan, record, store
from tests.test_web import sign_in, text


@pytest.fixture
def finished(app: Flask, tmp_path: Path) -> dict[str, Any]:
    """90002 finishes six days after the May 19 deadline; 90001 never does; 90004 has no plan."""
    load_province(tmp_path)
    plan({"90001": (4, 0), "90002": (2, 0), "90003": (1, 0)}, effective=at("2025-01-01 08:00").date())
    late = {"approved": "2025-01-20", "started": "2025-02-10", "completed": "2025-05-25"}
    early = {"approved": "2025-01-20", "started": "2025-02-10", "completed": "2025-05-10"}
    started = {"approved": "2025-01-20", "started": "2025-03-01"}
    rows = [
        record("90002", head="Sùng A Páo", dates=early),
        record("90002", head="Giàng A Sử", dates=late, funding=[("central_budget", 60_000_000),
                                                              ("enterprise", 5_000_000)]),
        record("90001", head="Cầm Thị Hoa", status="started", dates=started),
        record("90001", head="Lò Văn Việt", dates=early),
        record("90003", head="Đinh Văn Mường", dates=early),
    ]
    store(rows, received_at=at("2025-05-26 09:00"))
    return {"ids": [r["id"] for r in rows]}


def _row(page: str, code: str) -> str:
    match = re.search(rf'<tr[^>]*>\s*<td><a href="/communes/{code}\?[^"]*">.*?</tr>', page, re.S)
    assert match, f"no row for {code}"
    return match.group(0)


def test_a_finished_unit_shows_the_day_it_finished_and_how_late(client: FlaskClient, finished) -> None:
    sign_in(client)
    page = text(client.get("/?as_of=2025-06-01&level=commune&lang=en"))
    assert "finished 25/05/2025, 6 days late" in _row(page, "90002")
    assert "finished 10/05/2025" in _row(page, "90003") and "late" not in _row(page, "90003")
    assert "13 days overdue, 3 houses left" in _row(page, "90001")
    assert "-13" not in page and "at risk" not in _row(page, "90001")


def test_before_the_deadline_units_are_on_track_or_at_risk_and_unplanned_ones_have_no_plan(
        client: FlaskClient, finished) -> None:
    sign_in(client)
    page = text(client.get("/?as_of=2025-05-12&level=commune&lang=en"))
    assert "finished 10/05/2025" in _row(page, "90003")
    assert "at risk" in _row(page, "90001")
    commune = text(client.get("/communes/90004?as_of=2025-05-12&lang=en"))
    assert "on track" not in commune
    pending = text(client.get("/map?as_of=2025-05-12&commune=90004&lang=en"))
    assert "on track" not in pending and "Xã Bốn: no plan" in pending


def test_the_commune_page_reads_as_the_dashboard_row(client: FlaskClient, finished) -> None:
    sign_in(client)
    page = text(client.get("/communes/90002?as_of=2025-06-01&lang=en"))
    assert "2 / 2" in page and "finished 25/05/2025, 6 days late" in page
    mapped = text(client.get("/map?as_of=2025-06-01&commune=90002&lang=en"))
    assert "finished 25/05/2025, 6 days late" in mapped


def test_map_dots_take_their_status_on_the_chosen_date(client: FlaskClient, finished) -> None:
    sign_in(client)
    early = text(client.get("/map?as_of=2025-02-15&points=1"))
    late = text(client.get("/map?as_of=2025-06-01&points=1"))
    assert 'class="s2"' not in early, "nothing was completed by 15 February"
    assert 'class="s1"' in early, "started by then"
    assert 'class="s2"' in late
    before = text(client.get("/map?as_of=2025-01-10&points=1"))
    assert 'class="pts"' not in before or 'class="s' not in before.split('class="pts"')[1], "not yet in the programme"


def test_money_is_compared_like_for_like(client: FlaskClient, finished) -> None:
    sign_in(client)
    page = text(client.get("/communes/90002?as_of=2025-06-01&lang=en"))
    flat = re.sub(r"\s+", " ", page.replace("\xa0", " "))
    assert re.search(r"State support planned</th><td class=\"n\">120,000,000 ₫", flat)
    assert re.search(r"State support recorded</th><td class=\"n\"><strong>120,000,000 ₫", flat)
    assert "Enterprises" in page and "5,000,000 ₫" in page.replace("\xa0", " ")
    assert "125,000,000 ₫" in page.replace("\xa0", " ")


def test_districts_drill_down_to_their_communes_with_breadcrumbs(client: FlaskClient, finished) -> None:
    sign_in(client)
    districts = text(client.get("/?as_of=2025-06-01&lang=en"))
    link = re.search(r'href="(/\?[^"]*district=([^&"]+)[^"]*)"', districts)
    assert link, "a district links to its own communes"
    listed = text(client.get(link.group(1).replace("&amp;", "&")))
    communes = set(re.findall(r'/communes/(\d+)\?', listed))
    assert communes and len(communes) < 4, communes
    assert 'class="crumbs"' in listed and "Huyện" in listed
    commune = text(client.get("/communes/90002?lang=en"))
    assert re.search(r'class="crumbs">.*district=', commune)


def test_an_officer_lands_on_their_own_commune(client: FlaskClient, finished) -> None:
    sign_in(client, "commune_officer", "90002")
    page = text(client.get("/?as_of=2025-06-01&lang=en"))
    assert re.search(r"<h1>[^<]*Xã Hai", page)
    mapped = text(client.get("/map?as_of=2025-06-01"))
    assert 'class="pts"' in mapped, "their households are drawn"
    assert mapped.count('data-code="') == 1, "the map is fitted to their commune"


@pytest.mark.parametrize("url, status, words", [
    ("/?as_of=16-04-2025", 400, "is not a date"),
    ("/?as_of=2025-02-30", 400, "is not a date"),
    ("/?as_of=2999-01-01", 400, "still to come"),
    ("/?set=nope", 404, "no map (boundary set) named"),
    ("/?level=village", 400, "not a valid level"),
    ("/?district=999", 404, "no district"),
    ("/?plan=nope", 404, "No plan named"),
    ("/map?commune=99999", 404, "no commune"),
    ("/map?as_of=yesterday", 400, "is not a date"),
    ("/communes/99999", 404, "no commune"),
    ("/communes/90001?as_of=2025-13-01", 400, "is not a date"),
    ("/export/progress.csv?level=village", 400, "not a valid level"),
    ("/export/households.csv?as_of=x", 400, "is not a date"),
])
def test_a_bad_query_gets_a_clear_message_and_no_figures(client: FlaskClient, finished, url, status, words) -> None:
    sign_in(client)
    answer = client.get(url + ("&" if "?" in url else "?") + "lang=en")
    assert answer.status_code == status
    page = text(answer)
    assert words in page and 'class="kpi"' not in page and 'id="progress"' not in page


def test_households_export_is_offered_and_masks_ids_for_viewers(client: FlaskClient, finished) -> None:
    sign_in(client, "viewer", "90002")
    page = text(client.get("/?as_of=2025-06-01"))
    assert "/export/households.xlsx" in page
    csv = client.get("/export/households.csv?as_of=2025-06-01&lang=vi")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    body = csv.get_data(as_text=True)
    assert "Sùng A Páo" in body and "014085001234" not in body and "********1234" in body
    assert "Hoàn thành" in body


def test_the_review_queue_states_each_problem_with_names_and_preselects_nothing(client: FlaskClient, finished) -> None:
    lat, lon = centre("90002")
    store([
        record("90001", head="Lường Văn Khai", lat=lat, lon=lon),  # declared 90001, lies in 90002
        record("90003", head="Quàng Thị Lan", accuracy=250.0),
        record("90001", head="Tòng Văn Pọm", lat=0.0, lon=0.0),
    ], received_at=at("2025-05-26 10:00"))
    sign_in(client)
    page = text(client.get("/review?lang=en"))
    cards = {name: next(c for c in page.split('<li class="card">') if name in c) for name in
             ("Lường Văn Khai", "Quàng Thị Lan", "Tòng Văn Pọm")}
    assert "The officer declared Xã Một (Huyện A), but the GPS point lies in Xã Hai" in cards["Lường Văn Khai"]
    assert "The GPS accuracy is 250 m: too coarse to tell the commune." in cards["Quàng Thị Lan"]
    assert "The GPS point is 0, 0: the phone had no position fix." in cards["Tòng Văn Pọm"]
    for card in cards.values():
        assert '<option value="" selected disabled>choose a commune</option>' in card
        assert not re.search(r'<option value="9\d+"[^>]*selected', card), "no commune is chosen for the manager"
        assert not re.search(r">\d{5}<", card), "communes by name, never a bare code"


def test_a_confirmed_coarse_fix_leaves_the_queue(client: FlaskClient, finished) -> None:
    store([record("90003", head="Quàng Thị Lan", accuracy=250.0)], received_at=at("2025-05-26 10:00"))
    sign_in(client)
    page = text(client.get("/review?lang=en"))
    action = re.search(r'action="(/review/assignments/\d+/\d+/confirm[^"]*)"', page).group(1).replace("&amp;", "&")
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert client.post(action, data={"csrf_token": token}).status_code == 302
    after = text(client.get("/review?lang=en"))
    assert "Flagged assignments <small>(0," in after and '<li class="card">' not in after


def test_the_officers_home_lists_what_needs_doing_first_and_searches(client: FlaskClient, finished) -> None:
    store([record("90002", head="Mùa A Dế", status="approved", dates={"approved": "2025-01-20"})],
          received_at=at("2025-05-26 10:00"))
    sign_in(client, "commune_officer", "90002")
    page = text(client.get("/?as_of=2025-06-01&lang=en"))
    todo = page.split('id="todo"')[1].split("</section>")[0]
    assert "late: 1" in todo and "photos missing: 2" in todo
    assert todo.index("Mùa A Dế") < todo.index("Sùng A Páo"), "late first"
    assert "not finished, 13 days after the deadline" in todo
    found = text(client.get("/?as_of=2025-06-01&lang=en&q=mua+a+de")).split('id="todo"')[1].split("</section>")[0]
    assert "Mùa A Dế" in found and "Sùng A Páo" not in found
    mapped = text(client.get("/map?as_of=2025-06-01&lang=en"))
    assert 'id="info"' in mapped and "<h2>Xã Hai</h2>" in mapped, "their commune's figures at once"


def test_the_printable_report_gives_the_figures_a_province_sends_up(client: FlaskClient, finished) -> None:
    sign_in(client)
    page = text(client.get("/?as_of=2025-06-01"))
    assert "/report?set=t&amp;as_of=2025-06-01" in page
    printed = text(client.get("/report?set=t&as_of=2025-06-01"))
    assert 'lang="vi"' in printed and "Báo cáo tiến độ xóa nhà tạm, nhà dột nát" in printed
    houses = printed.split('id="report-houses"')[1].split("</table>")[0]
    assert re.search(r"Tổng</th><td class=\"n\">7</td><td class=\"n\">5</td><td class=\"n\">4</td>", houses)
    assert "57,14\xa0%" in houses  # 4 of 7, truncated
    funding = printed.split('id="report-funding"')[1].split("</table>")[0].replace("\xa0", " ")
    assert "Doanh nghiệp</th><td class=\"n\">5.000.000 ₫" in funding
    assert "Ngân sách nhà nước theo kế hoạch</th><td class=\"n\">420.000.000 ₫" in funding
    late = printed.split('id="report-late"')[1].split("</table>")[0]
    assert "Xã Một" in late and "quá hạn 13 ngày, còn 3 nhà" in late and "Xã Ba" not in late
    assert client.get("/report?as_of=2025-99-01").status_code == 400

"""The provincial web pages through the Flask test client: content, access per role, CSRF, headers."""
from __future__ import annotations

import gzip
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.progress_builders import at, load_province, plan, record, store
from tracker.accounts.service import create_user
from tracker.audit.models import AuditEvent
from tracker.extensions import db
from tracker.households.models import Household, HouseholdRevision, RevisionAssignment

PASSWORD = "correct horse battery"
TOKEN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def token(client: FlaskClient, url: str = "/login") -> str:
    page = client.get(url).get_data(as_text=True)
    found = TOKEN.search(page)
    assert found, f"no CSRF token on {url}"
    return found.group(1)


def user(role: str, *areas: str) -> str:
    name = f"{role}-{uuid.uuid4().hex[:6]}"
    create_user(name, PASSWORD, role, list(areas))
    db.session.commit()
    return name


def sign_in(client: FlaskClient, role: str = "manager", *areas: str) -> str:
    name = user(role, *areas)
    answer = client.post("/login", data={"username": name, "password": PASSWORD, "csrf_token": token(client)})
    assert answer.status_code == 302, answer.get_data(as_text=True)
    return name


def text(answer: Any) -> str:
    return answer.get_data(as_text=True)


@pytest.fixture
def province(app: Flask, tmp_path: Path) -> dict[str, Any]:
    """Four communes in two districts, a plan and a handful of households."""
    load_province(tmp_path)
    plan({"90001": (4, 1), "90002": (2, 0), "90003": (3, 0)}, effective=at("2025-01-01 08:00").date())
    plan({"90001": (5, 1), "90002": (2, 0), "90003": (3, 0)}, effective=at("2025-04-01 08:00").date())
    viet = record("90001", head="Lò Văn Việt")
    others = [
        record("90001", head="Cầm Thị Hoa", status="started"),
        record("90001", head="Quàng Văn Đức", support_type="repair",
               funding=[("central_budget", 30_000_000), ("social_fund", 1_234_567)]),
        record("90002", head="Sùng A Páo", status="approved"),
        record("90003", head="Đinh Văn Mường"),
    ]
    outside = record("90003", head="Vì Văn Xa", lat=0.0, lon=0.0)
    store([viet, *others, outside], received_at=at("2025-04-12 09:00"))
    return {"viet": viet["id"], "outside": outside["id"], "pao": others[2]["id"], "duc": others[1]["id"]}


# --- sign-in, sessions, CSRF ---------------------------------------------------------------


def test_pages_send_anonymous_visitors_to_sign_in(client: FlaskClient, province: dict[str, Any]) -> None:
    assert "Đăng nhập" in text(client.get("/")) and "Hoàn thành" not in text(client.get("/"))
    for url in ("/map", "/communes/90001", f"/households/{province['viet']}", "/search?q=lo", "/review"):
        answer = client.get(url)
        assert answer.status_code == 302, url
        assert answer.headers["Location"].startswith("/login?next=")


def test_sign_in_page_is_vietnamese_by_default_and_english_on_request(client: FlaskClient) -> None:
    page = client.get("/login")
    assert page.status_code == 200
    assert 'lang="vi"' in text(page) and "Đăng nhập" in text(page) and "Mật khẩu" in text(page)
    english = client.get("/login?lang=en")
    assert 'lang="en"' in text(english) and "Password" in text(english)
    assert "Password" in text(client.get("/login")), "the choice is kept for the session"


def test_the_language_chosen_before_sign_in_is_kept_after_it(client: FlaskClient, province: dict[str, Any]) -> None:
    client.get("/login?lang=en")
    name = user("manager")
    signed_in = client.post("/login", data={"username": name, "password": PASSWORD, "csrf_token": token(client)})
    assert signed_in.status_code == 302
    page = text(client.get("/?as_of=2025-04-16"))
    assert 'lang="en"' in page and "Sign out" in page


def test_sign_in_checks_password_and_follows_only_local_next(client: FlaskClient, app: Flask) -> None:
    name = user("manager")
    wrong = client.post("/login", data={"username": name, "password": "nope", "csrf_token": token(client)})
    assert wrong.status_code == 401 and "Sai tên đăng nhập hoặc mật khẩu" in text(wrong)
    right = client.post("/login", data={"username": name, "password": PASSWORD, "csrf_token": token(client),
                                        "next": "//evil.example/x"})
    assert right.status_code == 302 and right.headers["Location"] == "/"
    cookie = right.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    client.post("/logout", data={"csrf_token": token(client, "/search")})
    back = client.post("/login", data={"username": name, "password": PASSWORD, "csrf_token": token(client),
                                       "next": "/map?set=t"})
    assert back.headers["Location"] == "/map?set=t"


def test_sign_in_without_csrf_token_is_refused(client: FlaskClient) -> None:
    name = user("manager")
    answer = client.post("/login", data={"username": name, "password": PASSWORD})
    assert answer.status_code == 400
    assert client.get("/map").status_code == 302, "not signed in"


def test_repeated_failures_lock_the_account_for_a_while(client: FlaskClient, app: Flask) -> None:
    app.config["LOGIN_RATE_LIMIT"] = 3
    name = user("viewer", "90001")
    for _ in range(3):
        client.post("/login", data={"username": name, "password": "bad", "csrf_token": token(client)})
    locked = client.post("/login", data={"username": name, "password": PASSWORD, "csrf_token": token(client)})
    assert locked.status_code == 429


def test_sign_out_needs_a_post_with_csrf(client: FlaskClient, province: dict[str, Any]) -> None:
    sign_in(client)
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    assert client.get("/map").status_code == 200, "still signed in"
    assert client.post("/logout", data={"csrf_token": token(client, "/")}).status_code == 302
    assert client.get("/map").status_code == 302


def test_disabled_account_loses_its_session(client: FlaskClient, province: dict[str, Any]) -> None:
    from tracker.accounts.models import User

    name = sign_in(client)
    db.session.scalar(select(User).where(User.username == name)).active = False
    db.session.commit()
    assert client.get("/map").status_code == 302


def test_pages_carry_security_headers_and_no_script(client: FlaskClient, province: dict[str, Any]) -> None:
    sign_in(client)
    for url in ("/login", "/", "/map"):
        answer = client.get(url)
        csp = answer.headers["Content-Security-Policy"]
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp and "script-src" not in csp
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        assert answer.headers["X-Frame-Options"] == "DENY"
        assert "<script" not in text(answer) and " style=" not in text(answer)
    assert "no-store" in client.get("/").headers["Cache-Control"]


def test_pages_are_gzipped_for_browsers_that_accept_it(client: FlaskClient, province: dict[str, Any]) -> None:
    sign_in(client)
    answer = client.get("/map", headers={"Accept-Encoding": "gzip, deflate"})
    assert answer.headers["Content-Encoding"] == "gzip"
    assert b"<svg" in gzip.decompress(answer.get_data())
    css = client.get("/static/web/app.css", headers={"Accept-Encoding": "gzip"})
    assert css.status_code == 200 and css.headers["Content-Encoding"] == "gzip"
    css.close()


def test_api_errors_stay_json(client: FlaskClient, province: dict[str, Any]) -> None:
    answer = client.get("/api/v1/progress")
    assert answer.status_code == 401 and answer.is_json


# --- dashboard -----------------------------------------------------------------------------


def test_dashboard_shows_province_figures_as_of_a_date(client: FlaskClient, province: dict[str, Any]) -> None:
    sign_in(client)
    page = text(client.get("/?as_of=2025-04-16&level=commune"))
    # plan in force on 16/04: revision 2 (5+1 + 2 + 3 = 11); completed: Việt, Đức, Mường and Xa (outside)
    assert "tính đến 16/04/2025" in page
    assert "4 / 11" in page and "36,36" in page
    assert "19/05/2025" in page
    assert 'class="chart"' in page and 'class="plan"' in page and 'class="done"' in page
    assert "Xã Một" in page and "Xã Hai" in page
    # sortable table with at-risk communes first
    names = re.findall(r"<a href=\"/communes/(\d+)\?set=t[&\"]", page)
    assert names[0] in {"90001", "90002"} and "nguy cơ chậm" in page


def test_dashboard_table_sorts_and_switches_level(client: FlaskClient, province: dict[str, Any]) -> None:
    sign_in(client)
    by_name = text(client.get("/?as_of=2025-04-16&level=commune&sort=name"))
    assert re.findall(r"/communes/(\d+)\?set=t[&\"]", by_name) == ["90003", "90002", "90001"]  # Ba, Hai, Một
    desc = text(client.get("/?as_of=2025-04-16&level=commune&sort=planned&dir=desc"))
    assert re.findall(r"/communes/(\d+)\?set=t[&\"]", desc)[0] == "90001"
    districts = text(client.get("/?as_of=2025-04-16&level=district"))
    assert "Huyện A" in districts and "Huyện B" in districts


def test_dashboard_table_pages_a_long_list_in_its_sort_order(client: FlaskClient, province: dict[str, Any],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """The country's 11,163 communes come a thousand to a page; here two to a page, sorted by name."""
    from tracker.web import dashboard

    monkeypatch.setattr(dashboard, "TABLE_ROWS", 2)
    sign_in(client)
    codes = re.compile(r"/communes/(\d+)\?set=t[&\"]")
    first = text(client.get("/?as_of=2025-04-16&level=commune&sort=name&lang=en"))
    assert codes.findall(first) == ["90003", "90002"] and "Page 1 of 2" in first  # Ba, Hai
    assert re.search(r'rel="next" href="/\?[^"]*page=2', first)
    second = text(client.get("/?as_of=2025-04-16&level=commune&sort=name&lang=en&page=2"))
    assert codes.findall(second) == ["90001"] and "Page 2 of 2" in second  # Một
    assert codes.findall(text(client.get("/?as_of=2025-04-16&level=commune&sort=name&page=9"))) == ["90001"]


def test_dashboard_explains_a_bad_date(client: FlaskClient, province: dict[str, Any]) -> None:
    sign_in(client)
    page = client.get("/?as_of=16-04-2025")
    assert page.status_code == 400 and "không phải là ngày" in text(page) and 'class="kpi"' not in text(page)


def test_dashboard_in_english_uses_english_words(client: FlaskClient, province: dict[str, Any]) -> None:
    sign_in(client)
    page = text(client.get("/?as_of=2025-04-16&lang=en"))
    assert "as of 16/04/2025" in page and "Completed" in page and "Percent of plan" in page


def test_commune_officer_sees_only_their_communes(client: FlaskClient, province: dict[str, Any]) -> None:
    sign_in(client, "commune_officer", "90002")
    page = text(client.get("/?as_of=2025-04-16&level=commune"))
    assert "Xã Hai" in page and "Xã Một" not in page
    assert client.get("/communes/90001").status_code == 404
    assert client.get(f"/households/{province['viet']}").status_code == 404
    assert client.get(f"/households/{province['pao']}").status_code == 200
    found = text(client.get("/search?q=lo+van+viet"))
    assert "Lò Văn Việt" not in found


# --- map -----------------------------------------------------------------------------------


def test_map_colours_communes_with_a_legend_and_links(client: FlaskClient, province: dict[str, Any]) -> None:
    sign_in(client)
    page = text(client.get("/map?as_of=2025-04-16&points=1"))
    assert page.count('data-code="') == 4
    assert re.search(r'<a href="/map\?commune=90001[^"]*#info"><path class="p\d"', page)
    assert 'class="legend"' in page and "Từ 75 % đến dưới 100 %" in page and "Không có kế hoạch" in page
    assert 'class="pts"' in page, "households as points"
    assert 'data-code="90004"' in page and re.search(r'class="pn" data-code="90004"', page), "no plan: grey"
    assert "Chạm vào một xã" in page


def test_map_shows_a_clicked_communes_figures(client: FlaskClient, province: dict[str, Any]) -> None:
    sign_in(client)
    page = text(client.get("/map?as_of=2025-04-16&commune=90001"))
    assert 'id="info"' in page and "<h2>Xã Một</h2>" in page
    assert 'href="/communes/90001?set=t&amp;as_of=2025-04-16"' in page and 'class="selo"' in page


def test_map_switches_between_boundary_sets(client: FlaskClient, province: dict[str, Any], tmp_path: Path) -> None:
    load_province(tmp_path, "t2")
    sign_in(client)
    page = text(client.get("/map?set=t2"))
    assert '<option value="t2" selected>' in page and '<option value="t">' in page
    assert client.get("/map?set=nope").status_code == 404
    assert "nope" in text(client.get("/map?set=nope"))


def test_map_can_hide_households(client: FlaskClient, province: dict[str, Any]) -> None:
    sign_in(client)
    assert 'class="pts"' not in text(client.get("/map?points=0"))


# --- commune and household pages, search ---------------------------------------------------


def test_commune_page_lists_households_with_flags_and_figures(client: FlaskClient, province: dict[str, Any]) -> None:
    sign_in(client)
    page = text(client.get("/communes/90003"))
    assert "Xã Ba" in page and "Đinh Văn Mường" in page and "Vì Văn Xa" in page
    assert "Ngoài ranh giới" in page, "the outside flag"
    assert 'id="communemap"' in page


def test_commune_search_works_without_diacritics(client: FlaskClient, province: dict[str, Any]) -> None:
    sign_in(client)
    page = text(client.get("/communes/90001?q=Lo+Van+Viet"))
    assert "Lò Văn Việt" in page and "Cầm Thị Hoa" not in page
    assert "Quàng Văn Đức" in text(client.get("/communes/90001?q=duc"))
    started = text(client.get("/communes/90001?status=started"))
    assert "Cầm Thị Hoa" in started and "Lò Văn Việt" not in started


def test_search_finds_names_with_or_without_diacritics(client: FlaskClient, province: dict[str, Any]) -> None:
    sign_in(client)
    for query in ("Lo Van Viet", "lò văn việt", "viet lo", "LO VAN"):
        page = text(client.get("/search", query_string={"q": query}))
        assert "Lò Văn Việt" in page, query
    assert "Tìm thấy 0 hộ" in text(client.get("/search?q=zzz"))
    assert "Xã Một" in text(client.get("/search?q=xa+mot")), "communes by name too"


def test_search_counts_matches_up_to_a_limit_then_says_more(client: FlaskClient, province: dict[str, Any],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from tracker.web import queries

    sign_in(client)
    monkeypatch.setattr(queries, "PAGE_SIZE", 2)
    monkeypatch.setattr(queries, "SEARCH_COUNT", 4)  # "van": Đinh Văn Mường, Lò Văn Việt, Quàng Văn Đức, Vì Văn Xa
    exact = text(client.get("/search?q=van"))
    assert "Tìm thấy 4 hộ" in exact and "hơn" not in exact
    monkeypatch.setattr(queries, "SEARCH_COUNT", 3)
    first = text(client.get("/search?q=van"))
    assert "Tìm thấy hơn 3 hộ" in first and "Trang 1 / 2" in first
    assert "Đinh Văn Mường" in first and "Lò Văn Việt" in first and "Quàng Văn Đức" not in first, "by name"
    second = text(client.get("/search?q=van&page=2"))
    assert "Quàng Văn Đức" in second and "Đinh Văn Mường" not in second and 'rel="next"' not in second


def test_household_page_shows_record_history_and_money(client: FlaskClient, province: dict[str, Any]) -> None:
    sign_in(client)
    page = text(client.get(f"/households/{province['duc']}"))
    assert "Quàng Văn Đức" in page and "Sửa chữa" in page and "Bản Lan Quynh" in page
    assert "30.000.000\u00a0₫" in page and "1.234.567\u00a0₫" in page and "31.234.567\u00a0₫" in page
    assert "12/04/2025" in page, "received date in the history"
    assert "10/04/2025" in page, "completion date"
    assert 'id="hhmap"' in page and "Trước" in page and "Sau" in page
    assert "014085001234" in page, "managers see the national ID"
    assert client.get("/households/nope").status_code == 404


def test_viewers_see_a_masked_national_id(client: FlaskClient, province: dict[str, Any]) -> None:
    sign_in(client, "viewer", "90001")
    page = text(client.get(f"/households/{province['viet']}"))
    assert "014085001234" not in page and "1234" in page


# --- review queue --------------------------------------------------------------------------


def test_review_queue_is_for_managers(client: FlaskClient, province: dict[str, Any]) -> None:
    sign_in(client, "viewer", "90001")
    assert client.get("/review").status_code == 403
    assert "Kiểm tra" not in text(client.get("/")).split("<main>")[0]


def test_review_queue_lists_flagged_assignments(client: FlaskClient, province: dict[str, Any]) -> None:
    sign_in(client)
    page = text(client.get("/review"))
    assert "Vì Văn Xa" in page and "Ngoài ranh giới" in page and "Lò Văn Việt" not in page


def _flagged(household_id: str) -> RevisionAssignment:
    return db.session.scalar(
        select(RevisionAssignment).join(HouseholdRevision, HouseholdRevision.id == RevisionAssignment.revision_id)
        .where(HouseholdRevision.household_id == household_id, HouseholdRevision.superseded_at.is_(None))
    )


def test_confirming_an_assignment_clears_it_and_is_audited(client: FlaskClient, province: dict[str, Any]) -> None:
    name = sign_in(client)
    flagged = _flagged(province["outside"])
    url = f"/review/assignments/{flagged.revision_id}/{flagged.boundary_set_id}/confirm"
    assert client.post(url).status_code == 400, "no CSRF token"
    seq = db.session.get(Household, province["outside"]).change_seq
    answer = client.post(url, data={"csrf_token": token(client, "/review")})
    assert answer.status_code == 302
    db.session.expire_all()
    flagged = _flagged(province["outside"])
    assert flagged.needs_review is False and flagged.details["decision"]["action"] == "confirm"
    assert db.session.get(Household, province["outside"]).change_seq > seq, "phones pull the decision"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "assignment.confirm"))
    assert event.actor_name == name and event.object_id == province["outside"] and event.device_id == "web"
    follow = text(client.get("/review"))
    assert "Đã xác nhận xã của Vì Văn Xa" in follow and "(0, bộ ranh giới t)" in follow


def test_moving_an_assignment_changes_the_commune(client: FlaskClient, province: dict[str, Any]) -> None:
    name = sign_in(client)
    flagged = _flagged(province["outside"])
    url = f"/review/assignments/{flagged.revision_id}/{flagged.boundary_set_id}/move"
    answer = client.post(url, data={"csrf_token": token(client, "/review"), "commune": "90004"})
    assert answer.status_code == 302
    db.session.expire_all()
    moved = _flagged(province["outside"])
    assert (moved.commune_code, moved.needs_review, moved.details["method"]) == ("90004", False, "manual")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "assignment.move"))
    assert event.details["from"] == "90003" and event.details["to"] == "90004"
    page = text(client.get(f"/households/{province['outside']}"))
    assert f"{name} đã chuyển sang 90004" in page and "Theo điểm GPS: 90003" in page
    unknown = client.post(url, data={"csrf_token": token(client, "/review"), "commune": "99999"})
    assert unknown.status_code == 302 and "Không có xã 99999" in text(client.get("/review"))


def test_review_decisions_show_in_the_figures_at_once(client: FlaskClient, province: dict[str, Any]) -> None:
    """The remembered roll-up must not outlive a decision: it changes assignments, not revisions."""
    from tracker.dbtypes import utcnow
    from tracker.progress.service import progress_report, resolve

    def figures() -> dict[str, Any]:
        report = progress_report(resolve(at("2025-04-16 08:00").date(), utcnow()), "commune")
        return {row["code"]: row for row in report.rows}

    sign_in(client)
    dashboard = "/?as_of=2025-04-16&level=commune"
    assert "/communes/90004?" not in text(client.get(dashboard))
    assert figures()["90003"]["needs_review"] == 1
    flagged = _flagged(province["outside"])
    base = f"/review/assignments/{flagged.revision_id}/{flagged.boundary_set_id}"
    assert client.post(f"{base}/confirm", data={"csrf_token": token(client, "/review")}).status_code == 302
    assert figures()["90003"]["needs_review"] == 0
    confirmed = _flagged(province["outside"])
    base = f"/review/assignments/{confirmed.revision_id}/{confirmed.boundary_set_id}"
    answer = client.post(f"{base}/move", data={"csrf_token": token(client, "/review"), "commune": "90004"})
    assert answer.status_code == 302
    moved = figures()
    assert moved["90004"]["households"] == 1 and moved["90003"]["households"] == 1
    assert "/communes/90004?" in text(client.get(dashboard))


def test_a_decision_on_a_household_that_changed_meanwhile_is_refused(
    client: FlaskClient, province: dict[str, Any]
) -> None:
    """The form names the revision the manager saw; a newer one is not decided on blindly."""
    sign_in(client)
    seen = _flagged(province["outside"])
    base = f"/review/assignments/{seen.revision_id}/{seen.boundary_set_id}"
    assert client.post(f"{base}/confirm", data={"csrf_token": token(client, "/review")}).status_code == 302
    stale = client.post(f"{base}/move", data={"csrf_token": token(client, "/review"), "commune": "90004"})
    assert stale.status_code == 409
    assert "Hộ này đã thay đổi từ khi bạn xem" in text(stale)
    db.session.expire_all()
    current = _flagged(province["outside"])
    assert (current.commune_code, current.details["decision"]["action"]) == ("90003", "confirm")
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "assignment.move")) is None


def test_review_actions_are_for_managers_only(client: FlaskClient, province: dict[str, Any]) -> None:
    sign_in(client, "commune_officer", "90003")
    flagged = _flagged(province["outside"])
    url = f"/review/assignments/{flagged.revision_id}/{flagged.boundary_set_id}/confirm"
    assert client.post(url, data={"csrf_token": token(client, "/search")}).status_code == 403
    db.session.expire_all()
    assert _flagged(province["outside"]).needs_review is True


def test_resolving_a_conflict_goes_through_the_conflict_service(client: FlaskClient, province: dict[str, Any]) -> None:
    from tracker.households.models import Conflict

    conflict = Conflict(household_id=province["viet"], revision=1, field="members", base_value=5, server_value=5,
                        client_value=6, kept="server", device_id="phone-2")
    db.session.add(conflict)
    db.session.commit()
    sign_in(client)
    queue = text(client.get("/review"))
    assert "members" in queue and "Lấy giá trị từ điện thoại" in queue
    url = f"/review/conflicts/{conflict.id}"
    assert client.post(url, data={"choice": "client"}).status_code == 400, "no CSRF token"
    answer = client.post(url, data={"choice": "client", "csrf_token": token(client, "/review")})
    assert answer.status_code == 302
    db.session.expire_all()
    current = db.session.scalar(select(HouseholdRevision).where(
        HouseholdRevision.household_id == province["viet"], HouseholdRevision.superseded_at.is_(None)))
    assert current.revision == 2 and current.data["members"] == 6 and current.result == "resolved"
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "conflict.resolve")) is not None
    again = client.post(url, data={"choice": "server", "csrf_token": token(client, "/review")})
    assert again.status_code == 302 and "Không có xung đột nào" in text(client.get("/review"))
    history = text(client.get(f"/households/{province['viet']}"))
    assert "resolved" in history and "đã xử lý" in history


# --- exports and photos --------------------------------------------------------------------


def test_dashboard_offers_the_exports_to_a_signed_in_browser(client: FlaskClient, province: dict[str, Any]) -> None:
    sign_in(client, "commune_officer", "90001")
    page = text(client.get("/?as_of=2025-04-16"))
    assert "/export/progress.xlsx?" in page and "/export/progress.csv?" in page
    csv = client.get("/export/progress.csv?set=t&as_of=2025-04-16&level=commune&lang=vi")
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    body = csv.get_data().decode("utf-8-sig")
    assert "Xã Một" in body and "Xã Hai" not in body, "the officer's scope"
    xlsx = client.get("/export/progress.xlsx?set=t&as_of=2025-04-16")
    assert xlsx.status_code == 200 and xlsx.get_data()[:2] == b"PK"
    assert client.get("/export/progress.pdf").status_code == 404


def test_photo_thumbnails_are_served_to_those_who_may_see_the_household(
    client: FlaskClient, province: dict[str, Any], app: Flask
) -> None:
    import hashlib
    import io

    from PIL import Image

    from tracker.households.models import Photo
    from tracker.photos import service as photos

    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 120, 40)).save(buffer, "JPEG")
    data = buffer.getvalue()
    sha = hashlib.sha256(data).hexdigest()
    store_ = photos.storage()
    store_.put_photo(sha, io.BytesIO(data))
    store_.put_thumbnail(sha, data)
    db.session.add(Photo(sha256=sha, size_bytes=len(data), content_type="image/jpeg", width=40, height=30))
    with_photo = record("90002", head="Lầu A Dế",
                        photos=[{"sha256": sha, "stage": "before", "taken_at": "2025-01-05T08:00:00+07:00"}])
    store([with_photo], received_at=at("2025-04-12 10:00"))
    sign_in(client, "commune_officer", "90002")
    page = text(client.get(f"/households/{with_photo['id']}"))
    thumb = f"/photos/{sha}/thumbnail?h={with_photo['id']}"
    assert thumb in page and "05/01/2025" in page
    answer = client.get(thumb)
    assert answer.status_code == 200 and answer.mimetype == "image/jpeg"
    answer.close()
    assert client.get(f"/photos/{sha}/thumbnail?h={province['viet']}").status_code == 404, "not that household's"
    client.post("/logout", data={"csrf_token": token(client, "/search")})
    sign_in(client, "commune_officer", "90001")
    assert client.get(thumb).status_code == 404, "outside the officer's communes"


@pytest.mark.parametrize("set_name", ["Bản đồ 2025", "map 0CODE0"])  # the second holds links_to's own mark
@pytest.mark.parametrize("code", ["90001", "HN-01.a_b~c", "xã 1/2&x=y#z", "Ô?"])
def test_links_built_once_for_many_units_are_url_fors_own(app: Flask, code: str, set_name: str) -> None:
    """The pages' links to 11,163 communes are one URL with each code put in: the same as url_for's, any code."""
    from flask import url_for

    from tracker.web.blueprint import CODE, links_to

    with app.test_request_context():
        commune = links_to("web.commune", code=CODE, set=set_name, as_of="2025-04-16")
        district = links_to("web.index", set=set_name, as_of="2025-04-16", level="commune", district=CODE)
        assert commune(code) == url_for("web.commune", code=code, set=set_name, as_of="2025-04-16")
        assert district(code) == url_for("web.index", set=set_name, as_of="2025-04-16", level="commune", district=code)

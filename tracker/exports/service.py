"""What goes into the exported files: columns, header block, rows.

The progress export writes the rows of the progress report (see
:mod:`tracker.progress.service`) plus a total line. The households export
streams the household revisions known at ``known_at`` straight from the
database (``yield_per``, a server-side cursor on PostgreSQL) so that
hundreds of thousands of rows never sit in memory.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from tracker.boundaries.models import AdminUnit
from tracker.exports.writers import Column, csv_stream, file_chunks, xlsx_file
from tracker.extensions import db
from tracker.households.models import FUNDING_SOURCES, HouseholdRevision, RevisionAssignment
from tracker.progress.service import Report, ReportContext, context_from_args, known_filter, progress_report

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"
STAGES = ("surveyed", "approved", "started", "completed", "handed_over")

LABELS = {
    "level": {"vi": {"commune": "Xã", "district": "Huyện", "province": "Tỉnh"},
              "en": {"commune": "Commune", "district": "District", "province": "Province"}},
    "support_type": {"vi": {"new_build": "Xây mới", "repair": "Sửa chữa"},
                     "en": {"new_build": "New build", "repair": "Repair"}},
    "status": {"vi": {"surveyed": "Khảo sát", "approved": "Đã phê duyệt", "started": "Đã khởi công",
                      "completed": "Hoàn thành", "handed_over": "Đã bàn giao", "withdrawn": "Rút khỏi danh sách"},
               "en": {"surveyed": "Surveyed", "approved": "Approved", "started": "Started", "completed": "Completed",
                      "handed_over": "Handed over", "withdrawn": "Withdrawn"}},
    "category": {"vi": {"poor": "Hộ nghèo", "near_poor": "Hộ cận nghèo", "policy": "Gia đình chính sách",
                        "other": "Hoàn cảnh khó khăn khác"},
                 "en": {"poor": "Poor", "near_poor": "Near-poor", "policy": "Policy family",
                        "other": "Other hardship"}},
    "yes": {"vi": {True: "Có", False: ""}, "en": {True: "Yes", False: ""}},
    "total": {"vi": "Tổng cộng", "en": "Total"},
}
SOURCES = {
    "central_budget": ("Ngân sách trung ương", "Central budget"),
    "local_budget": ("Ngân sách địa phương", "Local budget"),
    "social_fund": ("Quỹ Vì người nghèo", "Fund for the Poor"),
    "enterprise": ("Doanh nghiệp", "Enterprises"),
    "household": ("Hộ gia đình", "Household"),
    "other": ("Nguồn khác", "Other"),
}

PROGRESS_COLUMNS = [
    Column("code", "Mã", "Code", "code"),
    Column("name", "Tên đơn vị", "Name"),
    Column("level", "Cấp", "Level"),
    Column("planned_new_build", "Kế hoạch xây mới", "Planned new builds", "int"),
    Column("planned_repair", "Kế hoạch sửa chữa", "Planned repairs", "int"),
    Column("planned_total", "Kế hoạch tổng", "Planned total", "int"),
    Column("started_total", "Đã khởi công", "Started", "int"),
    Column("completed_new_build", "Hoàn thành xây mới", "Completed new builds", "int"),
    Column("completed_repair", "Hoàn thành sửa chữa", "Completed repairs", "int"),
    Column("completed_total", "Hoàn thành tổng", "Completed total", "int"),
    Column("handed_over_total", "Đã bàn giao", "Handed over", "int"),
    Column("percent_complete", "Tỷ lệ hoàn thành", "Percent complete", "percent"),
    Column("remaining", "Còn lại", "Remaining", "int"),
    Column("withdrawn", "Rút khỏi danh sách", "Withdrawn", "int"),
    Column("needs_review", "Cần rà soát vị trí", "Location needs review", "int"),
    Column("budget", "Kinh phí kế hoạch (đồng)", "Planned budget (VND)", "vnd"),
    Column("recorded", "Kinh phí đã ghi nhận (đồng)", "Funding recorded (VND)", "vnd"),
    *(Column(f"fund_{s}", f"{vi} (đồng)", f"{en} (VND)", "vnd") for s, (vi, en) in SOURCES.items()),
    Column("deadline", "Hạn hoàn thành", "Deadline", "date"),
    Column("days_left", "Số ngày còn lại", "Days left", "int"),
    Column("required_per_day", "Cần đạt/ngày", "Required per day", "float"),
    Column("achieved_per_day", "Đạt được/ngày (14 ngày)", "Achieved per day (14 days)", "float"),
    Column("projected_finish", "Dự kiến hoàn thành", "Projected finish", "date"),
    Column("at_risk", "Nguy cơ chậm", "At risk", "text"),
]

HOUSEHOLD_COLUMNS = [
    Column("id", "Mã hồ sơ", "Record ID", "id"),
    Column("commune_code", "Mã xã", "Commune code", "code"),
    Column("commune", "Xã", "Commune"),
    Column("district", "Huyện", "District"),
    Column("village", "Thôn, bản", "Village"),
    Column("household_head", "Chủ hộ", "Head of household"),
    Column("ethnicity", "Dân tộc", "Ethnicity"),
    Column("category", "Diện hộ", "Category"),
    Column("members", "Số nhân khẩu", "Members", "int"),
    Column("national_id", "Số CCCD", "National ID", "code"),
    Column("support_type", "Loại hỗ trợ", "Support type"),
    Column("status", "Trạng thái", "Status"),
    *(Column(f"{s}_on", vi, en, "date") for s, vi, en in (
        ("surveyed", "Ngày khảo sát", "Surveyed on"), ("approved", "Ngày phê duyệt", "Approved on"),
        ("started", "Ngày khởi công", "Started on"), ("completed", "Ngày hoàn thành", "Completed on"),
        ("handed_over", "Ngày bàn giao", "Handed over on"), ("withdrawn", "Ngày rút", "Withdrawn on"))),
    *(Column(f"fund_{s}", f"{vi} (đồng)", f"{en} (VND)", "vnd") for s, (vi, en) in SOURCES.items()),
    Column("fund_total", "Tổng kinh phí (đồng)", "Total funding (VND)", "vnd"),
    Column("lat", "Vĩ độ", "Latitude", "coord"),
    Column("lon", "Kinh độ", "Longitude", "coord"),
    Column("accuracy_m", "Sai số GPS (m)", "GPS accuracy (m)", "float"),
    Column("flag", "Cảnh báo vị trí", "Location flag"),
    Column("needs_review", "Cần rà soát", "Needs review"),
    Column("revision", "Phiên bản", "Revision", "int"),
    Column("received_at", "Máy chủ nhận lúc", "Received at", "datetime"),
]


def _label(kind: str, value: Any, lang: str) -> Any:
    return LABELS[kind][lang].get(value, value)


def header_block(
    ctx: ReportContext, title: tuple[str, str], lang: str, extra: list[tuple[str, str, str]] | None = None
) -> list[tuple[str, str]]:
    """Title, plan, as-of date, known-at time, set and export time, in ``lang``."""
    i = 0 if lang == "vi" else 1
    plan = ctx.plan_ref()
    if plan is None:
        plan_text = "(không có kế hoạch)" if lang == "vi" else "(no plan)"
    elif plan["revision"] is None:
        plan_text = f"{plan['name']} — " + ("chưa có điều chỉnh nào có hiệu lực" if lang == "vi"
                                            else "no revision in force yet")
    elif lang == "vi":
        plan_text = (f"{plan['name']} — điều chỉnh lần {plan['revision']}, hiệu lực "
                     f"{plan['effective_date']:%d/%m/%Y}, hạn {plan['deadline']:%d/%m/%Y}")
    else:
        plan_text = (f"{plan['name']} — revision {plan['revision']}, effective {plan['effective_date']}, "
                     f"deadline {plan['deadline']}")
    known = ctx.known_at.astimezone(TZ)
    exported = datetime.now(TZ)
    rows = [
        (title[i], ""),
        (("Kế hoạch", "Plan")[i], plan_text),
        (("Số liệu đến ngày", "As of")[i], f"{ctx.as_of:%d/%m/%Y}" if lang == "vi" else ctx.as_of.isoformat()),
        (("Dữ liệu máy chủ nhận đến", "Known at")[i], known.isoformat(timespec="seconds")),
        (("Bộ ranh giới", "Boundary set")[i], ctx.boundary_set.name),
    ]
    rows += [((vi, en)[i], value) for vi, en, value in extra or []]
    rows.append((("Xuất lúc", "Exported at")[i], exported.isoformat(timespec="seconds")))
    return rows


def progress_rows(report: Report, lang: str) -> Iterator[tuple[Any, ...]]:
    rows = list(report.rows)
    if report.totals is not None and len(rows) > 1:
        rows.append({**report.totals, "name": LABELS["total"][lang], "code": ""})
    for row in rows:
        funds = row["funding"]["by_source"]
        percent = row["percent_complete"]
        yield (
            row["code"], row["name"], _label("level", row["level"], lang) if row["level"] != "total" else "",
            row["planned"]["new_build"], row["planned"]["repair"], row["planned"]["total"],
            row["started"]["total"],
            row["completed"]["new_build"], row["completed"]["repair"], row["completed"]["total"],
            row["handed_over"]["total"],
            percent / 100 if percent is not None else None,
            row["remaining"], row["withdrawn"], row["needs_review"],
            row["funding"]["planned"], row["funding"]["recorded"], *(funds[s] for s in FUNDING_SOURCES),
            row["deadline"], row["days_left"], row["required_per_day"], row["achieved_per_day"],
            row["projected_finish"], _label("yes", bool(row["at_risk"]), lang),
        )


def mask_national_id(value: str | None) -> str | None:
    """Viewers see only the last four digits."""
    if not value:
        return value
    return "*" * max(len(value) - 4, 0) + value[-4:]


def _status_on(dates: dict[str, date | None], as_of: date) -> str | None:
    """The household's status on ``as_of`` from its stage dates; None before it entered."""
    withdrawn = dates.get("withdrawn")
    if withdrawn is not None and withdrawn <= as_of:
        return "withdrawn"
    reached = [s for s in STAGES if dates.get(s) is not None and dates[s] <= as_of]  # type: ignore[operator]
    if reached:
        return reached[-1]
    return None if any(dates.get(s) for s in STAGES) else "surveyed"


def household_query(ctx: ReportContext, filters: dict[str, Any]) -> Any:
    hr, ra = HouseholdRevision, RevisionAssignment
    query = (
        select(hr.household_id, hr.revision, hr.received_at, hr.data, hr.household_head, hr.category,
               hr.support_type, hr.lat, hr.lon, hr.accuracy_m,
               *(getattr(hr, f"{s}_on") for s in STAGES + ("withdrawn",)),
               *(getattr(hr, f"fund_{s}") for s in FUNDING_SOURCES),
               ra.commune_code, ra.flag, ra.needs_review)
        .join(ra, (ra.revision_id == hr.id) & (ra.boundary_set_id == ctx.boundary_set.id))
        .where(known_filter(ctx.known_at))
        .order_by(ra.commune_code, hr.household_id)
    )
    if ctx.scope is not None:
        query = query.where(ra.commune_code.in_(sorted(ctx.scope)))
    if filters.get("commune"):
        query = query.where(ra.commune_code == filters["commune"])
    if filters.get("support_type"):
        query = query.where(hr.support_type == filters["support_type"])
    return query.execution_options(yield_per=2000)


def household_rows(ctx: ReportContext, filters: dict[str, Any], lang: str, mask_ids: bool) -> Iterator[tuple[Any, ...]]:
    """One tuple per household known at ``known_at``, its status and dates as of ``as_of``."""
    names = {}
    for code, name, level, parent in db.session.execute(
        select(AdminUnit.code, AdminUnit.name, AdminUnit.level, AdminUnit.parent_code)
        .where(AdminUnit.boundary_set_id == ctx.boundary_set.id)
    ):
        names[(level, code)] = (name, parent)
    wanted_status = filters.get("status")
    result = db.session.execute(household_query(ctx, filters))
    for row in result:
        dates = {s: getattr(row, f"{s}_on") for s in STAGES + ("withdrawn",)}
        status = _status_on(dates, ctx.as_of)
        if status is None or (wanted_status and status != wanted_status):
            continue
        shown = {s: d if d is not None and d <= ctx.as_of else None for s, d in dates.items()}
        data = row.data or {}
        commune_name, district_code = names.get(("commune", row.commune_code), (None, None))
        district_name = names.get(("district", district_code), (None, None))[0]
        funds = [getattr(row, f"fund_{s}") for s in FUNDING_SOURCES]
        national_id = data.get("national_id")
        yield (
            row.household_id, row.commune_code, commune_name, district_name, data.get("village"),
            row.household_head, data.get("ethnicity"), _label("category", row.category, lang), data.get("members"),
            mask_national_id(national_id) if mask_ids else national_id,
            _label("support_type", row.support_type, lang), _label("status", status, lang),
            *(shown[s] for s in STAGES + ("withdrawn",)),
            *funds, sum(funds),
            row.lat, row.lon, row.accuracy_m, row.flag, _label("yes", bool(row.needs_review), lang),
            row.revision, row.received_at.astimezone(TZ) if row.received_at else None,
        )


def progress_file(args: dict[str, Any], scope: frozenset[str] | None, fmt: str) -> tuple[Iterator[bytes], str, str]:
    """The progress report as a streamed file: ``(chunks, mimetype, file name)``.

    ``args`` are the parsed report arguments (as_of, known_at, set, plan,
    level, lang); the API and the pages both answer with this.
    """
    ctx = context_from_args(args, scope)
    lang = args["lang"]
    level = LABELS["level"][lang][args["level"]]
    header = header_block(ctx, ("Báo cáo tiến độ xóa nhà tạm, nhà dột nát",
                                "Progress report: eliminating temporary and dilapidated houses"),
                          lang, [("Cấp", "Level", level)])
    rows = progress_rows(progress_report(ctx, args["level"]), lang)
    name = f"progress-{args['level']}-{ctx.as_of.isoformat()}"
    if fmt == "xlsx":
        handle = xlsx_file("Tiến độ" if lang == "vi" else "Progress", header, PROGRESS_COLUMNS, rows, lang)
        return file_chunks(handle), XLSX, f"{name}.xlsx"
    return csv_stream(header, PROGRESS_COLUMNS, rows, lang), CSV, f"{name}.csv"

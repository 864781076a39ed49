"""What goes into the exported files: columns, header block, rows.

The progress export writes the rows of the progress report (see
:mod:`tracker.progress.service`) plus a total line. The households
export's rows come from :mod:`tracker.exports.households`, streamed from
the database so that hundreds of thousands of rows never sit in memory.
"""
from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sync.vocabulary import FUNDING_SOURCES, LANGUAGES, TZ, label, labels
from sync.vocabulary import LABELS as VOCABULARY
from tracker.exports.writers import Column, csv_stream, file_chunks, xlsx_file
from tracker.progress.finish import finished_report
from tracker.progress.service import Report, ReportContext, context_from_args, progress_report

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv; charset=utf-8"

# The vocabulary's labels, as the writers read them: kind -> language -> code -> label.
LABELS: dict[str, dict[str, Any]] = {
    kind: {lang: labels(kind, lang) for lang in LANGUAGES} for kind in ("level", "support_type", "status", "category",
                                                                          "flag")
}
LABELS["yes"] = {lang: {True: label("yes", "yes", lang), False: ""} for lang in LANGUAGES}
LABELS["total"] = {lang: label("total", "total", lang) for lang in LANGUAGES}
SOURCES = {source: VOCABULARY["funding"][source] for source in FUNDING_SOURCES}

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
    Column("finished_on", "Ngày hoàn thành kế hoạch", "Plan finished on", "date"),
    Column("days_late", "Số ngày chậm so với hạn", "Days late", "int"),
    Column("days_overdue", "Số ngày quá hạn", "Days overdue", "int"),
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


def _plan_text(ctx: ReportContext, lang: str) -> str:
    plan = ctx.plan_ref()
    if plan is None:
        return "(không có kế hoạch)" if lang == "vi" else "(no plan)"
    if plan["revision"] is None:
        return f"{plan['name']} — " + ("chưa có điều chỉnh nào có hiệu lực" if lang == "vi"
                                       else "no revision in force yet")
    if lang == "vi":
        return (f"{plan['name']} — điều chỉnh lần {plan['revision']}, hiệu lực "
                f"{plan['effective_date']:%d/%m/%Y}, hạn {plan['deadline']:%d/%m/%Y}")
    return (f"{plan['name']} — revision {plan['revision']}, effective {plan['effective_date']}, "
            f"deadline {plan['deadline']}")


def header_block(
    ctx: ReportContext, title: tuple[str, str], lang: str, extra: list[tuple[str, str, str]] | None = None
) -> list[tuple[str, Any]]:
    """Title, plan, as-of date, known-at time, set and export time, in ``lang``.

    Dates and times stay dates and times (Vietnam time): real dates in a
    workbook, text in CSV.
    """
    i = 0 if lang == "vi" else 1
    rows: list[tuple[str, Any]] = [
        (title[i], ""),
        (("Kế hoạch", "Plan")[i], _plan_text(ctx, lang)),
        (("Số liệu đến ngày", "As of")[i], ctx.as_of),
        (("Dữ liệu máy chủ nhận đến", "Known at")[i], ctx.known_at.astimezone(TZ).replace(microsecond=0)),
        (("Bộ ranh giới", "Boundary set")[i], ctx.boundary_set.name),
    ]
    rows += [((vi, en)[i], value) for vi, en, value in extra or []]
    rows.append((("Xuất lúc", "Exported at")[i], datetime.now(TZ).replace(microsecond=0)))
    return rows


def page_header(ctx: ReportContext, title: tuple[str, str], lang: str) -> tuple[str, str, str]:
    """What a printed page shows on top: the title, the plan, the as-of date."""
    as_of = f"Số liệu đến ngày {ctx.as_of:%d/%m/%Y}" if lang == "vi" else f"As of {ctx.as_of.isoformat()}"
    return title[0 if lang == "vi" else 1], _plan_text(ctx, lang), as_of


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
            row["finished_on"], row["days_late"], row["days_overdue"],
        )


def mask_national_id(value: str | None) -> str | None:
    """Viewers see only the last four digits."""
    if not value:
        return value
    return "*" * max(len(value) - 4, 0) + value[-4:]


def progress_file(args: dict[str, Any], scope: frozenset[str] | None, fmt: str) -> tuple[Iterator[bytes], str, str]:
    """The progress report as a streamed file: ``(chunks, mimetype, file name)``.

    ``args`` are the parsed report arguments (as_of, known_at, set, plan,
    level, lang); the API and the pages both answer with this.
    """
    ctx = context_from_args(args, scope)
    lang = args["lang"]
    level = LABELS["level"][lang][args["level"]]
    title = ("Báo cáo tiến độ xóa nhà tạm, nhà dột nát",
             "Progress report: eliminating temporary and dilapidated houses")
    header = header_block(ctx, title, lang, [("Cấp", "Level", level)])
    rows = progress_rows(finished_report(progress_report(ctx, args["level"])), lang)
    sheet = "Tiến độ" if lang == "vi" else "Progress"
    return report_file(fmt, f"progress-{args['level']}-{ctx.as_of.isoformat()}", sheet, header, PROGRESS_COLUMNS,
                       rows, lang, page_header(ctx, title, lang))


def report_file(
    fmt: str, name: str, sheet: str, header: list[tuple[str, Any]], columns: list[Column],
    rows: Iterator[tuple[Any, ...]], lang: str, page: tuple[str, str, str],
) -> tuple[Iterator[bytes], str, str]:
    """A titled table as a streamed file, ``(chunks, mimetype, file name)``: a workbook or CSV."""
    if fmt == "xlsx":
        return file_chunks(xlsx_file(sheet, header, columns, rows, lang, page)), XLSX, f"{name}.xlsx"
    return csv_stream(header, columns, rows, lang), CSV, f"{name}.csv"

"""A streaming XLSX (SpreadsheetML) writer for big tables.

Pure file work (no Flask, no database). One sheet: a header block (label,
value), a blank row, a row of column titles, then the data rows. The sheet
XML is written straight into a deflated zip member row batch by row batch,
so memory stays flat whatever the number of rows. A cell whose value its
column has already written costs no Python code at all (see ``_Column``):
a writer that builds a cell object per value (openpyxl, XlsxWriter) spends
ten times longer per row than this one (see bench/progress.py).

What the sheet carries for people who print and forward it: dates and times
as real Excel dates, numbers with their formats, the title row frozen and
filterable, print set-up (landscape A4, fit to one page wide, the title row
repeated on every page) and a page header with the report's title, plan
and as-of date. Strings are inline strings: never formulas.
"""
from __future__ import annotations

import math
import re
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import IO, Any
from xml.sax.saxutils import escape, quoteattr

from zlib_ng import zlib_ng

EXCEL_EPOCH = date(1899, 12, 30).toordinal()
MAX_TEXT = 32_767
BATCH_ROWS = 500
# zlib-ng's level 2 deflates the sheet in about 60% of zlib's level-1 time, into a slightly smaller file.
DEFLATE_LEVEL = 2
MEMO_CELLS = 4096
MEMO_TYPES = frozenset((str, int, float, date, datetime))
# Stands for the row number in a remembered cell: XML never carries it (ILLEGAL strips it from text).
ROW_MARK = "\x00"
# Characters XML 1.0 cannot carry at all (Excel would refuse the file).
ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")

# Fixed cell formats (cellXfs): 0 plain, 1 bold label, 2 title, 3 column title.
PLAIN, BOLD, TITLE, COLUMN_TITLE = 0, 1, 2, 3
FIRST_FORMAT_STYLE = 4
FIRST_CUSTOM_FORMAT = 164


@dataclass(frozen=True)
class SheetLayout:
    """How the sheet is shown and printed.

    ``number_formats`` maps each column to an Excel number format (or
    None); ``date_format`` and ``datetime_format`` are used for dates in the
    header block and in columns without a format of their own.
    """

    title: str
    column_titles: Sequence[str]
    widths: Sequence[float]
    number_formats: Sequence[str | None]
    date_format: str
    datetime_format: str
    page_header: tuple[str, str, str] = ("", "", "")
    page_footer: str = "&P / &N"


def column_letter(index: int) -> str:
    """``0`` → ``A``, ``26`` → ``AA``."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def excel_serial(value: date) -> float | int:
    """Days since Excel's 1900 epoch; a datetime keeps its wall-clock time (its zone is dropped)."""
    days = value.toordinal() - EXCEL_EPOCH
    if isinstance(value, datetime):
        seconds = value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6
        return days + seconds / 86400
    return days


def _text(value: str) -> str:
    if len(value) > MAX_TEXT:
        value = value[:MAX_TEXT]
    if ILLEGAL.search(value):
        value = ILLEGAL.sub("", value)
    space = ' xml:space="preserve"' if value[:1].isspace() or value[-1:].isspace() else ""
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")  # saxutils.escape, inline
    return f' t="inlineStr"><is><t{space}>{value}</t></is></c>'


class _Styles:
    """The number formats in use and the cell-format index of each."""

    def __init__(self, layout: SheetLayout) -> None:
        self.codes: list[str] = []
        for code in (*layout.number_formats, layout.date_format, layout.datetime_format):
            if code is not None and code not in self.codes:
                self.codes.append(code)

    def index(self, code: str | None) -> int:
        return PLAIN if code is None else FIRST_FORMAT_STYLE + self.codes.index(code)

    def xml(self) -> str:
        formats = "".join(f'<numFmt numFmtId="{FIRST_CUSTOM_FORMAT + i}" formatCode={quoteattr(code)}/>'
                          for i, code in enumerate(self.codes))
        numbered = "".join(f'<xf numFmtId="{FIRST_CUSTOM_FORMAT + i}" fontId="0" fillId="0" borderId="0" '
                           'xfId="0" applyNumberFormat="1"/>' for i in range(len(self.codes)))
        return (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<styleSheet xmlns="{MAIN_NS}"><numFmts count="{len(self.codes)}">{formats}</numFmts>'
            '<fonts count="3"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
            '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
            '<font><b/><sz val="14"/><name val="Calibri"/><family val="2"/></font></fonts>'
            '<fills count="2"><fill><patternFill patternType="none"/></fill>'
            '<fill><patternFill patternType="gray125"/></fill></fills>'
            '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
            '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
            f'<cellXfs count="{FIRST_FORMAT_STYLE + len(self.codes)}">'
            '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
            '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
            '<xf numFmtId="0" fontId="2" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
            '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1" applyAlignment="1">'
            '<alignment vertical="top" wrapText="1"/></xf>'
            f'{numbered}</cellXfs>'
            '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
            '</styleSheet>'
        )


class _Cells:
    """Cell XML (everything after ``<c r="A1"``) for any value, and fast paths per column."""

    def __init__(self, styles: _Styles, layout: SheetLayout) -> None:
        self.date_style = styles.index(layout.date_format)
        self.datetime_style = styles.index(layout.datetime_format)
        self.styles = styles

    def any(self, value: Any, style: int = PLAIN) -> str:
        """The cell of a value of any type (an empty cell for None, NaN and infinities)."""
        kind = value.__class__
        if value is None:
            return "/>"
        if kind is str:
            return _text(value)
        if kind is bool:
            return f' t="b"><v>{int(value)}</v></c>'
        if isinstance(value, (int, float)):
            if not math.isfinite(value):
                return "/>"
            return f' s="{style}"><v>{value!r}</v></c>' if style else f"><v>{value!r}</v></c>"
        if isinstance(value, datetime):
            return f' s="{style or self.datetime_style}"><v>{excel_serial(value)!r}</v></c>'
        if isinstance(value, date):
            return f' s="{style or self.date_style}"><v>{excel_serial(value)}</v></c>'
        return _text(str(value))

    def for_column(self, code: str | None) -> Callable[[Any], str]:
        """A cell function for one column: a fast path for its usual type, ``any`` for the rest."""
        style = self.styles.index(code)
        if code is None:
            return lambda v: _text(v) if v.__class__ is str else self.any(v)
        if style in (self.date_style, self.datetime_style):
            return lambda v: self.any(v, style)
        head = f' s="{style}"><v>'

        def number(value: Any) -> str:
            kind = value.__class__
            if kind is int:
                return f"{head}{value}</v></c>"
            if kind is float and math.isfinite(value):
                return f"{head}{value!r}</v></c>"
            return self.any(value, style)

        return number


class _Column(dict):  # type: ignore[type-arg]
    """One column's cells by value: ``column[value]`` is ``<c r="B\x00"…`` (ROW_MARK for the row number).

    Most cells repeat a value already written in their column (a commune's
    name, a status, an amount, a date): the last MEMO_CELLS or fewer values of
    the types in MEMO_TYPES are remembered. A boolean is never looked up here (as a
    key True is 1): see ``cell``. A float equal to a remembered int (or the
    reverse) is written as the remembered one: the same number.
    """

    def __init__(self, letter: str, make: Callable[[Any], str]) -> None:
        super().__init__()
        self.opener = f'<c r="{letter}{ROW_MARK}"'
        self.make = make
        self[None] = ""

    def __missing__(self, value: Any) -> str:
        cell = self.opener + self.make(value)
        if value.__class__ in MEMO_TYPES:
            if len(self) >= MEMO_CELLS:  # rows come sorted (by commune, say): the recent values are the ones to keep
                self.clear()
                self[None] = ""
            self[value] = cell
        return cell

    def cell(self, value: Any) -> str:
        """The cell of any value, a boolean or one that cannot be a key included."""
        if value.__class__ is bool or value.__hash__ is None:
            return self.opener + self.make(value)
        return self[value]


def _defined_names(sheet: str, titles_row: int, last_row: int, columns: int) -> str:
    quoted = "'" + sheet.replace("'", "''") + "'"
    last = column_letter(columns - 1)
    return (
        f'<definedNames><definedName name="_xlnm._FilterDatabase" localSheetId="0" hidden="1">'
        f"{escape(quoted)}!$A${titles_row}:${last}${last_row}</definedName>"
        f'<definedName name="_xlnm.Print_Titles" localSheetId="0">{escape(quoted)}!${titles_row}:${titles_row}'
        "</definedName></definedNames>"
    )


def _page_header(parts: tuple[str, str, str]) -> str:
    """``&L…&C…&R…`` with ``&`` doubled in the texts, within Excel's 255 characters."""
    left, centre, right = (p.replace("&", "&&")[:80] for p in parts)
    return f'&L&"-,Bold"{left}&C{centre}&R{right}'


MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'


def _sheet_head(layout: SheetLayout, frozen_rows: int) -> str:
    cols = "".join(f'<col min="{i}" max="{i}" width="{w}" customWidth="1"/>'
                   for i, w in enumerate(layout.widths, start=1))
    return (
        f'{XML_HEAD}<worksheet xmlns="{MAIN_NS}" xmlns:r="{REL_NS}">'
        '<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>'
        '<sheetViews><sheetView tabSelected="1" workbookViewId="0">'
        f'<pane ySplit="{frozen_rows}" topLeftCell="A{frozen_rows + 1}" activePane="bottomLeft" state="frozen"/>'
        f'<selection pane="bottomLeft" activeCell="A{frozen_rows + 1}" sqref="A{frozen_rows + 1}"/>'
        '</sheetView></sheetViews><sheetFormatPr defaultRowHeight="15"/>'
        f"<cols>{cols}</cols><sheetData>"
    )


def _sheet_tail(layout: SheetLayout, titles_row: int, last_row: int) -> str:
    last = column_letter(len(layout.column_titles) - 1)
    footer = escape(layout.page_footer)
    return (
        f'</sheetData><autoFilter ref="A{titles_row}:{last}{last_row}"/>'
        '<pageMargins left="0.4" right="0.4" top="0.6" bottom="0.6" header="0.3" footer="0.3"/>'
        '<pageSetup paperSize="9" orientation="landscape" fitToWidth="1" fitToHeight="0"/>'
        f"<headerFooter><oddHeader>{escape(_page_header(layout.page_header))}</oddHeader>"
        f"<oddFooter>&amp;C{footer}</oddFooter></headerFooter></worksheet>"
    )


def _package_parts(layout: SheetLayout, styles: _Styles, titles_row: int, last_row: int) -> dict[str, str]:
    sheet_name = escape(layout.title, {'"': "&quot;"})
    ct = "application/vnd.openxmlformats-officedocument"
    return {
        "[Content_Types].xml": (
            f'{XML_HEAD}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{ct}.spreadsheetml.sheet.main+xml"/>'
            f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{ct}.spreadsheetml.worksheet+xml"/>'
            f'<Override PartName="/xl/styles.xml" ContentType="{ct}.spreadsheetml.styles+xml"/>'
            "</Types>"
        ),
        "_rels/.rels": (
            f'{XML_HEAD}<Relationships xmlns="{PKG_REL_NS}"><Relationship Id="rId1" '
            f'Type="{REL_NS}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/_rels/workbook.xml.rels": (
            f'{XML_HEAD}<Relationships xmlns="{PKG_REL_NS}">'
            f'<Relationship Id="rId1" Type="{REL_NS}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{REL_NS}/styles" Target="styles.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'{XML_HEAD}<workbook xmlns="{MAIN_NS}" xmlns:r="{REL_NS}"><bookViews><workbookView/></bookViews>'
            f'<sheets><sheet name="{sheet_name}" sheetId="1" r:id="rId1"/></sheets>'
            f"{_defined_names(layout.title, titles_row, last_row, len(layout.column_titles))}</workbook>"
        ),
        "xl/styles.xml": styles.xml(),
    }


def write_xlsx(handle: IO[bytes], layout: SheetLayout, header: Iterable[tuple[str, Any]],
               rows: Iterable[Sequence[Any]]) -> int:
    """Write the workbook into ``handle`` (a binary file); returns the number of data rows."""
    styles = _Styles(layout)
    cells = _Cells(styles, layout)
    letters = [column_letter(i) for i in range(len(layout.column_titles))]
    with zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as package:
        with package.open("xl/worksheets/sheet1.xml", "w") as sheet:
            _deflate_with_zlib_ng(sheet)
            lines: list[str] = []
            for number, (label, value) in enumerate(header, start=1):
                label_cell = f'<c r="A{number}" s="{TITLE if number == 1 else BOLD}"{_text(label)}'
                lines.append(f'<row r="{number}">{label_cell}<c r="B{number}"{cells.any(value)}</row>')
            titles_row = len(lines) + 2
            lines.append(f'<row r="{titles_row}">' + "".join(
                f'<c r="{letter}{titles_row}" s="{COLUMN_TITLE}"{_text(title)}'
                for letter, title in zip(letters, layout.column_titles)) + "</row>")
            sheet.write((_sheet_head(layout, titles_row) + "".join(lines)).encode("utf-8"))
            columns = [_Column(letter, cells.for_column(code)) for letter, code in zip(letters, layout.number_formats)]
            number = _write_rows(sheet, rows, columns, titles_row)
            sheet.write(_sheet_tail(layout, titles_row, number).encode("utf-8"))
        for name, text in _package_parts(layout, styles, titles_row, number).items():
            package.writestr(name, text)
    return number - titles_row


def _deflate_with_zlib_ng(member: IO[bytes]) -> None:
    """Give a zip member just opened zlib-ng's compressor (the same raw deflate format).

    zipfile offers no choice of compressor: the member's own is replaced
    before its first byte. Were the attribute ever renamed, this would only
    add an unused one and zipfile's zlib would deflate, as before.
    """
    member._compressor = zlib_ng.compressobj(DEFLATE_LEVEL, zlib_ng.DEFLATED, -15)  # type: ignore[attr-defined]


def _write_rows(sheet: IO[bytes], rows: Iterable[Sequence[Any]], columns: list[_Column], titles_row: int) -> int:
    """Data rows in batches; returns the sheet row number of the last one.

    A row is one join of its columns' cells, looked up by value in C
    (``map`` over ``dict.__getitem__``), and one replacement of ROW_MARK by
    its number: no Python code runs for a cell already written in its column.
    A row holding a boolean takes the slower ``_Column.cell`` path.
    """
    number = titles_row
    batch: list[str] = []
    cell = dict.__getitem__
    for row in rows:
        number += 1
        if bool in map(type, row):
            cells = "".join(map(_Column.cell, columns, row))
        else:
            try:
                cells = "".join(map(cell, columns, row))
            except TypeError:  # a value that cannot be a key (a list, say)
                cells = "".join(map(_Column.cell, columns, row))
        batch.append(f'<row r="{number}">{cells.replace(ROW_MARK, str(number))}</row>')
        if len(batch) >= BATCH_ROWS:
            sheet.write("".join(batch).encode("utf-8"))
            batch = []
    if batch:
        sheet.write("".join(batch).encode("utf-8"))
    return number

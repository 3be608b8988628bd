"""A public list as CSV and as an Excel workbook, for officials. No nameko, no HTTP.

Both are made from the list document the JSON route serves (public fields only),
so no format can show more than another. The CSV is one header row and one row per
entry (UTF-8 with a BOM, so Excel reads the Chinese as such); the workbook adds the
list's title, its notice period and its publication time above the table.
"""

from __future__ import annotations

import csv
import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from shared.domain.publication_list import ListKind

STATUS_NAMES = {"notice_open": "公示中", "notice_closed": "公示期满，待正式发布", "published": "已正式发布"}

PRODUCT_COLUMNS = (("序号", "position"), ("产品名称", "product"), ("申请单位", "unit"),
                   ("所属征集领域", "domain"), ("所属征集类型", "type"), ("推荐地区", "province_name"))
UNIT_COLUMNS = (("序号", "position"), ("揭榜方向", "direction_name"), ("任务名称", "task"),
                ("牵头单位", "lead_unit"), ("联合申请单位", "members"), ("推荐地区", "province_name"))


def columns(document: dict) -> tuple[tuple[str, str], ...]:
    return PRODUCT_COLUMNS if document["kind"] == ListKind.SIGNATURE_PRODUCTS else UNIT_COLUMNS


def _cell(value) -> object:
    return "、".join(value) if isinstance(value, list) else value


def rows(document: dict) -> list[list]:
    keys = [key for _, key in columns(document)]
    return [[_cell(entry.get(key, "")) for key in keys] for entry in document["entries"]]


def heading(document: dict) -> list[str]:
    status = STATUS_NAMES.get(document["status"], document["status"])
    lines = [document["title"], f"名单编号：{document['list_id']}　状态：{status}"]
    notice = document.get("notice")
    if notice:
        line = f"公示期：{notice['starts_on']} 至 {notice['ends_on']}（{notice['working_days']}个工作日）"
        if notice.get("closed_on"):
            line += f"，{notice['closed_on']} 公示结束"
        lines.append(line)
    if document.get("published_at"):
        lines.append(f"正式发布时间：{document['published_at']}")
    return lines


def filename(document: dict) -> str:
    return f"list-{document['list_id'].replace(':', '-')}"


def to_csv(document: dict) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([name for name, _ in columns(document)])
    writer.writerows(rows(document))
    return "\ufeff" + buffer.getvalue()


def to_xlsx(document: dict) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "名单"
    top = heading(document)
    for line in top:
        sheet.append([line])
    sheet.append([name for name, _ in columns(document)])
    for row in rows(document):
        sheet.append(row)
    sheet["A1"].font = Font(bold=True, size=14)
    for cell in sheet[len(top) + 1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    for letter, width in zip("ABCDEF", (6, 36, 36, 24, 24, 14), strict=True):
        sheet.column_dimensions[letter].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()

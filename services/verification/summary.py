"""The recommendation summary table (推荐汇总表) an authority sends up, as Excel and CSV. No nameko, no HTTP.

标志性产品征集 (382号): the columns of Attachment 2, word for word as the notice's
text gives them, one row per recommended product in the authority's rank order.

揭榜挂帅 (220号): the notice asks for 《…揭榜挂帅推荐表》(附件3), which this project
does not have; the equivalent list here (one sheet per direction: lead unit,
members, task, 推荐理由, contact) is our own layout and says so in its heading.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from shared.domain.case import Program
from shared.domain.errors import ValidationFailed
from shared.domain.regions import name_of

#: Attachment 2 of 工信厅消费函〔2024〕382号, verbatim.
SIGNATURE_PRODUCT_COLUMNS = (
    "序号", "报送单位名称", "报送产品名称", "所属征集类型", "所属征集领域", "推荐理由",
    "工业和信息化主管部门联系人 (姓名、职务、职称)", "联系方式 (手机号码)",
)
OPEN_COMPETITION_COLUMNS = (
    "序号", "揭榜方向", "牵头单位", "联合申请单位", "任务名称", "推荐理由",
    "工业和信息化主管部门联系人 (姓名、职务、职称)", "联系方式 (手机号码)",
)
OPEN_COMPETITION_NOTE = "（附件3《推荐表》原件未收录，本表为等效推荐名单，栏目非通知原文）"


@dataclass
class Table:
    call: dict
    authority: str
    level: str
    contact: dict | None
    rows: list[dict]

    @property
    def program(self) -> str:
        return self.call["program"]

    @property
    def columns(self) -> tuple[str, ...]:
        return SIGNATURE_PRODUCT_COLUMNS if self.program == Program.SIGNATURE_PRODUCT else OPEN_COMPETITION_COLUMNS

    @property
    def title(self) -> str:
        if self.program == Program.SIGNATURE_PRODUCT:
            return f"{self.call['year']} 年生物制造标志性产品推荐汇总表"
        return f"{self.call['title']} 推荐名单{OPEN_COMPETITION_NOTE}"

    @property
    def filename(self) -> str:
        return f"recommendations-{self.call['call_id']}-{self.authority}"

    def _contact_cells(self) -> tuple[str, str]:
        if not self.contact:
            raise ValidationFailed(
                {"contact": ["汇总表须填写主管部门联系人，请先设置（PUT /verification/contact） / "
                             "the table names the authority's contact: set it first (PUT /verification/contact)"]},
                "the recommendation table cannot be produced yet",
            )
        c = self.contact
        return "、".join(v for v in (c["name"], c["post"], c["title"]) if v), c["phone"]

    def _direction_names(self) -> dict[str, str]:
        section = self.call.get("open_competition") or {}
        return {d["code"]: d["name"] for d in section.get("directions", [])}

    def records(self) -> list[tuple]:
        """The data rows, numbered 1.. in order (rank; for 揭榜挂帅 by direction, then rank)."""
        who, phone = self._contact_cells()
        directions = self._direction_names()
        out = []
        for n, row in enumerate(self.rows, start=1):
            item = row["listing"]
            if self.program == Program.SIGNATURE_PRODUCT:
                out.append((n, item["unit"], item["product"], item["type"], item["domain"], row["reason"], who, phone))
            else:
                direction = directions.get(row["direction"], row["direction"])
                out.append((n, direction, item["unit"], "、".join(item.get("members", [])), item.get("title", ""),
                            row["reason"], who, phone))
        return out

    def to_csv(self) -> str:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(self.columns)
        writer.writerows(self.records())
        return "\ufeff" + buffer.getvalue()  # the BOM lets Excel open UTF-8 Chinese text as such

    def to_xlsx(self) -> bytes:
        records = self.records()
        book = Workbook()
        sheet = book.active
        if self.program == Program.SIGNATURE_PRODUCT:
            self._fill(sheet, "推荐汇总表", records)
        else:
            # One sheet per direction, as the ministry ranks within a direction.
            by_direction: dict[str, list[tuple]] = {}
            for record in records:
                by_direction.setdefault(record[1], []).append(record)
            if not by_direction:
                self._fill(sheet, "推荐名单", [])
            for i, (direction, group) in enumerate(by_direction.items()):
                target = sheet if i == 0 else book.create_sheet()
                self._fill(target, direction[:31], [(n, *rest) for n, (_, *rest) in enumerate(group, start=1)])
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()

    def _fill(self, sheet, name: str, records: list[tuple]) -> None:
        # Sheet names may not contain []:*?/\ in Excel.
        sheet.title = "".join(ch for ch in name if ch not in "[]:*?/\\") or "推荐名单"
        sheet.append([self.title])
        sheet.append([f"工业和信息化主管部门（盖章）：{name_of(self.authority)}"])
        sheet.append(list(self.columns))
        for record in records:
            sheet.append(list(record))
        sheet["A1"].font = Font(bold=True, size=14)
        for cell in sheet[3]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="center")
        for letter, width in zip("ABCDEFGH", (6, 28, 28, 14, 18, 40, 30, 16), strict=True):
            sheet.column_dimensions[letter].width = width

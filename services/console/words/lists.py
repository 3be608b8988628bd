"""Words of the lists (filters, sorting, exports) and of batch actions."""

WORDS: dict[str, dict[str, str]] = {
    "list.filters": {"zh": "筛选", "en": "Filters"},
    "list.any": {"zh": "全部", "en": "Any"},
    "list.on_or_before": {"zh": "不晚于", "en": "On or before"},
    "list.apply": {"zh": "筛选", "en": "Apply"},
    "list.clear": {"zh": "清除", "en": "Clear"},
    "list.export": {"zh": "导出", "en": "Export"},
    "list.showing": {"zh": "显示", "en": "Showing"},
    "list.choose": {"zh": "选择", "en": "Choose"},
    "batch.results": {"zh": "批量操作结果", "en": "Batch results"},
    "batch.done": {"zh": "已完成", "en": "done"},
    "batch.none": {"zh": "请至少选择一项。", "en": "Choose at least one case."},
}

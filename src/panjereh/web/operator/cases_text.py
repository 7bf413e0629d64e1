"""Interface text of the operator area's cases and withholdings pages (merged into
`panjereh.web.operator.i18n`)."""

from __future__ import annotations

CASES_FA = {
    "nav_cases": "پرونده‌ها",
    "nav_withholdings": "پنهان‌سازی‌ها",
    "cases": "پرونده‌های گزارش شهروندان",
    "cases_intro": (
        "استعلام‌هایی که شهروندان مشکوک گزارش کرده‌اند؛ پرونده‌های باز اول می‌آیند (قدیمی‌ترین "
        "نخست). نشانی شهروند فقط درهم‌ساز کلیددار کد ملی اوست."
    ),
    "open_cases": "باز",
    "case": "پرونده",
    "opened": "گشایش",
    "record": "استعلام",
    "case_reason": "دلیل گزارش",
    "closed": "بسته شدن",
    "no_cases": "پرونده‌ای نیست.",
    "subject_hash": "درهم‌ساز شهروند",
    "resolution": "یادداشت بستن",
    "exchange_id": "شناسه تبادل",
    "time": "زمان",
    "declared_purpose": "هدف اعلام‌شده",
    "outcome": "نتیجه",
    "chain_place": "زنجیره و شماره",
    "record_hash": "درهم‌ساز رکورد",
    "record_missing": "رکورد این استعلام در گزارش ممیزی یافت نشد.",
    "close_case": "بستن پرونده",
    "back_to_cases": "بازگشت به پرونده‌ها",
    "done.case.close": "پرونده بسته شد.",
    "withholdings": "استعلام‌های پنهان از شهروندان",
    "withholdings_intro": (
        "هر استعلامی که به سبب مجوز محرمانه از دید شهروند پنهان ماند، یک ردیف، با شمار "
        "دفعاتی که صفحهٔ شهروند آن را پنهان کرد؛ تا تاریخ افشای مجوز (بدون تاریخ: تا تعیین آن)."
    ),
    "withheld_last": "آخرین پنهان‌سازی",
    "withheld_first": "نخستین",
    "withheld_times": "دفعات",
    "grant_id": "شماره مجوز",
    "disclosure_date": "تاریخ افشا",
    "no_withholdings": "پنهان‌سازی‌ای ثبت نشده است.",
    "first_page": "صفحه نخست",
}

CASES_EN = {
    "nav_cases": "Cases",
    "nav_withholdings": "Withholdings",
    "cases": "Citizens' reports",
    "cases_intro": (
        "Inquiries citizens reported as suspicious; open cases first (oldest first). A citizen "
        "is named only by the keyed hash of their national code."
    ),
    "open_cases": "Open",
    "case": "Case",
    "opened": "Opened",
    "record": "Inquiry",
    "case_reason": "Reason given",
    "closed": "Closed",
    "no_cases": "No case.",
    "subject_hash": "Citizen's hash",
    "resolution": "Closing note",
    "exchange_id": "Exchange id",
    "time": "Time",
    "declared_purpose": "Declared purpose",
    "outcome": "Outcome",
    "chain_place": "Shard and number",
    "record_hash": "Record hash",
    "record_missing": "This inquiry's record was not found in the audit log.",
    "close_case": "Close the case",
    "back_to_cases": "Back to the cases",
    "done.case.close": "The case is closed.",
    "withholdings": "Inquiries withheld from citizens",
    "withholdings_intro": (
        "One row per inquiry held back from a citizen's view under a confidential grant, with "
        "how many times the citizen's page withheld it, until the grant's disclosure date "
        "(none: until one is set)."
    ),
    "withheld_last": "Last withheld",
    "withheld_first": "first",
    "withheld_times": "Times withheld",
    "grant_id": "Grant",
    "disclosure_date": "Disclosure date",
    "no_withholdings": "No withholding recorded.",
    "first_page": "First page",
}

CASE_LABELS_FA = {"case.open": "باز", "case.closed": "بسته"}
CASE_LABELS_EN = {"case.open": "Open", "case.closed": "Closed"}

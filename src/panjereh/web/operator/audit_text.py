"""Interface text of the audit pages of the operator area (Persian first), kept apart from
`i18n` so that the area's other pages and these grow without touching each other."""

from __future__ import annotations

from collections.abc import Mapping

FA: Mapping[str, str] = {
    "title": "گزارش ممیزی",
    "intro": (
        "هر استعلام مرکز تبادل یک رکورد زنجیره‌شده دارد. کد ملی هیچ‌جا نمایش داده "
        "نمی‌شود؛ از شناسهٔ درهم‌سازی‌شدهٔ موضوع فقط ۱۲ نویسهٔ نخست دیده می‌شود."
    ),
    "intro_agency": "فقط استعلام‌هایی که دستگاه شما مصرف‌کننده یا ارائه‌دهندهٔ آن‌هاست.",
    "tab_records": "رکوردهای استعلام",
    "tab_events": "رویدادهای راهبری",
    "filters": "پالایش",
    "service": "خدمت",
    "all_services": "همه خدمات",
    "system": "سامانه مصرف‌کننده",
    "all_systems": "همه سامانه‌ها",
    "agency": "دستگاه",
    "all_agencies": "همه دستگاه‌ها",
    "side": "نقش دستگاه",
    "side_any": "مصرف‌کننده یا ارائه‌دهنده",
    "side_consumer": "مصرف‌کننده",
    "side_provider": "ارائه‌دهنده",
    "outcome": "نتیجه",
    "all_outcomes": "همه نتیجه‌ها",
    "since": "از روز",
    "until": "تا روز (با خود آن روز)",
    "day_hint": "۱۴۰۵/۰۹/۱۱",
    "show": "نمایش",
    "clear_filters": "پاک کردن پالایه‌ها",
    "national_code": "جست‌وجو با کد ملی",
    "national_code_hint": "کد ملی ده‌رقمی",
    "national_code_note": (
        "کد ملی با فرم امن فرستاده می‌شود، در نشانی صفحه و گزارش‌ها نمی‌ماند و دوباره "
        "نمایش داده نمی‌شود."
    ),
    "search": "جست‌وجو",
    "searching_subject": "رکوردهای مربوط به کد ملی واردشده (کد نمایش داده نمی‌شود).",
    "when": "زمان",
    "consumer": "مصرف‌کننده",
    "provider": "ارائه‌دهنده",
    "purpose": "هدف",
    "purpose_unregistered": "ثبت‌نشده",
    "subject": "موضوع (درهم‌سازی)",
    "no_records": "رکوردی با این پالایه‌ها نیست.",
    "next_page": "صفحهٔ بعد (قدیمی‌ترها)",
    "first_page": "صفحهٔ نخست",
    "record": "رکورد استعلام",
    "exchange_id": "شناسهٔ تبادل",
    "created_at": "زمان ثبت",
    "created_utc": "زمان به UTC",
    "status_code": "کد وضعیت HTTP",
    "error_type": "نوع خطا",
    "duration": "مدت کل (میلی‌ثانیه)",
    "provider_time": "زمان پاسخ ارائه‌دهنده (میلی‌ثانیه)",
    "request_id": "شناسهٔ درخواست (X-Request-Id)",
    "auth_method": "روش احراز هویت",
    "replay_of": "پاسخ تکراری برای",
    "cached": "از حافظهٔ نهان",
    "yes": "بله",
    "no": "خیر",
    "request_hash": "درهم‌سازی درخواست",
    "response_hash": "درهم‌سازی پاسخ",
    "chain": "جایگاه در زنجیره",
    "shard": "شارد",
    "seq": "شمارهٔ رکورد در شارد",
    "record_hash": "درهم‌سازی رکورد",
    "not_chained": "این رکورد هنوز در زنجیره‌ای جای نگرفته است.",
    "proof": "اثبات شمول و نقطهٔ بازبینی امضاشده",
    "proof_intro": (
        "این اثبات را هر کسی با کلید عمومی مرکز تبادل و بدون دسترسی به پایگاه داده "
        "بررسی می‌کند: panjereh audit check-proof"
    ),
    "not_checkpointed": (
        "هنوز نقطهٔ بازبینی‌ای این رکورد را پوشش نمی‌دهد؛ نقطه‌های بازبینی هر {seconds} "
        "ثانیه ساخته می‌شوند."
    ),
    "checkpoint": "نقطهٔ بازبینی",
    "checkpoint_time": "زمان نقطهٔ بازبینی",
    "key_id": "شناسهٔ کلید امضا",
    "signature": "امضای Ed25519",
    "merkle_root": "ریشهٔ مرکل",
    "tree_size": "اندازهٔ درخت",
    "leaf_index": "جایگاه برگ",
    "previous_hash": "درهم‌سازی رکورد پیشین",
    "path": "مسیر ممیزی",
    "download_proof": "دریافت فایل اثبات (JSON)",
    "checkpoint_json": "نقطهٔ بازبینی منتشرشده",
    "events": "رویدادهای راهبری",
    "events_intro": (
        "تغییرات ثبت (دستگاه‌ها، سامانه‌ها، کلیدها، خدمات، مجوزها)، ورودها و چرخش کلیدها؛ "
        "درهم‌سازی کلیدها و گذرواژه‌ها نمایش داده نمی‌شود."
    ),
    "actor": "انجام‌دهنده",
    "actor_hint": "user:operator",
    "action": "کنش",
    "action_hint": "grant.approve",
    "object_type": "نوع موضوع",
    "object_id": "شناسهٔ موضوع",
    "object": "موضوع",
    "reason": "دلیل",
    "details": "پیش و پس از تغییر",
    "before": "پیش",
    "after": "پس",
    "no_events": "رویدادی با این پالایه‌ها نیست.",
}

EN: Mapping[str, str] = {
    "title": "Audit log",
    "intro": (
        "Every inquiry through the exchange has one chained record. National codes are never "
        "shown; of a subject's keyed hash only the first 12 characters are."
    ),
    "intro_agency": "Only the inquiries your agency made or answered.",
    "tab_records": "Inquiry records",
    "tab_events": "Control-plane events",
    "filters": "Filters",
    "service": "Service",
    "all_services": "All services",
    "system": "Consumer system",
    "all_systems": "All systems",
    "agency": "Agency",
    "all_agencies": "All agencies",
    "side": "Agency as",
    "side_any": "Consumer or provider",
    "side_consumer": "Consumer",
    "side_provider": "Provider",
    "outcome": "Outcome",
    "all_outcomes": "All outcomes",
    "since": "From day",
    "until": "To day (inclusive)",
    "day_hint": "2026-12-02",
    "show": "Show",
    "clear_filters": "Clear the filters",
    "national_code": "Search by national code",
    "national_code_hint": "10-digit national code",
    "national_code_note": (
        "The national code is sent in a protected form; it stays out of the page's address "
        "and the logs, and is not shown again."
    ),
    "search": "Search",
    "searching_subject": "Records about the national code you entered (the code is not shown).",
    "when": "Time",
    "consumer": "Consumer",
    "provider": "Provider",
    "purpose": "Purpose",
    "purpose_unregistered": "not registered",
    "subject": "Subject (hash)",
    "no_records": "No record matches these filters.",
    "next_page": "Next page (older)",
    "first_page": "First page",
    "record": "Inquiry record",
    "exchange_id": "Exchange id",
    "created_at": "Recorded",
    "created_utc": "Time in UTC",
    "status_code": "HTTP status",
    "error_type": "Error type",
    "duration": "Total time (ms)",
    "provider_time": "Provider time (ms)",
    "request_id": "Request id (X-Request-Id)",
    "auth_method": "Authentication",
    "replay_of": "Replayed answer of",
    "cached": "From the cache",
    "yes": "Yes",
    "no": "No",
    "request_hash": "Request hash",
    "response_hash": "Response hash",
    "chain": "Place in the chain",
    "shard": "Shard",
    "seq": "Number in the shard",
    "record_hash": "Record hash",
    "not_chained": "This record is not in a chain yet.",
    "proof": "Inclusion proof and signed checkpoint",
    "proof_intro": (
        "Anyone can check this proof with the exchange's public key alone, without the "
        "database: panjereh audit check-proof"
    ),
    "not_checkpointed": (
        "No checkpoint covers this record yet; checkpoints are made every {seconds} s."
    ),
    "checkpoint": "Checkpoint",
    "checkpoint_time": "Checkpoint time",
    "key_id": "Signing key id",
    "signature": "Ed25519 signature",
    "merkle_root": "Merkle root",
    "tree_size": "Tree size",
    "leaf_index": "Leaf index",
    "previous_hash": "Previous record's hash",
    "path": "Audit path",
    "download_proof": "Download the proof (JSON)",
    "checkpoint_json": "The published checkpoint",
    "events": "Control-plane events",
    "events_intro": (
        "Registry changes (agencies, systems, keys, services, grants), sign-ins and key "
        "rotations; key and password hashes are not shown."
    ),
    "actor": "Actor",
    "actor_hint": "user:operator",
    "action": "Action",
    "action_hint": "grant.approve",
    "object_type": "Object type",
    "object_id": "Object id",
    "object": "Object",
    "reason": "Reason",
    "details": "Before and after",
    "before": "Before",
    "after": "After",
    "no_events": "No event matches these filters.",
}

LABELS: Mapping[str, Mapping[str, str]] = {
    "fa": {
        "ok": "پاسخ داده شد",
        "not_found": "یافت نشد",
        "denied": "رد دسترسی",
        "invalid": "درخواست نادرست",
        "failed": "خطای ارائه‌دهنده",
        "event.succeeded": "انجام شد",
        "event.refused": "رد شد",
        "event.failed": "ناموفق",
        "api-key": "کلید API",
        "signature": "امضای HTTP",
        "proxy": "پیشکار مورد اعتماد",
    },
    "en": {
        "ok": "Answered",
        "not_found": "Not found",
        "denied": "Denied",
        "invalid": "Invalid request",
        "failed": "Provider failed",
        "event.succeeded": "Succeeded",
        "event.refused": "Refused",
        "event.failed": "Failed",
        "api-key": "API key",
        "signature": "HTTP signature",
        "proxy": "Trusted proxy",
    },
}

TEXT: Mapping[str, Mapping[str, str]] = {"fa": FA, "en": EN}

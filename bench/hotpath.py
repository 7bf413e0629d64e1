"""Micro-benchmarks of the per-inquiry steps that exist today (µs per operation, one core).

The full exchange benchmark (wrk against the server, audit included) comes with the exchange
issue as bench/exchange.py.  Results: bench/results/hotpath.json.
"""

from __future__ import annotations

import json
import platform
import timeit
from collections.abc import Callable
from pathlib import Path

import orjson

from panjereh.domain.identifiers import MobileNumber, NationalCode
from panjereh.domain.text import normalize, search_key
from panjereh.exchange.json_body import parse_object
from panjereh.registry.credentials import hash_api_key, new_api_key

RESULTS = Path(__file__).parent / "results" / "hotpath.json"

ONE_KEY = b'{"national_code": "3066557359"}'  # the usual inquiry: one colon, no check
# A flat 300-byte inquiry (no nested object, no colon in a value): counted, not parsed again.
FLAT_300 = orjson.dumps(
    {
        "national_code": "3066557359",
        "birth_date": "1369/01/01",
        "first_name": "سارا",
        "last_name": "کریمی",
        "father_name": "علی",
        "include": "degrees,insurance,vehicles",
        "lang": "fa",
        "reference": "case-2026-" + "0" * 96,
    }
)
# A 300-byte inquiry of several fields (nested too): the repeated-key check runs on it.
INQUIRY_300 = orjson.dumps(
    {
        "national_code": "3066557359",
        "birth_date": "1369/01/01",
        "first_name": "سارا",
        "last_name": "کریمی",
        "father_name": "علی",
        "options": {"include": ["degrees", "insurance"], "lang": "fa"},
        "requested_at": "2026-11-28T14:39:00Z",
        "reference": "case-2026-000123-benefit-eligibility-review-0001-of-2026-xyzw",
    }
)


def measure(action: Callable[[], object], number: int = 50_000) -> float:
    """Median µs per call over three runs."""
    runs = sorted(timeit.repeat(action, number=number, repeat=3))
    return round(runs[1] / number * 1e6, 3)


def fastest(action: Callable[[], object], number: int = 1_000, repeat: int = 300) -> float:
    """µs per call in the fastest of many short runs: the cost when nothing else runs.  On a
    machine shared with test suites the median of three long runs moves 3-5x from run to run
    (other processes take the core mid-run); a 1 ms run often escapes them."""
    return round(min(timeit.repeat(action, number=number, repeat=repeat)) / number * 1e6, 3)


def main() -> dict[str, float]:
    pepper = b"a-benchmark-pepper-of-32-characters!"
    key = new_api_key()
    body = orjson.dumps({"national_code": "3066557359", "purpose": "benefit-eligibility"})
    assert len(INQUIRY_300) == len(FLAT_300) == 300, (len(INQUIRY_300), len(FLAT_300))
    results = {
        "national_code_parse_ascii": measure(lambda: NationalCode.parse("3066557359")),
        "national_code_parse_persian_digits": measure(lambda: NationalCode.parse("۳۰۶۶۵۵۷۳۵۹")),
        "mobile_parse": measure(lambda: MobileNumber.parse("+98 912 345 6789")),
        "normalize_40_chars": measure(lambda: normalize("سازمان ثبت احوال كشور - استعلام ٣")),
        "search_key_40_chars": measure(lambda: search_key("سازمان ثبت احوال كشور - استعلام ٣")),
        "api_key_hmac": measure(lambda: hash_api_key(pepper, key)),
        "orjson_parse_inquiry_body": measure(lambda: orjson.loads(body)),
        # exchange/json_body.py (fastest of 300 short runs): orjson alone, then the body as
        # the exchange parses it (orjson and the repeated-key check)
        "orjson_parse_300_bytes": fastest(lambda: orjson.loads(INQUIRY_300)),
        "parse_object_300_bytes": fastest(lambda: parse_object(INQUIRY_300)),
        "orjson_parse_flat_300_bytes": fastest(lambda: orjson.loads(FLAT_300)),
        "parse_object_flat_300_bytes": fastest(lambda: parse_object(FLAT_300)),
        "orjson_parse_one_key": fastest(lambda: orjson.loads(ONE_KEY)),
        "parse_object_one_key": fastest(lambda: parse_object(ONE_KEY)),
    }
    report = {
        "unit": "microseconds per operation (median of 3; the JSON body entries: fastest of 300)",
        "python": platform.python_version(),
        "machine": platform.machine(),
        "results": results,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    return results


if __name__ == "__main__":
    for name, value in main().items():
        print(f"{name:40} {value:8.3f} µs")

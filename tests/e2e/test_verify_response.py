"""A consumer keeps an answer as curl saved it and proves it later, offline, with the CLI."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from panjereh.simulator.population import Population
from tests.served import run_panjereh


@pytest.fixture
def saved(server: str, seeded: dict[str, list[dict[str, str]]], tmp_path: Path) -> dict[str, Path]:
    key = seeded["credentials"][0]["api_key"]
    request = tmp_path / "request.json"
    request.write_text(f'{{"national_code": "{Population(1405).sample(1)[0].national_code}"}}')
    answer, keys = tmp_path / "answer.http", tmp_path / "keys.json"
    subprocess.run(  # noqa: S603 - curl, with our own arguments
        [  # noqa: S607 - curl from the PATH, as a consumer would run it
            "curl",
            "-si",
            "-X",
            "POST",
            f"{server}/exchange/v1/services/civil-registry.person.v1",
            "-H",
            f"Authorization: ApiKey {key}",
            "-H",
            "X-Purpose: benefit-eligibility",
            "-H",
            "Content-Type: application/json",
            "--data-binary",
            f"@{request}",
            "-o",
            str(answer),
        ],
        check=True,
        timeout=20,
    )
    subprocess.run(  # noqa: S603
        ["curl", "-s", f"{server}/exchange/v1/keys", "-o", str(keys)],  # noqa: S607
        check=True,
        timeout=20,
    )
    return {"answer": answer, "request": request, "keys": keys}


def _verify(saved: dict[str, Path], env: dict[str, str], request: Path) -> tuple[int, str]:
    result = run_panjereh(
        [
            "exchange",
            "verify-response",
            str(saved["answer"]),
            "--request-body",
            str(request),
            "--keys",
            str(saved["keys"]),
        ],
        env,
    )
    return result.returncode, result.stdout + result.stderr


def test_a_saved_answer_verifies_offline_and_nothing_else_does(
    saved: dict[str, Path], env: dict[str, str], tmp_path: Path
) -> None:
    status, output = _verify(saved, env, saved["request"])
    assert status == 0, output
    assert output.startswith("verified: HTTP 200, exchange id ")

    other = tmp_path / "other.json"  # the same answer for another question
    other.write_text('{"national_code": "0000000000"}')
    status, output = _verify(saved, env, other)
    assert (status, "does NOT verify" in output) == (2, True)
    assert "the request body given is not the exact bytes that were sent" in output

    echoed = tmp_path / "echoed.json"  # what `echo '{...}' > request.json` saves
    echoed.write_bytes(saved["request"].read_bytes() + b"\n")
    status, output = _verify(saved, env, echoed)
    assert status == 2
    assert "does without its trailing newline" in output
    assert "response differs" not in output

    answer = saved["answer"].read_bytes()  # the answer altered after the fact
    assert b'"alive":true' in answer
    saved["answer"].write_bytes(answer.replace(b'"alive":true', b'"alive":false'))
    status, output = _verify(saved, env, saved["request"])
    assert (status, "does NOT verify" in output) == (2, True)

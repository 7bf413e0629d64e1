"""Settings: environment, *_FILE secrets, TOML, and bad values that name the setting."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from panjereh.config import ConfigError, Environment, Settings, load_settings, resolve_pepper


def test_the_default_environment_is_production() -> None:
    settings = load_settings()
    assert settings.env is Environment.PRODUCTION
    assert not settings.is_development


def test_it_reads_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PANJEREH_ENV", "development")
    monkeypatch.setenv("PANJEREH_PORT", "8123")
    settings = load_settings()
    assert settings.is_development
    assert settings.port == 8123
    assert settings.effective_public_url == "http://127.0.0.1:8123"


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("PANJEREH_PORT", "eighty", "PANJEREH_PORT"),
        ("PANJEREH_PORT", "70000", "PANJEREH_PORT"),
        ("PANJEREH_ENV", "staging", "PANJEREH_ENV"),
        ("PANJEREH_DATABASE_URL", "mysql://x", "PANJEREH_DATABASE_URL"),
        ("PANJEREH_PUBLIC_URL", "ftp://x", "PANJEREH_PUBLIC_URL"),
        ("PANJEREH_PROVIDER_TIMEOUT", "-1", "PANJEREH_PROVIDER_TIMEOUT"),
    ],
)
def test_a_bad_value_fails_with_a_message_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, named: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError, match=named):
        load_settings()


def test_a_secret_is_read_from_its_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    secret = tmp_path / "pepper"
    secret.write_text("a-pepper-from-a-file-0123456789\n")
    monkeypatch.setenv("PANJEREH_API_KEY_PEPPER_FILE", str(secret))
    settings = load_settings()
    assert settings.api_key_pepper is not None
    assert settings.api_key_pepper.get_secret_value() == "a-pepper-from-a-file-0123456789"
    assert "a-pepper" not in repr(settings)


def test_a_missing_secret_file_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PANJEREH_API_KEY_PEPPER_FILE", str(tmp_path / "nope"))
    with pytest.raises(ConfigError, match="PANJEREH_API_KEY_PEPPER_FILE"):
        load_settings()


def test_it_reads_a_toml_file_below_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = tmp_path / "panjereh.toml"
    config.write_text('port = 9001\nhost = "0.0.0.0"\nlog_level = "debug"\n')
    monkeypatch.setenv("PANJEREH_CONFIG", str(config))
    monkeypatch.setenv("PANJEREH_LOG_LEVEL", "warning")
    settings = load_settings()
    assert settings.port == 9001
    assert settings.log_level == "warning"
    assert settings.effective_public_url == "http://127.0.0.1:9001"


@pytest.mark.parametrize(
    ("content", "message"),
    [("port = [", "not valid TOML"), ("colour = 1", "PANJEREH_COLOUR: unknown setting")],
)
def test_a_bad_toml_file_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, content: str, message: str
) -> None:
    config = tmp_path / "panjereh.toml"
    config.write_text(content)
    monkeypatch.setenv("PANJEREH_CONFIG", str(config))
    with pytest.raises(ConfigError, match=message):
        load_settings()


def test_production_refuses_to_start_without_a_pepper(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    with pytest.raises(ConfigError, match="PANJEREH_API_KEY_PEPPER"):
        resolve_pepper(settings)
    assert not (tmp_path / "secrets").exists()


def test_a_short_pepper_is_refused() -> None:
    with pytest.raises(ConfigError, match="at least 16"):
        resolve_pepper(Settings(api_key_pepper="short"))


def test_development_generates_one_private_pepper_and_keeps_it(tmp_path: Path) -> None:
    settings = Settings(env=Environment.DEVELOPMENT, data_dir=tmp_path)
    first = resolve_pepper(settings)
    second = resolve_pepper(settings)
    assert first == second
    assert len(first) >= 32
    path = tmp_path / "secrets" / "api-key-pepper"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["api-key-pepper"]


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("PANJEREH_NATS_URL", "http://127.0.0.1:4222"),
        ("PANJEREH_NATS_URL", "nats://127.0.0.1:4222,redis://x"),
        ("PANJEREH_NATS_STREAM", "audit.records"),
        ("PANJEREH_NATS_SUBJECT_PREFIX", "panjereh.audit.>"),
        ("PANJEREH_NATS_BATCH_SIZE", "0"),
        ("PANJEREH_NATS_POLL_SECONDS", "0"),
    ],
)
def test_a_bad_stream_export_setting_is_named(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert str(caught.value).startswith(f"invalid settings: {variable}: ")


def test_the_stream_export_is_off_by_default_and_a_cluster_url_is_tidied() -> None:
    assert Settings().nats_url is None
    cluster = Settings(nats_url=" nats://a:4222, tls://b:4222 ")
    assert cluster.nats_url == "nats://a:4222,tls://b:4222"
    assert (cluster.nats_stream, cluster.nats_subject_prefix) == (
        "PANJEREH_AUDIT",
        "panjereh.audit.records",
    )

from datetime import time
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings

ROOT = Path(__file__).resolve().parents[1]


def test_example_config_loads_and_serves_thai_tan() -> None:
    settings = load_settings(ROOT / "config.example.toml")
    commune = settings.commune()
    assert commune.code == "10642"
    assert commune.name == "Xã Thái Tân"
    assert settings.deployment.province_code == "31"
    assert settings.database.url.startswith("sqlite+aiosqlite://")


def test_unknown_key_is_named(tmp_path: Path) -> None:
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace("[web]\n", "[web]\nprot = 8080\n"), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"unknown key 'web\.prot'"):
        load_settings(bad)


def test_bad_value_is_named(tmp_path: Path) -> None:
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace("port = 8080", "port = 99999"), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"web\.port"):
        load_settings(bad)


def test_secret_comes_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOTCUA_TELEGRAM__TOKEN", "42:TEST")
    settings = load_settings(ROOT / "config.example.toml")
    assert settings.telegram.token == "42:TEST"


def test_default_commune_must_be_served(tmp_path: Path) -> None:
    text = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    bad = tmp_path / "bad.toml"
    bad.write_text(
        text.replace('default_commune = "10642"', 'default_commune = "99999"'), encoding="utf-8"
    )
    with pytest.raises(ConfigError, match="default_commune"):
        load_settings(bad)


def test_telegram_webhook_mode_needs_a_secret_and_public_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MOTCUA_TELEGRAM__TOKEN", "42:TEST")
    monkeypatch.setenv("MOTCUA_TELEGRAM__MODE", "webhook")
    with pytest.raises(ConfigError, match="webhook_secret"):
        load_settings(ROOT / "config.example.toml")


def test_notification_settings_default_and_bad_values_name_the_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from datetime import time

    from bot.config import ConfigError, settings_from_dict

    monkeypatch.delenv("MOTCUA_NOTIFICATIONS__QUIET_START")  # the suite's (tests/conftest.py)
    monkeypatch.delenv("MOTCUA_NOTIFICATIONS__QUIET_END")

    base = {"communes": [{"code": "10642", "name": "Xã Thái Tân", "province": "Hải Phòng"}]}
    notifications = settings_from_dict(base).notifications
    assert (notifications.quiet_start, notifications.quiet_end) == (time(21, 0), time(7, 0))
    assert notifications.telegram_per_second == 30 and notifications.max_attempts == 12
    custom = settings_from_dict(base | {"notifications": {"quiet_start": "22:30"}})
    assert custom.notifications.quiet_start == time(22, 30)
    for key, value in [
        ("quiet_start", "25:00"),
        ("quiet_end", "7h"),
        ("telegram_per_second", 0),
        ("max_attempts", 0),
    ]:
        try:
            settings_from_dict(base | {"notifications": {key: value}})
        except ConfigError as exc:
            assert f"notifications.{key}" in str(exc)
        else:
            raise AssertionError(f"{key} = {value!r} was accepted")


def test_a_time_zone_that_does_not_exist_is_refused_when_loading(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Before, `migrate` passed and `run` died with a traceback on the first use of the zone."""
    monkeypatch.setenv("MOTCUA_DEPLOYMENT__TIMEZONE", "Asia/Hanoi_City")
    with pytest.raises(ConfigError, match="environment variable MOTCUA_DEPLOYMENT__TIMEZONE"):
        load_settings(ROOT / "config.example.toml")


def test_a_bad_value_from_the_environment_is_blamed_on_the_variable_not_the_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MOTCUA_WEB__PORT", "99999")
    with pytest.raises(ConfigError) as caught:
        load_settings(ROOT / "config.example.toml")
    assert "environment variable MOTCUA_WEB__PORT" in str(caught.value)
    assert "config.example.toml" not in str(caught.value)


@pytest.mark.parametrize("name", ["MOTCUA_FOO__BAR", "MOTCUA_DATABASE__URLL"])
def test_an_unknown_setting_in_the_environment_is_refused_like_one_in_the_file(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """MOTCUA_FOO__BAR was silently ignored while an unknown key in a known section was
    blamed on the file; both are now refused by the variable's name."""
    monkeypatch.setenv(name, "x")
    with pytest.raises(ConfigError, match=f"unknown setting in the environment: {name}"):
        load_settings(ROOT / "config.example.toml")


def test_variables_that_are_not_settings_are_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOTCUA_CONFIG", str(ROOT / "config.example.toml"))
    monkeypatch.setenv("MOTCUA_TEST_CHROMIUM", "/usr/bin/chromium")
    assert load_settings().deployment.timezone == "Asia/Ho_Chi_Minh"


def test_console_settings_default_and_refuse_unknown_keys() -> None:
    from bot.config import ConfigError, load_settings, settings_from_dict

    example = load_settings(Path(__file__).resolve().parents[1] / "config.example.toml").console
    assert (example.session_minutes, example.login_window_minutes) == (30, 15)
    assert (example.max_failures_per_account, example.max_failures_per_address) == (5, 20)
    base = {"communes": [{"code": "10642", "name": "Xã Thái Tân", "province": "Hải Phòng"}]}
    assert (
        settings_from_dict(base | {"console": {"session_minutes": 10}}).console.session_minutes
        == 10
    )
    for section in ({"session_minute": 10}, {"session_minutes": 0}):
        with pytest.raises(ConfigError, match=r"console\.session_minute"):
            settings_from_dict(base | {"console": section})


def test_handoff_idle_time_and_officer_hours_are_validated() -> None:
    from bot.config import ConfigError, load_settings, settings_from_dict

    example = load_settings(ROOT / "config.example.toml")
    assert example.console.handoff_idle_minutes == 30
    assert example.calendar.officer_spans() == (
        (time(7, 30), time(11, 30)),
        (time(13, 30), time(17, 0)),
    )
    base = {"communes": [{"code": "10642", "name": "Xã Thái Tân", "province": "Hải Phòng"}]}
    idle = settings_from_dict(base | {"console": {"handoff_idle_minutes": 5}})
    assert idle.console.handoff_idle_minutes == 5
    for minutes in (0, 1441, "soon"):
        with pytest.raises(ConfigError, match=r"console\.handoff_idle_minutes"):
            settings_from_dict(base | {"console": {"handoff_idle_minutes": minutes}})
    for spans, why in (
        ([], "at least one span"),
        (["7h30-11h30"], "HH:MM-HH:MM"),
        (["07:30-25:00"], "not a time of day"),
        (["11:30-07:30"], "end after it starts"),
        (["13:30-17:00", "07:30-11:30"], "in order"),
    ):
        with pytest.raises(ConfigError, match=rf"calendar\.officer_hours.*{why}"):
            settings_from_dict(base | {"calendar": {"officer_hours": spans}})


def test_trusted_proxies_are_addresses_or_networks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOTCUA_WEB__TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1, ::1")
    assert load_settings(ROOT / "config.example.toml").web.trusted_proxies.startswith("10.")
    for bad in ("127.0.0.1,proxy.local", "10.0.0.5/8", "*, 10.0.0.1"):
        monkeypatch.setenv("MOTCUA_WEB__TRUSTED_PROXIES", bad)
        with pytest.raises(ConfigError, match="TRUSTED_PROXIES"):
            load_settings(ROOT / "config.example.toml")

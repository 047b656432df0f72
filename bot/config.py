"""Configuration: one TOML file plus ``MOTCUA_...`` environment overrides for secrets.

Unknown keys and bad values are errors that name the key, so a typo never silently falls back
to a default.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from datetime import date, time
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

DEFAULT_CONFIG_FILES = ("motcua.toml", "config.example.toml")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


ENV_PREFIX = "MOTCUA_"
ENV_NESTING = "__"


class DeploymentSettings(_Section):
    province_code: str = Field(default="31", pattern=r"^\d{2}$")
    default_commune: str = Field(default="10642", pattern=r"^\d{5}$")
    timezone: str = "Asia/Ho_Chi_Minh"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        # Checked here, not when `run` first needs the zone: `migrate` must fail on it too.
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f'not a time zone name such as "Asia/Ho_Chi_Minh": {value!r}') from exc
        return value


class CommuneSettings(_Section):
    code: str = Field(pattern=r"^\d{5}$")
    name: str = Field(min_length=1)
    province: str = Field(min_length=1)
    address: str = ""
    office_hours: str = ""
    hotline: str = ""
    email: str = ""
    agency_code: str = ""


class DatabaseSettings(_Section):
    url: str = "sqlite+aiosqlite:///var/motcua.sqlite3"

    @field_validator("url")
    @classmethod
    def _known_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value


class FilesSettings(_Section):
    path: Path = Path("var/files")


class WebSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=1, le=65535)
    public_url: str = ""
    # Worker processes of `motcua run` on this port (`--workers` overrides it).
    workers: int = Field(default=1, ge=1, le=64)
    # Reverse proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (uvicorn's
    # forwarded_allow_ips): the per-address upload budget then counts the visitor, not the
    # proxy. Comma-separated addresses or networks; "*" trusts anyone (only when nothing but
    # the proxy can reach the port).
    trusted_proxies: str = "127.0.0.1"

    @field_validator("trusted_proxies")
    @classmethod
    def _addresses_or_networks(cls, value: str) -> str:
        # uvicorn takes what it cannot parse for a literal host name, which no TCP peer is: a
        # typo would quietly count every visitor as the proxy (and lock them out together).
        import ipaddress

        if value.strip() == "*":
            return value
        for item in (part.strip() for part in value.split(",")):
            try:
                if "/" in item:
                    ipaddress.ip_network(item)  # strict, as uvicorn reads it: 10.0.0.0/8
                else:
                    ipaddress.ip_address(item)
            except ValueError:
                raise ValueError(
                    f"{item!r} is not an address or a network (like 10.0.0.0/8); "
                    '"*" alone trusts any peer'
                ) from None
        return value


class TelegramSettings(_Section):
    token: str = ""
    mode: Literal["polling", "webhook"] = "polling"
    webhook_secret: str = Field(default="", pattern=r"^[A-Za-z0-9_-]{0,256}$")
    api_base: str = "https://api.telegram.org"


class ZaloSettings(_Section):
    app_id: str = ""
    oa_secret: str = ""
    app_secret: str = ""
    refresh_token: str = ""
    status_template_id: str = ""
    # An image Zalo shows on the "send your phone number" card; empty: the number is typed.
    contact_image_url: str = Field(default="", pattern=r"^(https://\S+)?$")
    # Zalo's hosts; changed only to test against a local fake or to go through a proxy.
    api_base: str = Field(default="https://openapi.zalo.me", pattern=r"^https?://\S+$")
    oauth_base: str = Field(default="https://oauth.zaloapp.com", pattern=r"^https?://\S+$")
    business_base: str = Field(
        default="https://business.openapi.zalo.me", pattern=r"^https?://\S+$"
    )


class PaymentSettings(_Section):
    bank_bin: str = Field(default="", pattern=r"^(\d{6})?$")
    account_number: str = Field(default="", pattern=r"^[0-9A-Za-z]{0,19}$")
    account_name: str = ""


def _span(value: str) -> tuple[time, time]:
    """ "07:30-11:30" -> (07:30, 11:30); ValueError naming the expected shape otherwise."""
    first, sep, last = value.replace("–", "-").partition("-")
    times = []
    for part in (first.strip(), last.strip()):
        hours, colon, minutes = part.partition(":")
        if not (sep and colon and hours.isdigit() and minutes.isdigit() and len(minutes) == 2):
            raise ValueError(f'each span is written "HH:MM-HH:MM", e.g. "07:30-11:30": {value!r}')
        if not (0 <= int(hours) <= 23 and 0 <= int(minutes) <= 59):
            raise ValueError(f"not a time of day: {part!r}")
        times.append(time(int(hours), int(minutes)))
    return times[0], times[1]


class CalendarSettings(_Section):
    extra_days_off: tuple[date, ...] = ()
    make_up_days: tuple[date, ...] = ()
    # When officers answer the console's live inbox ("Gặp cán bộ"), on working days, local
    # time; outside them a citizen is told when someone will answer and may leave a message.
    officer_hours: tuple[str, ...] = ("07:30-11:30", "13:30-17:00")

    @field_validator("officer_hours")
    @classmethod
    def _spans_in_order(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if not value:
            raise ValueError('at least one span, e.g. ["07:30-11:30", "13:30-17:00"]')
        previous_end: time | None = None
        for span in value:
            start, end = _span(span)
            if end <= start:
                raise ValueError(f"a span must end after it starts: {span!r}")
            if previous_end is not None and start < previous_end:
                raise ValueError(f"spans must be in order and not overlap: {span!r}")
            previous_end = end
        return value

    def officer_spans(self) -> tuple[tuple[time, time], ...]:
        return tuple(_span(span) for span in self.officer_hours)

    @model_validator(mode="after")
    def _disjoint(self) -> CalendarSettings:
        both = set(self.extra_days_off) & set(self.make_up_days)
        if both:
            days = ", ".join(sorted(d.isoformat() for d in both))
            raise ValueError(f"a day cannot be both a day off and a make-up day: {days}")
        return self


class BackOfficeSettings(_Section):
    url: str = ""  # empty: the embedded office in this process
    token: str = ""  # bearer token of the back office's REST API (secret: environment only)
    # Tokens that reach one commune each, by 5-digit unit code (secrets: environment only,
    # e.g. MOTCUA_BACKOFFICE__COMMUNE_TOKENS='{"10642": "..."}'); ``token`` reaches them all.
    commune_tokens: dict[str, str] = Field(default_factory=dict)
    timeout: float = Field(default=10.0, gt=0, le=120)
    serve_api: bool = False  # mount the back office's REST API on this server


class DraftSettings(_Section):
    expire_days: int = Field(default=30, ge=1, le=365)
    remind_days_before: int = Field(default=3, ge=0, le=30)


class FloodSettings(_Section):
    """How many messages one conversation may send in a window before the excess is dropped
    with one polite slow-down message (bot/flood.py)."""

    messages: int = Field(default=20, ge=1, le=1000)
    window_seconds: float = Field(default=10.0, gt=0, le=3600)


class NotificationSettings(_Section):
    """Status notices written first to citizens (bot/notifier.py)."""

    quiet_start: time = time(21, 0)
    quiet_end: time = time(7, 0)
    telegram_per_second: float = Field(default=30.0, gt=0, le=1000)
    telegram_per_chat_seconds: float = Field(default=1.0, ge=0, le=60)
    # protocols.md documents no Zalo OA send rate: a cautious guess, see config.example.toml.
    zalo_per_second: float = Field(default=5.0, gt=0, le=1000)
    max_attempts: int = Field(default=12, ge=1, le=100)

    @field_validator("quiet_start", "quiet_end", mode="before")
    @classmethod
    def _hh_mm(cls, value: Any) -> Any:
        if isinstance(value, str):
            hours, sep, minutes = value.partition(":")
            if not (sep and hours.isdigit() and minutes.isdigit() and len(minutes) == 2):
                raise ValueError('must be a local time written "HH:MM", e.g. "21:00"')
            if not (0 <= int(hours) <= 23 and 0 <= int(minutes) <= 59):
                raise ValueError('must be a local time between "00:00" and "23:59"')
            return time(int(hours), int(minutes))
        return value


class ConsoleSettings(_Section):
    """The officer console at /console (backoffice/console.py)."""

    # A signed-in browser left alone this long must sign in again.
    session_minutes: int = Field(default=30, ge=1, le=720)
    # Failed logins counted over this window: a lock per account and address, and per address;
    # per account from all addresses only a slowdown (backoffice.accounts.LoginLimits).
    login_window_minutes: int = Field(default=15, ge=1, le=1440)
    max_failures_per_account: int = Field(default=5, ge=1, le=100)
    max_failures_per_address: int = Field(default=20, ge=1, le=1000)
    # "Gặp cán bộ": a hand-over in which neither side wrote for this long goes back to the
    # assistant, which tells the citizen.
    handoff_idle_minutes: int = Field(default=30, ge=1, le=1440)


class Settings(BaseSettings):
    """The whole configuration. Build it with :func:`load_settings`."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter=ENV_NESTING,
        extra="forbid",
        frozen=True,
    )

    deployment: DeploymentSettings = DeploymentSettings()
    communes: tuple[CommuneSettings, ...] = Field(min_length=1)
    database: DatabaseSettings = DatabaseSettings()
    files: FilesSettings = FilesSettings()
    web: WebSettings = WebSettings()
    telegram: TelegramSettings = TelegramSettings()
    zalo: ZaloSettings = ZaloSettings()
    payment: PaymentSettings = PaymentSettings()
    calendar: CalendarSettings = CalendarSettings()
    backoffice: BackOfficeSettings = BackOfficeSettings()
    drafts: DraftSettings = DraftSettings()
    flood: FloodSettings = FloodSettings()
    notifications: NotificationSettings = NotificationSettings()
    console: ConsoleSettings = ConsoleSettings()

    @model_validator(mode="after")
    def _default_commune_is_served(self) -> Settings:
        codes = [c.code for c in self.communes]
        if len(set(codes)) != len(codes):
            raise ValueError("communes: a commune code is listed twice")
        if self.deployment.default_commune not in codes:
            raise ValueError(
                f"deployment.default_commune: {self.deployment.default_commune} is not one of the "
                f"[[communes]] codes ({', '.join(codes)})"
            )
        if self.telegram.token and self.telegram.mode == "webhook":
            if not self.telegram.webhook_secret:
                raise ValueError("telegram.webhook_secret: required in webhook mode")
            if not self.web.public_url.startswith("https://"):
                raise ValueError("web.public_url: webhook mode needs the public https:// URL")
        return self

    def commune(self, code: str | None = None) -> CommuneSettings:
        wanted = code or self.deployment.default_commune
        for commune in self.communes:
            if commune.code == wanted:
                return commune
        raise KeyError(wanted)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Environment first, so secrets override the file; the file is read only when a
        # subclass made by load_settings() names one.
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if settings_cls.model_config.get("toml_file"):
            sources.append(TomlConfigSettingsSource(settings_cls))
        return tuple(sources)


class ConfigError(Exception):
    """A configuration problem, worded for the person starting the service."""


def find_config_file(explicit: str | os.PathLike[str] | None = None) -> Path:
    if explicit:
        return Path(explicit)
    from_env = os.environ.get("MOTCUA_CONFIG")
    if from_env:
        return Path(from_env)
    for name in DEFAULT_CONFIG_FILES:
        if Path(name).is_file():
            return Path(name)
    raise ConfigError(
        "no configuration file: copy config.example.toml to motcua.toml or set MOTCUA_CONFIG"
    )


def load_settings(path: str | os.PathLike[str] | None = None) -> Settings:
    """Load and validate the configuration; raise :class:`ConfigError` naming the bad key."""
    config_path = find_config_file(path)
    try:
        with config_path.open("rb") as fh:
            tomllib.load(fh)  # parse first, so a syntax error is reported as such
    except FileNotFoundError as exc:
        raise ConfigError(f"{config_path}: file not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{config_path}: not valid TOML: {exc}") from exc

    class FileSettings(Settings):
        model_config = SettingsConfigDict(toml_file=config_path)

    unknown = unknown_variables(os.environ)
    if unknown:
        names = ", ".join(unknown)
        raise ConfigError(f"unknown setting in the environment: {names} (no such section or key)")
    try:
        return FileSettings()
    except ValidationError as exc:
        raise ConfigError(describe_errors(exc, config_path)) from exc


def unknown_variables(environ: Mapping[str, str]) -> list[str]:
    """``MOTCUA_<SECTION>__<KEY>`` variables naming no setting, as an unknown key in the file
    is refused. Variables without ``__`` (``MOTCUA_CONFIG``, the tests' own) are not settings."""
    found = []
    for name in sorted(environ):
        if not name.startswith(ENV_PREFIX) or ENV_NESTING not in name:
            continue
        section, _, key = name[len(ENV_PREFIX) :].lower().partition(ENV_NESTING)
        model = Settings.model_fields.get(section)
        kind = model.annotation if model is not None else None
        fields = kind.model_fields if isinstance(kind, type) and issubclass(kind, BaseModel) else {}
        if key.partition(ENV_NESTING)[0] not in fields:
            found.append(name)
    return found


def describe_errors(exc: ValidationError, config_path: Path | None = None) -> str:
    """Every problem, each blamed on where the value came from: the environment variable that
    set it, or the file."""
    parts = []
    for error in exc.errors():
        path = [str(p) for p in error["loc"]]
        key = ".".join(path) or "(top level)"
        variable = ENV_PREFIX + ENV_NESTING.join(path[:2]).upper()
        if path and variable in os.environ:
            where = f"environment variable {variable}"
        elif config_path is not None:
            where = f"'{key}' in {config_path}"
        else:
            where = f"'{key}'"
        if error["type"] == "extra_forbidden":
            parts.append(f"unknown key {where}")
        else:
            parts.append(f"bad value for {where}: {error['msg']}")
    return "; ".join(parts)


def settings_from_dict(data: dict[str, Any]) -> Settings:
    """Build settings from a mapping (tests, tools), with the same validation."""
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(describe_errors(exc)) from exc

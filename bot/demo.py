"""``motcua demo``: a fresh database filled with a realistic quarter, to try the console at once.

For every configured commune: about 90 days of dossiers up to now (several procedures, every
outcome, some late, some by post, filed at the counter, online and through volunteers),
three approved volunteers and one waiting for an officer, and console accounts of every role
with one-time passwords. It refuses a database that already holds dossiers: demo data must
never mix with a commune's real records.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from backoffice.calendar import WorkCalendar
from backoffice.sample import CommuneMix, ProcedureMix, generate, person, phone
from bot.app import build_accounts
from bot.config import Settings
from knowledge.catalogue import Catalogue
from storage.audit import AuditRepository
from storage.bulk import NewVolunteer, insert_records, insert_volunteers, raise_code_counters
from storage.db import create_engine, session_factory
from storage.migrate import upgrade
from storage.models import DossierRow

DAYS = 90
PER_COMMUNE = 360  # a busy commune's quarter: about six a working day
DEMO_PROCEDURES: tuple[tuple[str, float], ...] = (
    ("1.001193", 4.0),  # khai sinh
    ("2.000908", 3.0),  # bản sao từ sổ gốc
    ("1.000656", 1.0),  # khai tử
    ("1.000894", 1.5),  # kết hôn
    ("1.004873", 2.0),  # xác nhận tình trạng hôn nhân
    ("1.004194", 1.5),  # tạm trú
)
BRANCHES = ("Chi đoàn thôn Bắc", "Chi đoàn thôn Nam", "Chi đoàn thôn Đông", "Chi đoàn trường THCS")


@dataclass(frozen=True, slots=True)
class DemoAccount:
    name: str
    role: str
    commune: str
    password: str


@dataclass(frozen=True, slots=True)
class DemoResult:
    dossiers: int
    volunteers: int
    accounts: tuple[DemoAccount, ...]


class NotEmpty(RuntimeError):
    """The database already holds dossiers."""


async def fill(
    settings: Settings, catalogue: Catalogue, *, now: datetime | None = None, seed: int = 2026
) -> DemoResult:
    moment = now or datetime.now(UTC)
    await upgrade(settings.database.url)
    engine = create_engine(settings.database.url)
    try:
        sessions = session_factory(engine)
        async with sessions() as session:
            if await session.scalar(select(func.count()).select_from(DossierRow)):
                raise NotEmpty(settings.database.url)
        rng = random.Random(seed)
        zone = ZoneInfo(settings.deployment.timezone)
        volunteers: list[NewVolunteer] = []
        for commune in settings.communes:
            for n, status in enumerate(("approved", "approved", "approved", "pending")):
                volunteers.append(
                    NewVolunteer(
                        commune_code=commune.code,
                        channel="zalo",
                        chat_id=f"demo-volunteer-{commune.code}-{n}",
                        user_id=f"demo-volunteer-{commune.code}-{n}",
                        name=person(rng),
                        phone=phone(rng),
                        branch=BRANCHES[n % len(BRANCHES)],
                        status=status,
                        created_at=moment - timedelta(days=DAYS + 10 - n),
                        decided_at=None if status == "pending" else moment - timedelta(days=DAYS),
                        decided_by=None if status == "pending" else "console:demo-canbo",
                    )
                )
        ids = await insert_volunteers(sessions, volunteers)
        approved: dict[str, list[int]] = {}
        for vid, v in zip(ids, volunteers, strict=True):
            if v.status == "approved":
                approved.setdefault(v.commune_code, []).append(vid)
        procedures = [
            ProcedureMix(code, _days(catalogue, code), weight)
            for code, weight in DEMO_PROCEDURES
            if catalogue.get(code) is not None
        ]
        counters: dict[tuple[str, date], int] = {}
        records = generate(
            [
                CommuneMix(
                    c.code,
                    c.agency_code or f"000.00.{settings.deployment.province_code}.H00",
                    PER_COMMUNE,
                    tuple(approved.get(c.code, ())),
                )
                for c in settings.communes
            ],
            procedures,
            start=moment - timedelta(days=DAYS),
            end=moment,
            now=moment,
            calendar=WorkCalendar(settings.calendar.extra_days_off, settings.calendar.make_up_days),
            timezone=zone,
            rng=rng,
            counters=counters,
        )
        await insert_records(sessions, records)
        await raise_code_counters(sessions, counters)
        accounts = build_accounts(settings, sessions, AuditRepository(sessions))
        made: list[DemoAccount] = []
        first = settings.communes[0].code
        for name, role, where in (
            ("demo-canbo", "officer", first),
            ("demo-lanhdao", "leader", first),
            ("demo-buudien", "postal_clerk", first),
            ("demo-tinh", "leader", "*"),
            ("demo-quantri", "admin", "*"),
        ):
            account, password = await accounts.add(name, role, where, actor="cli:demo")
            made.append(DemoAccount(account.name, account.role, account.commune_code, password))
        return DemoResult(len(records), len(volunteers), tuple(made))
    finally:
        await engine.dispose()


def _days(catalogue: Catalogue, code: str) -> int:
    procedure = catalogue.get(code)
    days = procedure.processing_days if procedure is not None else None
    return days if days is not None else 3


def instructions(settings: Settings, result: DemoResult) -> list[str]:
    host = settings.web.host if settings.web.host not in ("0.0.0.0", "::") else "127.0.0.1"
    url = settings.web.public_url or f"http://{host}:{settings.web.port}"
    lines = [
        f"Đã tạo dữ liệu thử: {result.dossiers} hồ sơ trong {DAYS} ngày qua, "
        f"{result.volunteers} tình nguyện viên, {len(result.accounts)} tài khoản.",
        "",
        "Chạy máy chủ:   motcua run",
        f"Mở bàn làm việc: {url.rstrip('/')}/console  (thống kê: {url.rstrip('/')}/console/stats)",
        "",
        "Tài khoản (mật khẩu dùng một lần, phải đổi khi đăng nhập lần đầu):",
    ]
    for a in result.accounts:
        lines.append(f"  {a.name:<14} {a.role:<13} xã {a.commune:<6} mật khẩu: {a.password}")
    lines.append("")
    lines.append("Đây là dữ liệu giả: đừng dùng cơ sở dữ liệu này cho hồ sơ thật.")
    return lines

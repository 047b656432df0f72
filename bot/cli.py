"""The ``motcua`` command line."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from bot.config import ConfigError, Settings, load_settings

DEFAULT_PORTAL_FILE = Path("../shared/catalogue-source/procedures.jsonl")
DEFAULT_ALL_LEVELS_FILE = Path("../shared/catalogue-source/procedures-all-levels.jsonl")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    try:
        result: int = args.func(args)
    except ConfigError as exc:
        print(f"motcua: cấu hình lỗi / configuration error: {exc}", file=sys.stderr)
        return 2
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="motcua", description="Một cửa: trợ lý thủ tục hành chính xã"
    )
    parser.add_argument(
        "--config", help="config file (default: motcua.toml, then config.example.toml)"
    )
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="start the assistant (web chat, channels with tokens)")
    run.add_argument(
        "--workers",
        type=int,
        help="worker processes sharing the port and the database (default: web.workers, 1)",
    )
    # A worker started by `run --workers N`: serve on the socket its supervisor bound.
    run.add_argument("--socket-fd", type=int, help=argparse.SUPPRESS)
    run.set_defaults(func=_cmd_run)

    chat = sub.add_parser("chat", help="talk to the assistant in the terminal (works over a pipe)")
    chat.add_argument("--user", default="terminal", help="who is talking (conversation id)")
    chat.add_argument(
        "--files",
        default="var/chat-files",
        help="folder where received files (receipt PDFs, QR codes) are saved",
    )
    chat.set_defaults(func=_cmd_chat)

    migrate = sub.add_parser("migrate", help="create or upgrade the database")
    migrate.set_defaults(func=_cmd_migrate)

    search = sub.add_parser("search", help="answer a question from the catalogue")
    search.add_argument("query", nargs="?", help="the question")
    search.add_argument(
        "--jsonl", action="store_true", help="read questions on stdin, write JSON lines"
    )
    search.set_defaults(func=_cmd_search)

    from bot.reports import add_commands

    add_commands(sub)
    sub.choices["office"].set_defaults(func=_cmd_office)

    user = sub.add_parser("user", help="officer-console accounts: add, list, disable")
    user_sub = user.add_subparsers(required=True, metavar="ACTION", dest="user_action")
    add = user_sub.add_parser("add", help="a new account; prints its one-time password")
    add.add_argument("name", help="login name (a-z 0-9 . _ -)")
    add.add_argument(
        "--role", required=True, choices=["officer", "postal_clerk", "leader", "admin"]
    )
    add.add_argument("--commune", required=True, help='5-digit unit code, or "*" (province)')
    user_sub.add_parser("list", help="every account")
    disable = user_sub.add_parser("disable", help="disable an account and end its sessions")
    disable.add_argument("name")
    user.set_defaults(func=_cmd_user)

    demo = sub.add_parser(
        "demo", help="fill a fresh database with a demo quarter, volunteers and accounts"
    )
    demo.set_defaults(func=_cmd_demo)

    cat = sub.add_parser("catalogue", help="check or import the procedure catalogue")
    cat_sub = cat.add_subparsers(required=True, metavar="ACTION")
    check = cat_sub.add_parser("check", help="validate every catalogue file, report all problems")
    check.add_argument("--data", type=Path, help="catalogue data folder (default: bundled)")
    check.set_defaults(func=_cmd_catalogue_check)
    imp = cat_sub.add_parser("import", help="convert national-portal records (JSON lines)")
    imp.add_argument("source", type=Path, nargs="?", default=DEFAULT_PORTAL_FILE)
    imp.add_argument("--out", type=Path, help="output folder (default: the bundled imported/)")
    imp.add_argument(
        "--all-levels",
        type=Path,
        default=DEFAULT_ALL_LEVELS_FILE,
        help="the portal's records of every level, for elsewhere.json (skipped when absent)",
    )
    imp.set_defaults(func=_cmd_catalogue_import)
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(args.config)


def _cmd_migrate(args: argparse.Namespace) -> int:
    from storage.migrate import current_revision, head_revision, upgrade

    settings = _settings(args)

    async def migrate() -> str | None:
        before = await current_revision(settings.database.url)
        await upgrade(settings.database.url)
        return before

    before = asyncio.run(migrate())
    head = head_revision()
    if before is None:
        print(f"database created (schema {head})")
    elif before == head:
        print(f"database is up to date (schema {head})")
    else:
        print(f"database upgraded from schema {before} to {head}")
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    from bot.runner import serve, supervise

    settings = _settings(args)
    workers = args.workers if args.workers is not None else settings.web.workers
    if workers < 1:
        print("motcua: --workers must be at least 1", file=sys.stderr)
        return 2
    if args.socket_fd is not None:
        asyncio.run(serve(settings, socket_fd=args.socket_fd))
        return 0
    if workers == 1:
        asyncio.run(serve(settings))
        return 0
    child = [sys.executable, "-m", "bot.cli"]
    if args.config:
        child += ["--config", args.config]
    if args.verbose:
        child.append("-v")
    return supervise(settings, workers, [*child, "run"])


def _cmd_chat(args: argparse.Namespace) -> int:
    from bot.runner import chat

    settings = _settings(args)
    asyncio.run(chat(settings, user=args.user, files_dir=Path(args.files)))
    return 0


def _cmd_search(args: argparse.Namespace) -> int:
    from bot.app import commune_facts, load_knowledge
    from dialogs.cards import render_card, render_details, render_legal, render_papers
    from knowledge.search import answer_jsonl

    know = load_knowledge()
    if args.jsonl:
        for line in answer_jsonl(know.search, sys.stdin):
            print(line, flush=True)
        return 0
    if not args.query:
        print("motcua search: give a question, or --jsonl to read them from stdin", file=sys.stderr)
        return 2
    hits = know.search.search(args.query)
    if not hits:
        print("Chưa tìm thấy thủ tục phù hợp với câu hỏi này.")
        return 1
    settings = _settings(args)
    procedure = know.catalogue.get(hits[0].code)
    if procedure is None:  # the index and the catalogue are built together; never expected
        return 1
    commune = commune_facts(settings.commune())
    # The chat's first answer, then what its buttons show: an operator reads it all at once.
    print(render_card(procedure, commune))
    print()
    for part in (
        *render_papers(procedure),
        *render_details(procedure, commune),
        *render_legal(procedure),
    ):
        print(part)
        print()
    if len(hits) > 1:
        print("Có thể bạn cũng quan tâm: " + "; ".join(f"{h.name} ({h.code})" for h in hits[1:]))
    return 0


def _cmd_office(args: argparse.Namespace) -> int:
    from bot.app import build_office, office_store
    from bot.reports import run
    from knowledge.catalogue import load_catalogue
    from storage.attachments import FileRepository
    from storage.db import create_engine, session_factory
    from storage.migrate import upgrade

    settings = _settings(args)

    async def main() -> int:
        await upgrade(settings.database.url)
        engine = create_engine(settings.database.url)
        try:
            sessions = session_factory(engine)
            office = build_office(settings, office_store(settings, sessions), load_catalogue())
            return await run(args, office, FileRepository(sessions))
        finally:
            await engine.dispose()

    return asyncio.run(main())


def _cmd_user(args: argparse.Namespace) -> int:
    import getpass

    from backoffice.accounts import AccountError
    from bot.app import build_accounts
    from storage.audit import AuditRepository
    from storage.db import create_engine, session_factory
    from storage.migrate import upgrade

    settings = _settings(args)
    actor = f"cli:{getpass.getuser()}"

    async def main() -> int:
        await upgrade(settings.database.url)
        engine = create_engine(settings.database.url)
        try:
            sessions = session_factory(engine)
            accounts = build_accounts(settings, sessions, AuditRepository(sessions))
            if args.user_action == "add":
                try:
                    account, password = await accounts.add(
                        args.name, args.role, args.commune, actor=actor
                    )
                except AccountError as exc:
                    print(f"motcua user add: {exc}", file=sys.stderr)
                    return 2
                print(
                    f"Đã tạo tài khoản {account.name} ({account.role}, xã {account.commune_code})."
                )
                print(f"Mật khẩu dùng một lần: {password}")
                print("Người dùng phải đổi mật khẩu này khi đăng nhập lần đầu tại /console.")
                return 0
            if args.user_action == "list":
                rows = await accounts.list()
                if not rows:
                    print("Chưa có tài khoản nào.")
                for a in rows:
                    state = (
                        "đã khóa"
                        if not a.active
                        else ("chờ đổi mật khẩu" if a.must_change_password else "hoạt động")
                    )
                    print(f"{a.name}\t{a.role}\t{a.commune_code}\t{state}")
                return 0
            if await accounts.disable(args.name, actor=actor):
                print(f"Đã khóa tài khoản {args.name}; các phiên đăng nhập đã kết thúc.")
                return 0
            print(f"motcua user disable: không có tài khoản {args.name!r}", file=sys.stderr)
            return 1
        finally:
            await engine.dispose()

    return asyncio.run(main())


def _cmd_demo(args: argparse.Namespace) -> int:
    from bot.app import load_knowledge
    from bot.demo import NotEmpty, fill, instructions

    settings = _settings(args)
    try:
        result = asyncio.run(fill(settings, load_knowledge().catalogue))
    except NotEmpty:
        print(
            "motcua demo: cơ sở dữ liệu này đã có hồ sơ; dữ liệu thử chỉ ghi vào cơ sở dữ liệu "
            "mới (đặt MOTCUA_DATABASE__URL tới một tệp khác).",
            file=sys.stderr,
        )
        return 1
    print("\n".join(instructions(settings, result)))
    return 0


def _cmd_catalogue_check(args: argparse.Namespace) -> int:
    from knowledge.catalogue import check_catalogue

    problems = check_catalogue(args.data)
    for problem in problems:
        print(problem)
    if problems:
        print(f"{len(problems)} problem(s) found", file=sys.stderr)
        return 1
    from knowledge.catalogue import load_catalogue

    catalogue = load_catalogue(args.data)
    curated = sum(1 for p in catalogue.all() if p.curated)
    print(f"catalogue OK: {len(catalogue)} procedures, {curated} curated")
    return 0


def _cmd_catalogue_import(args: argparse.Namespace) -> int:
    from knowledge.importer import import_portal

    if not args.source.is_file():
        print(f"motcua catalogue import: {args.source}: no such file", file=sys.stderr)
        return 2
    data = Path(__file__).resolve().parents[1] / "knowledge" / "data"
    out = args.out or data / "imported"
    report = import_portal(args.source, out)
    print(report.summary())
    if args.all_levels.is_file():
        from knowledge.catalogue import ELSEWHERE_FILE, load_catalogue
        from knowledge.importer import import_elsewhere

        # The commune catalogue as it now is (imported and curated), so that what the commune
        # does is never listed as done elsewhere.
        path = out.parent / ELSEWHERE_FILE
        written = import_elsewhere(args.all_levels, path, load_catalogue(out.parent))
        print(f"Wrote {written} procedures of other offices to {path}.")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

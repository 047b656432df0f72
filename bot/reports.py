"""``motcua office``: the office's dossiers from a terminal at the desk or a script.

``list`` and ``show`` read; ``move``, ``extend`` and ``postal`` go through the same office
service and workflow rules as the REST API, so a refused move says why, in Vietnamese, and the
citizen hears of an accepted one in their chat (the notice leaves through the outbox; a running
``motcua run`` delivers it).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import date, tzinfo
from typing import Any

from backoffice import domain
from backoffice.domain import Extend, PostalEvent, Refused, Role, Status
from backoffice.office import CLI_ACTOR, DONE, OfficeService
from backoffice.wire import DossierOut, dossier_out
from dialogs.texts.tracking import STATUS_NAMES
from storage.attachments import FileRepository
from storage.dossiers import DossierNotFoundError, DossierQuery


def add_commands(sub: Any) -> None:
    """The ``office`` sub-commands, on the CLI's sub-parser set."""
    office = sub.add_parser("office", help="the office's dossiers: list, show, move")
    actions = office.add_subparsers(required=True, metavar="ACTION", dest="office_action")

    listing = actions.add_parser("list", help="dossiers, newest first")
    listing.add_argument("--commune", help="only this commune (5-digit unit code)")
    listing.add_argument("--status", choices=[s.value for s in Status], help="only this status")
    listing.add_argument("--overdue", action="store_true", help="only overdue dossiers")
    listing.add_argument("--limit", type=int, default=100)
    listing.add_argument("--json", action="store_true", help="one JSON array on stdout")

    show = actions.add_parser("show", help="one dossier with its history")
    show.add_argument("code")
    show.add_argument("--json", action="store_true")

    move = actions.add_parser("move", help="move a dossier to another status")
    move.add_argument("code")
    move.add_argument("status", choices=[s.value for s in Status])
    move.add_argument("--note", default="")
    move.add_argument("--reason", default="", help="why (not_accepted, refused)")
    move.add_argument(
        "--missing", action="append", default=[], help="a missing paper (repeat for each)"
    )
    move.add_argument("--amount", type=int, help="VND (payment_requested; default: catalogue)")
    move.add_argument("--item-number", default="", help="UPU S10 number (posted)")
    move.add_argument("--as", dest="actor", default=CLI_ACTOR, help="who moves it (audit)")
    move.add_argument(
        "--role", choices=[Role.OFFICER.value, Role.POSTAL_CLERK.value], default="officer"
    )

    extend = actions.add_parser("extend", help="the one apology and new date")
    extend.add_argument("code")
    extend.add_argument("new_date", type=date.fromisoformat, help="YYYY-MM-DD")
    extend.add_argument("--apology", required=True)
    extend.add_argument("--as", dest="actor", default=CLI_ACTOR)


async def run(args: argparse.Namespace, office: OfficeService, files: FileRepository) -> int:
    action = args.office_action
    if action == "list":
        return await _list(args, office)
    if action == "show":
        return await _show(args, office, files)
    if action == "move":
        return await _move(args, office)
    return await _extend(args, office)


async def _list(args: argparse.Namespace, office: OfficeService) -> int:
    today = office.today()
    wanted = None if args.status is None else (args.status, *_old_names(args.status))
    dossiers = await office.list(
        DossierQuery(
            commune_codes=None if args.commune is None else (args.commune,),
            statuses=wanted,
            overdue_on=today if args.overdue else None,
            done=DONE,
            limit=args.limit,
        )
    )
    if args.json:
        rows = [
            {
                "code": d.code,
                "commune_code": d.commune_code,
                "procedure_code": d.procedure_code,
                "status": domain.stored_status(d.status).value,
                "received_at": d.received_at.isoformat(),
                "due_date": None if d.due_date is None else d.due_date.isoformat(),
                "overdue": office.to_domain(d).overdue(today),
            }
            for d in dossiers
        ]
        json.dump(rows, sys.stdout, ensure_ascii=False, indent=2)
        print()
        return 0
    if not dossiers:
        print("Không có hồ sơ nào.")
        return 0
    for d in dossiers:
        overdue = " (QUÁ HẠN)" if office.to_domain(d).overdue(today) else ""
        due = "" if d.due_date is None else f" hẹn {d.due_date:%d/%m/%Y}"
        print(f"{d.code}  {d.procedure_code}  {_status_text(d.status)}{due}{overdue}")
    return 0


async def _show(args: argparse.Namespace, office: OfficeService, files: FileRepository) -> int:
    view = await office.get(args.code)
    if view is None:
        print(f"Không có hồ sơ mã {args.code}.", file=sys.stderr)
        return 1
    out = dossier_out(
        view.dossier, view.history, view.overdue, office.allowed(view.dossier, Role.OFFICER)
    )
    if args.json:
        attached = await files.for_dossier(view.dossier.id)
        body = out.model_dump(mode="json")
        body["files"] = [
            {"id": f.id, "slot": f.slot, "mime_type": f.mime_type, "size": f.size} for f in attached
        ]
        json.dump(body, sys.stdout, ensure_ascii=False, indent=2)
        print()
        return 0
    print("\n".join(_describe(out, office.timezone)))
    return 0


def _describe(d: DossierOut, timezone: tzinfo) -> list[str]:
    lines = [
        f"Mã hồ sơ: {d.code}",
        f"Thủ tục: {d.procedure_code}  (xã {d.commune_code})",
        f"Tình trạng: {_status_text(d.status.value)}" + (" — QUÁ HẠN" if d.overdue else ""),
    ]
    if d.due_date is not None:
        lines.append(f"Ngày hẹn trả: {d.due_date:%d/%m/%Y}")
    if d.missing:
        lines.append("Cần bổ sung: " + "; ".join(d.missing))
    if d.amount_due:
        lines.append(
            f"Lệ phí: {d.amount_due:,} đồng".replace(",", ".") + (" (đã nộp)" if d.paid else "")
        )
    if d.postal_item:
        lines.append(f"Số hiệu bưu gửi: {d.postal_item}")
    lines.append("Lịch sử:")
    for step in d.history:
        note = f" — {step.note}" if step.note else ""
        when = f"{step.at.astimezone(timezone):%d/%m/%Y %H:%M}"
        lines.append(f"  {when}  {_status_text(step.to.value)}  ({step.actor}){note}")
    if d.allowed:
        lines.append("Có thể chuyển sang: " + ", ".join(s.value for s in d.allowed))
    return lines


async def _move(args: argparse.Namespace, office: OfficeService) -> int:
    target = Status(args.status)
    amount = args.amount
    if target is Status.PAYMENT_REQUESTED and amount is None:
        stored = await office.store.by_code(args.code)
        amount = None if stored is None else office.suggested_amount(stored)
    command: domain.Command | Refused
    if target in domain.POSTAL_EVENTS and target is not Status.POSTED:
        command = PostalEvent(event=target, note=args.note)
    else:
        command = domain.command_for(
            target,
            note=args.note,
            reason=args.reason,
            missing=args.missing,
            amount=amount,
            item_number=args.item_number,
        )
    return await _apply(office, args.code, command, args.actor, Role(args.role))


async def _extend(args: argparse.Namespace, office: OfficeService) -> int:
    command = Extend(new_date=args.new_date, apology=args.apology)
    return await _apply(office, args.code, command, args.actor, Role.OFFICER)


async def _apply(
    office: OfficeService,
    code: str,
    command: domain.Command | Refused,
    actor: str,
    role: Role,
) -> int:
    if isinstance(command, Refused):
        print(f"Không chuyển được: {command.message}", file=sys.stderr)
        return 2
    try:
        result = await office.move(code, command, actor=actor, role=role)
    except DossierNotFoundError:
        print(f"Không có hồ sơ mã {code}.", file=sys.stderr)
        return 1
    if isinstance(result, Refused):
        print(f"Không chuyển được: {result.message}", file=sys.stderr)
        return 2
    status = _status_text(result.dossier.status)
    due = "" if result.dossier.due_date is None else f"; hẹn {result.dossier.due_date:%d/%m/%Y}"
    print(f"Hồ sơ {result.dossier.code}: {status}{due}. Người nộp sẽ nhận tin báo.")
    return 0


def _status_text(name: str) -> str:
    status = domain.stored_status(name).value
    return STATUS_NAMES.get(status, status)


def _old_names(status: str) -> Sequence[str]:
    return [
        old for old, new in domain.LEGACY_STATUS.items() if new.value == status and old != status
    ]

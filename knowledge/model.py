"""The procedure catalogue's data model.

Catalogue files (``knowledge/data/imported/*.json`` generated from the national portal,
``knowledge/data/curated/*.toml`` written by hand) use exactly these field names; a curated file
overlays the imported record with the same code, key by key. See ``knowledge/data/README.md``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Channel(StrEnum):
    """How a dossier can be filed (and, for ``POST``, how the result can come back)."""

    ONLINE = "online"  # Trực tuyến
    POST = "post"  # Dịch vụ bưu chính công ích
    IN_PERSON = "in_person"  # Trực tiếp


@dataclass(frozen=True, slots=True)
class ChannelInfo:
    channel: Channel
    time_text: str = ""  # as the portal shows it, cleaned
    fee_text: str = ""  # as the portal shows it, cleaned
    note: str = ""


@dataclass(frozen=True, slots=True)
class Paper:
    """One document of the dossier."""

    name: str
    copy_kind: str = ""  # "bản chính", "bản sao", "bản sao có chứng thực", ...
    count: int | None = None
    form: str = ""  # name of the form/template, e.g. "Tờ khai đăng ký khai sinh"
    show_only: bool = False  # xuất trình (shown at the desk), not filed
    note: str = ""  # when it is needed, e.g. "nếu người khác nộp thay"


@dataclass(frozen=True, slots=True)
class Fee:
    text: str  # plain Vietnamese, e.g. "Miễn phí nếu đăng ký trong 60 ngày kể từ ngày sinh"
    amount_vnd: int | None = None  # a single fixed amount when there is one
    # Each extract (bản sao) asked for in the form's "copies" answer, on top of amount_vnd.
    copy_vnd: int | None = None
    set_by_province: bool = False  # level set by the provincial People's Council (HĐND)
    exemptions: tuple[str, ...] = ()
    basis: str = ""  # legal basis of the fee


@dataclass(frozen=True, slots=True)
class LegalRef:
    title: str
    code: str = ""  # e.g. "123/2015/NĐ-CP"


@dataclass(frozen=True, slots=True)
class FormField:
    """One question of the filing dialog. ``kind`` picks the validator (see dialogs.validators)."""

    name: str
    kind: str  # name | date | id_number | phone | choice | yes_no | number | text | address | sex
    label: str  # the question as the bot asks it
    required: bool = True
    choices: tuple[str, ...] = ()
    help: str = ""
    example: str = ""
    max_length: int | None = None
    who: str = ""  # whose data: "requester", "child", "mother", ... (for the declaration form)
    # On the filer's relation question (asked first, instead of "for yourself or someone
    # else?"): per choice, the ``who`` the filer is ("mother"), or "" when not a party. The
    # party's fields that match a requester field (mother_name ~ requester_name) are then
    # filled from the filer's answers, not asked again.
    parties: tuple[str, ...] = ()
    # Buttons for the common answers ("Kinh", "Việt Nam"); "{commune}" stands for the
    # commune the conversation is with, "{province}" for its province.
    suggest: tuple[str, ...] = ()
    # This field may be answered in the same line as the field before it ("Trần Thị Hoa,
    # 20/05/1998, 031198001234"); the first field of such a run asks ``line_label``.
    joins: bool = False
    line_label: str = ""
    # Asked only when another answer says so: "name" (answered), "!name" (not answered),
    # "name=value" / "name!=value" (by the stored value, or a choice's label).
    ask_if: str = ""
    # A date older than this many days (a birth registered late) is told ``late_note``.
    late_after_days: int | None = None
    late_note: str = ""
    # How the answer reads without its question, on the review: "{} bản sao", "dân tộc {}";
    # after a "|", how a number 0 reads ("{} bản sao|không cần bản sao"). Empty: by its kind.
    shown: str = ""


@dataclass(frozen=True, slots=True)
class PhotoSlot:
    """One paper the user photographs."""

    name: str
    label: str
    required: bool = True
    multi_page: bool = False
    ask_if: str = ""  # as FormField.ask_if


@dataclass(frozen=True, slots=True)
class FilingForm:
    fields: tuple[FormField, ...] = ()
    photos: tuple[PhotoSlot, ...] = ()
    declaration: str = ""  # "birth" | "marriage" | "death" | "marital_status" | ""
    subject: str = ""  # whose the dossier is ("child", "person"): the filer for themselves


@dataclass(frozen=True, slots=True)
class Procedure:
    code: str  # "1.001193"
    name: str
    field: str  # lĩnh vực, e.g. "Hộ tịch"
    levels: tuple[str, ...] = ()  # "Cấp xã", "Cấp tỉnh", ...
    authority: str = ""  # who decides, e.g. "Ủy ban nhân dân cấp xã"
    handled_by: str = ""  # the office the citizen really deals with, when not the commune's
    who_may_file: str = ""
    papers: tuple[Paper, ...] = ()
    steps: tuple[str, ...] = ()
    processing_days: int | None = None  # working days; None when not stated
    # Plain Vietnamese, e.g. "Trong ngày; nộp sau 15 giờ thì trả ngày làm việc tiếp theo".
    processing_text: str = ""
    fee: Fee | None = None
    results: tuple[str, ...] = ()
    legal_basis: tuple[LegalRef, ...] = ()
    channels: tuple[ChannelInfo, ...] = ()
    conditions: str = ""
    decision_no: str = ""  # quyết định công bố
    effective_from: str = ""  # ISO date, when known
    source_url: str = ""
    last_checked: str = ""  # ISO date
    flags: tuple[str, ...] = ()  # data-quality flags, e.g. "steps_cut_off"
    # Curated on top of the portal record:
    curated: bool = False
    aliases: tuple[str, ...] = ()  # what villagers call it: "giấy khai sinh", "làm giấy khai sinh"
    # From knowledge/data/phrasing/*.toml (or a curated file): the spoken and regional words for
    # it ("sổ đỏ", "dẹp tiệm") and the situations of life in which people need it ("bố mới mất").
    spoken: tuple[str, ...] = ()
    situations: tuple[str, ...] = ()
    summary: str = ""  # two or three plain sentences
    full_online: bool | None = None  # toàn trình where the province lists it so; None = unknown
    result_by_post: bool | None = None
    replaces: tuple[str, ...] = ()  # older codes that now resolve to this one
    form: FilingForm | None = None

    def has_channel(self, channel: Channel) -> bool:
        return any(c.channel is channel for c in self.channels)


@dataclass(frozen=True, slots=True)
class OtherProcedure:
    """A procedure of the national portal that another office carries out, not the commune
    (a passport, a driving licence, a company, a tax return). Search knows their names so that
    a question about one is told where it is done instead of being answered with the closest
    commune procedure (``knowledge/data/elsewhere.json``, written by the importer)."""

    code: str
    name: str
    field: str
    office: str  # who carries it out, as the portal names it ("Công an cấp Tỉnh"); "" unknown

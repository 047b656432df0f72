"""What the filing form shows: each question with its buttons, the prompts (cancel, resume,
switch), the review screen and short answers to questions asked mid-form.

:class:`FormTurn` holds one turn of one open draft; ``dialogs.filing`` reads the user's input
and changes the draft through it, then asks it for the next screen.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import date
from typing import Any

from dialogs import behalf, qa
from dialogs import filing_answers as fa
from dialogs import filing_draft as fd
from dialogs import validators as v
from dialogs.addresses import AddressBook
from dialogs.cards import shorten, split_text
from dialogs.context import Context
from dialogs.flow import Turn
from dialogs.model import Button, Effect, Reply, Step
from dialogs.texts import common as ctexts
from dialogs.texts import filing as texts
from dialogs.texts import validation as vtexts
from knowledge.catalogue import condition_field
from knowledge.model import FormField, PhotoSlot, Procedure

MODE = "filing"
FORM = fd.FORM_VERB
STRONG_HIT = 0.8  # a failed answer this close to a procedure was a question, not an answer
PHOTOS = "photos"  # review sections that are not a person's data
DELIVERY = "delivery"
OTHER = "other"
SKIP_MARK = "-"  # a suggestion written "-Chưa đăng ký kết hôn" skips the fields asked
COMMUNE_CHOICES = 5
BUTTON_LENGTH = 60

# Items that are not form fields but are asked like one.
DELIVERY_FIELD = FormField(
    name=fd.DELIVERY,
    kind="choice",
    label=texts.DELIVERY,
    choices=(texts.BTN_COUNTER, texts.BTN_POST),
)
POSTAL_ADDRESS_FIELD = FormField(name=fd.POSTAL_ADDRESS, kind="address", label=texts.POSTAL_ADDRESS)
POSTAL_PHONE_FIELD = FormField(
    name=fd.POSTAL_PHONE, kind="phone", label=texts.POSTAL_PHONE, example=vtexts.PHONE_EXAMPLE
)
KIND_EXAMPLES = {
    "date": vtexts.DATE_EXAMPLE,
    "phone": vtexts.PHONE_EXAMPLE,
    "id_number": vtexts.ID_EXAMPLE,
    "address": vtexts.ADDRESS_EXAMPLE,
}
KIND_OPTIONS = {"sex": (v.MALE, v.FEMALE), "yes_no": (texts.YES, texts.NO)}


def names_of(fields: Sequence[FormField]) -> list[str]:
    return [f.name for f in fields]


@functools.cache
def _packaged_addresses() -> AddressBook:
    """The packaged unit list, for a context built without one (bot/ passes its own)."""
    return AddressBook.from_package()


class FormTurn:
    """One turn of one open draft: the procedure, its draft, and how to answer."""

    def __init__(self, turn: Turn, procedure: Procedure, draft: dict[str, Any]) -> None:
        assert procedure.form is not None
        self.turn = turn
        self.ctx: Context = turn.ctx
        self.procedure = procedure
        self.fields = procedure.form.fields
        self.photos = procedure.form.photos
        self.draft = draft

    # --- state ---------------------------------------------------------------------------

    @property
    def book(self) -> AddressBook:
        return self.ctx.addresses if self.ctx.addresses is not None else _packaged_addresses()

    def pay(self, action: str, *args: object) -> str:
        return ":".join([FORM, self.draft["id"][: fd.SHORT_ID], action, *map(str, args)])

    def button(self, label: str, action: str, *args: object) -> Button:
        return Button(shorten(label, BUTTON_LENGTH), self.pay(action, *args))

    def step(
        self, replies: Sequence[Reply], effects: Sequence[Effect] = (), *, mode: str = MODE
    ) -> Step:
        self.draft["updated_at"] = self.ctx.now.isoformat()
        self.draft["total"] = fd.questions_answered(self.procedure, self.draft)[1]
        self.turn.state[fd.KEY] = self.draft
        self.turn.state["mode"] = mode
        return Step(state=self.turn.state, replies=tuple(replies), effects=tuple(effects))

    def items(self) -> list[str]:
        return fd.items(self.procedure, self.draft)

    def current(self) -> str | None:
        return fd.current_item(self.procedure, self.draft)

    def field_for(self, item: str) -> FormField | None:
        if item.startswith(fd.FIELD_PREFIX):
            name = item[len(fd.FIELD_PREFIX) :]
            return next((f for f in self.fields if f.name == name), None)
        return {
            fd.DELIVERY: DELIVERY_FIELD,
            fd.POSTAL_ADDRESS: POSTAL_ADDRESS_FIELD,
            fd.POSTAL_PHONE: POSTAL_PHONE_FIELD,
        }.get(item)

    def slot_for(self, item: str) -> PhotoSlot | None:
        if not item.startswith(fd.PHOTO_PREFIX):
            return None
        name = item[len(fd.PHOTO_PREFIX) :]
        return next((p for p in self.photos if p.name == name), None)

    def slot_named(self, name: str) -> PhotoSlot | None:
        return next((p for p in self.photos if p.name == name), None)

    # --- asking --------------------------------------------------------------------------

    def nav_rows(self, item: str | None, *, skip: bool) -> list[tuple[Button, ...]]:
        first = [self.button(texts.BTN_BACK, "back")]
        if item is not None and self.draft["focus"] == item and item in self.draft["status"]:
            first.append(self.button(texts.BTN_KEEP, "keep"))
        if skip:
            first.append(self.button(texts.BTN_SKIP, "skip"))
        return [
            tuple(first),
            (
                self.button(texts.BTN_HELP, "help"),
                self.button(texts.BTN_CANCEL, "cancel"),
                self.button(texts.BTN_MENU, "menu"),
            ),
        ]

    def ask(self, notes: Sequence[str] = (), before: Sequence[Reply] = ()) -> Step:
        """Show the item asked now (or the review), after ``notes`` and earlier replies."""
        if self.draft["prompt"]:
            return self.show_prompt(notes, before)
        item = self.current()
        if item is None:
            return self.step([*before, *self.review(notes)])
        return self.step([*before, self.question(item, notes)])

    def question(self, item: str, notes: Sequence[str] = ()) -> Reply:
        if item == fd.FILER:
            return self.ask_filer(notes)
        slot = self.slot_for(item)
        if slot is not None:
            return self.ask_photo(item, slot, notes)
        field = self.field_for(item)
        assert field is not None  # every item is the filer, a photo slot or a field
        return self.ask_field(item, field, notes)

    def done_note(self, item: str) -> list[str]:
        """When an answered item is asked again: what it holds now."""
        if self.draft["focus"] != item or item not in self.draft["status"]:
            return []
        answer = self.draft["answers"].get(item)
        if answer is not None:
            return [texts.current_value(answer["display"])]
        return [texts.CURRENT_SKIPPED]

    def ask_filer(self, notes: Sequence[str]) -> Reply:
        sub = self.draft["sub"]
        stage = sub["stage"] if sub is not None and sub["item"] == fd.FILER else ""
        rows: list[tuple[Button, ...]]
        if stage == "relation":
            lines = [*notes, texts.WHICH_RELATION]
            rows = [
                tuple(self.button(r, "rel", i) for i, r in enumerate(texts.RELATIONS[j : j + 2], j))
                for j in range(0, len(texts.RELATIONS), 2)
            ]
        elif stage == "relation_text":
            lines = [*notes, texts.RELATION_TEXT]
            rows = []
        else:
            lines = [*notes, texts.WHO_FILES, *self.done_note(fd.FILER)]
            rows = [
                (
                    self.button(texts.BTN_FOR_SELF, "self"),
                    self.button(texts.BTN_FOR_OTHER, "other"),
                )
            ]
        rows += self.nav_rows(fd.FILER, skip=False)
        return Reply("\n".join(lines), buttons=tuple(rows))

    def field_items(self) -> list[str]:
        return [k for k in self.items() if k.startswith(fd.FIELD_PREFIX)]

    def line_run(self, item: str) -> tuple[FormField, ...]:
        """The fields asked together with ``item``: it and the unanswered fields right after
        it that may join it (``FormField.joins``); an item asked again is asked alone."""
        field = self.field_for(item)
        if field is None:
            return ()
        if not item.startswith(fd.FIELD_PREFIX) or self.draft["focus"] == item:
            return (field,)
        run = [field]
        names = [f.name for f in self.fields]
        for after in self.fields[names.index(field.name) + 1 :]:
            key = fd.field_item(after.name)
            if not after.joins or key in self.draft["status"]:
                break
            # A field asked only once the head is answered ("father_name") comes along.
            needs = {condition_field(p) for p in after.ask_if.split("&")} if after.ask_if else set()
            if not (fd.condition_holds(after.ask_if, self.draft) or needs <= set(names_of(run))):
                break
            run.append(after)
        return tuple(run)

    def suggestions(self, item: str) -> list[str]:
        """Buttons for the common answers to the item (for a run, one answer for all)."""
        run = self.line_run(item)
        if not run:
            return []
        commune = self.ctx.commune
        if len(run) > 1 and all(f.suggest for f in run):
            count = min(len(f.suggest) for f in run)
            options = [", ".join(f.suggest[i] for f in run) for i in range(count)]
        else:
            options = list(run[0].suggest)
        return [fa.with_commune(o, commune.name, commune.province) for o in options]

    @staticmethod
    def skips(option: str) -> bool:
        """A suggestion that means "none of these" ("Chưa đăng ký kết hôn") skips the run."""
        return option.startswith(SKIP_MARK)

    def ask_field(self, item: str, field: FormField, notes: Sequence[str]) -> Reply:
        sub = self.draft["sub"]
        if sub is not None and sub["item"] == item and sub["stage"] in fd.CONFIRM_STAGES:
            return self.ask_confirm(item, sub, notes)
        if sub is not None and sub["item"] == item:
            return self.ask_address_step(item, sub, notes)
        lines = list(notes)
        run = self.line_run(item)
        label = run[0].line_label if len(run) > 1 and run[0].line_label else field.label
        label = self.worded(field, label)
        lines.append(self.numbered(item, label))
        lines += self.done_note(item)
        examples = [f.example or KIND_EXAMPLES.get(f.kind, "") for f in run]
        example = ", ".join(e for e in examples if e) if len(run) > 1 else examples[0]
        if example:
            lines.append(texts.example(example))
        if len(run) > 1:
            lines.append(texts.LINE_HINT)
        if not field.required:
            lines.append(texts.OPTIONAL)
        rows: list[tuple[Button, ...]] = []
        position = self.items().index(item)
        options = field.choices if field.kind == "choice" else KIND_OPTIONS.get(field.kind, ())
        suggested = self.suggestions(item) if field.kind not in ("choice", "sex", "yes_no") else []
        for start in range(0, len(options), 2):
            rows.append(
                tuple(
                    self.button(option, "pick", position, i)
                    for i, option in enumerate(options[start : start + 2], start)
                )
            )
        for start in range(0, len(suggested), 2):
            rows.append(
                tuple(
                    self.button(option.removeprefix(SKIP_MARK), "sug", position, i)
                    for i, option in enumerate(suggested[start : start + 2], start)
                )
            )
        if field.kind == "address":
            own = self.book.commune(self.ctx.commune.code)
            if own is not None:
                rows.append((self.button(texts.own_commune(own.full_name), "addr", own.code),))
        phone = self.known_phone() if item == fd.POSTAL_PHONE else ""
        if phone:
            rows.append((self.button(texts.btn_same_phone(phone), "same"),))
        rows += self.nav_rows(item, skip=not field.required)
        return Reply(
            "\n".join(lines),
            buttons=tuple(rows),
            request_contact=field.kind == "phone",
            number_answer=field.kind == "number",  # a typed "2" is two, not the 2nd button
        )

    @property
    def for_villager(self) -> bool:
        """A volunteer files this draft for a villager: the filer's questions are the villager's."""
        return behalf.on_behalf(self.turn.state, self.draft["id"]) is not None

    def own_self(self, who: str) -> bool:
        """``who`` is the filer: the form's subject ("person"), after «Cho bản thân», or after
        the choice of the form's own relation question that makes the filer the subject
        («Cho chính tôi»). A villager a volunteer files for is the subject of a form without
        a relation question of its own (their details fill the subject's: see
        ``dialogs.volunteer``), and of one whose relation answer says so («Cho chính tôi»):
        their questions read "bà con"."""
        form = self.procedure.form
        if form is None or not who or who != form.subject:
            return False
        if fd.relation_field(form) is not None:
            return fd.party_of(form, self.draft) == who
        if self.for_villager:
            return True
        filer = self.draft["answers"].get(fd.FILER)
        value = filer.get("value") if isinstance(filer, dict) else None
        return isinstance(value, dict) and value.get("for_self") is True

    def worded(self, field: FormField, label: str) -> str:
        """The question as it names its person: the filer's "bạn" is "bà con" when a volunteer
        holds the phone for a villager ("Bà con sinh ngày nào ạ?"), and the subject's "người
        đó" is the filer's "bạn" when the filer is the subject ("Bạn sinh ngày nào ạ?")."""
        own = self.own_self(field.who)
        if own:
            label = texts.for_own_self(label)
        if (own or field.who == fd.REQUESTER) and self.for_villager:
            return texts.for_villager(label)
        return label

    def numbered(self, item: str, label: str) -> str:
        """ "Câu 3/10: <label>": the questions counted are those asked (a part copied from the
        filer's answers or ruled out by an earlier one is not), so the numbers never jump."""
        index, total = fd.question_progress(self.procedure, self.draft, item)
        return f"{texts.progress(index, total)}: {label}" if index else label

    def ask_address_step(self, item: str, sub: dict[str, Any], notes: Sequence[str]) -> Reply:
        rows: list[tuple[Button, ...]] = []
        if sub["stage"] == "commune":
            matches = self.book.find_commune(sub["text"], limit=COMMUNE_CHOICES)
            lines = [*notes, texts.which_commune(self.subject_of(item))]
            # "nhà trọ số 5, thôn Đông" names no commune: most likely the one of this office,
            # not the far-away namesakes of "Đông" the search finds.
            own = self.book.commune(self.ctx.commune.code)
            if own is not None and all(m.code != own.code for m in matches):
                rows.append((self.button(texts.own_commune(own.full_name), "addr", own.code),))
            rows += [(self.button(m.full_name, "addr", m.code),) for m in matches]
            rows += self.nav_rows(item, skip=False)
        else:
            value = sub["value"] or {}
            lines = [*notes, fa.address_display(value), texts.which_village(self.subject_of(item))]
            lines.append(texts.example(texts.VILLAGE_EXAMPLE))
            rows += self.nav_rows(item, skip=True)
        return Reply("\n".join(lines), buttons=tuple(rows))

    def ask_confirm(self, item: str, sub: dict[str, Any], notes: Sequence[str]) -> Reply:
        """An answer held back: keep it with one tap, or type it again ("back")."""
        doubt = sub["stage"] == "doubt"
        lines = list(notes)
        field = self.field_for(item)
        if field is not None and item.startswith(fd.FIELD_PREFIX):
            lines.append(self.numbered(item, self.worded(field, field.label)))
        rows: list[tuple[Button, ...]]
        if sub["stage"] == "tones":
            first = (
                [self.button(texts.BTN_TONES_USE, "tone", "use")] if sub["value"]["toned"] else []
            )
            rows = [
                (*first, self.button(texts.BTN_TONES_RETYPE, "tone", "retype")),
                (self.button(texts.BTN_TONES_KEEP, "tone", "keep"),),
            ]
        else:
            rows = [
                (
                    self.button(texts.BTN_ID_SURE if doubt else texts.BTN_SUCCESSOR_SURE, "sure"),
                    self.button(texts.BTN_RETYPE, "back"),
                ),
            ]
        rows.append(self.nav_rows(item, skip=False)[-1])
        return Reply("\n".join([*lines, sub["text"]]), buttons=tuple(rows))

    def hold_for_confirmation(self, item: str, stage: str, question: str, value: Any) -> Step:
        self.draft["sub"] = {"item": item, "stage": stage, "text": question, "value": value}
        return self.ask()

    def subject_of(self, item: str) -> str:
        """Who an item is about, as the question names them ("Mẹ cháu", "Bạn")."""
        field = self.field_for(item)
        if item == fd.POSTAL_ADDRESS:
            return texts.SUBJECT_RECIPIENT
        who = field.who if field is not None else ""
        if self.own_self(who):
            who = fd.REQUESTER
        if who == fd.REQUESTER and self.for_villager:
            return texts.SUBJECT_VILLAGER
        return texts.subject(who)

    def ask_photo(self, item: str, slot: PhotoSlot, notes: Sequence[str]) -> Reply:
        asked = [k for k in self.items() if k.startswith(fd.PHOTO_PREFIX)]
        index = asked.index(item) + 1 if item in asked else 1
        progress = texts.photo_progress(index, len(asked))
        lines = [*notes, f"{progress}: {texts.photo_prompt(slot.label)}"]
        have = len(self.draft["files"].get(slot.name, []))
        if self.draft["focus"] == item and item in self.draft["status"]:
            lines.append(texts.photos_so_far(have))
        if slot.multi_page:
            lines.append(texts.PHOTO_PAGES)
        if not slot.required:
            lines.append(texts.OPTIONAL)
        rows: list[tuple[Button, ...]] = []
        if slot.multi_page or have:
            rows.append((self.button(texts.BTN_DONE, "done"),))
        if have and not slot.required:
            rows.append((self.button(texts.BTN_DROP_PHOTOS, "drop", slot.name),))
        rows += self.nav_rows(item, skip=not slot.required)
        return Reply("\n".join(lines), buttons=tuple(rows))

    def known_phone(self) -> str:
        for field in self.fields:
            answer = self.draft["answers"].get(fd.field_item(field.name))
            if field.kind == "phone" and answer is not None:
                return str(answer["value"])
        return ""

    # --- prompts (cancel, resume, switch) -----------------------------------------------------

    def show_prompt(self, notes: Sequence[str] = (), before: Sequence[Reply] = ()) -> Step:
        prompt = self.draft["prompt"]
        name = self.draft["name"]
        answered, total = fd.questions_answered(self.procedure, self.draft)
        rows: list[tuple[Button, ...]]
        if prompt == "cancel":
            text = texts.CONFIRM_CANCEL
            rows = [
                (
                    self.button(texts.BTN_CANCEL_YES, "cancel_yes"),
                    self.button(texts.BTN_CANCEL_NO, "cancel_no"),
                )
            ]
        elif prompt.startswith("switch:"):
            new = self.ctx.catalogue.get(prompt.partition(":")[2])
            new_name = new.name if new is not None else ""
            text = texts.switch_question(name, answered, total, new_name)
            rows = [
                (self.button(texts.btn_keep_old(name), "resume"),),
                (self.button(texts.btn_switch(new_name), "switch", prompt.partition(":")[2]),),
                (self.button(texts.BTN_CANCEL, "cancel"),),
            ]
        else:
            text = texts.resume_question(name, answered, total)
            rows = [
                (
                    self.button(texts.BTN_RESUME, "resume"),
                    self.button(texts.BTN_RESTART, "restart"),
                    self.button(texts.BTN_CANCEL, "cancel"),
                )
            ]
        return self.step([*before, Reply("\n".join([*notes, text]), buttons=tuple(rows))])

    # --- review --------------------------------------------------------------------------

    def sections(self) -> list[tuple[str, list[str]]]:
        """The review's parts: (section key, its items), by whose data they are, in form order;
        then the papers ("photos") and the result's delivery ("delivery")."""
        parts: dict[str, list[str]] = {}
        for item in self.items():
            field = self.field_for(item)
            if item == fd.FILER:
                parts.setdefault(fd.REQUESTER, []).append(item)
            elif self.slot_for(item) is not None:
                parts.setdefault(PHOTOS, []).append(item)
            elif item in (fd.DELIVERY, fd.POSTAL_ADDRESS, fd.POSTAL_PHONE):
                parts.setdefault(DELIVERY, []).append(item)
            elif field is not None:
                # "copies", "phone": the dossier's, not a person's details
                own = bool(field.who) and field.name.startswith(f"{field.who}_")
                parts.setdefault(field.who if own else OTHER, []).append(item)
        ordered = [(k, v) for k, v in parts.items() if k not in (PHOTOS, DELIVERY)]
        ordered += [(k, parts[k]) for k in (PHOTOS, DELIVERY) if k in parts]
        return ordered

    def section_title(self, key: str) -> str:
        return texts.section_title(key)

    def item_line(self, item: str) -> tuple[str, str]:
        """(label, what it holds) for the review."""
        draft = self.draft
        answer = draft["answers"].get(item)
        if item == fd.FILER:
            return texts.REVIEW_FILER, answer["display"] if answer else texts.REVIEW_SKIPPED
        slot = self.slot_for(item)
        if slot is not None:
            count = len(draft["files"].get(slot.name, []))
            sent = draft["status"].get(item) == fd.DONE and count
            return slot.label, texts.photo_count(count) if sent else texts.REVIEW_NOT_SENT
        if item == fd.DELIVERY:
            post = fd.delivery_of(draft) == fd.POST
            return texts.REVIEW_DELIVERY, texts.DELIVERY_POST if post else texts.DELIVERY_COUNTER
        field = self.field_for(item)
        assert field is not None
        title = {fd.POSTAL_ADDRESS: texts.REVIEW_POSTAL_ADDRESS}.get(item)
        title = title or {fd.POSTAL_PHONE: texts.REVIEW_POSTAL_PHONE}.get(item)
        shown = answer["display"] if answer is not None else texts.REVIEW_SKIPPED
        if answer is not None and field.kind == "number":  # "1 bản sao", not a bare "1"
            shown = fa.phrase(field, answer["value"], shown)
        if answer is not None and "from" in answer:
            shown = texts.from_filer(shown)
        return title or self.worded(field, fa.short_label(field)), shown

    def phrase_of(self, item: str) -> str:
        """An item's answer as it reads without its question ("dân tộc Kinh", "1 bản sao")."""
        field = self.field_for(item)
        answer = self.draft["answers"].get(item)
        if field is None or answer is None or not item.startswith(fd.FIELD_PREFIX):
            return self.item_line(item)[1]
        return fa.phrase(field, answer["value"], answer["display"])

    def review(self, notes: Sequence[str] = ()) -> list[Reply]:
        """One phone screen (360 × 640 px in the web chat): who the dossier is for, one line of
        what goes with it, «Gửi hồ sơ» first, then a short button per section to open it (two
        to a line), the delivery and cancel. The notes of the last answer come before it, in
        their own message, so the review starts at the top of the screen."""
        draft = self.draft
        lines = [texts.review_title(draft["name"])]
        sections = self.sections()
        head = self.review_head(sections)
        if head:
            lines.append(f"{ctexts.BULLET} {head}")
        facts = self.review_facts(sections)
        if facts:
            lines.append(f"{ctexts.BULLET} {facts}")
        lines.append(texts.REVIEW_FOOTER)
        rows: list[tuple[Button, ...]] = [(self.button(texts.BTN_SEND, "send"),)]
        openers = [
            self.button(texts.btn_open(texts.section_button(key)), "sec", key)
            for key, _ in sections
            if key != DELIVERY or fd.delivery_of(draft) == fd.POST  # the address, to check
        ]
        rows += [tuple(openers[i : i + 2]) for i in range(0, len(openers), 2)]
        last = []
        if self.procedure.result_by_post:
            post = fd.delivery_of(draft) == fd.POST
            last.append(
                self.button(
                    texts.BTN_TO_COUNTER if post else texts.BTN_TO_POST,
                    "deliver",
                    fd.COUNTER if post else fd.POST,
                )
            )
        last.append(self.button(texts.BTN_CANCEL, "cancel"))
        rows.append(tuple(last))
        replies = [Reply(part) for part in split_text("\n".join(notes))] if notes else []
        replies.append(Reply("\n".join(lines), buttons=tuple(rows)))
        return replies

    def review_head(self, sections: Sequence[tuple[str, list[str]]]) -> str:
        """Whom the dossier is about, by name ("Cháu: Nguyễn Văn An"), else who files."""
        assert self.procedure.form is not None
        found = dict(sections)
        for key in (self.procedure.form.subject, fd.REQUESTER):
            names = [
                i
                for i in found.get(key, [])
                if (f := self.field_for(i)) is not None
                and f.kind == "name"
                and i in self.draft["answers"]
            ]
            if names:
                shown = self.draft["answers"][names[0]]["display"]
                return f"{self.section_title(key)}: {shown}"
        return ""

    def review_facts(self, sections: Sequence[tuple[str, list[str]]]) -> str:
        """The papers sent, the numbers asked ("1 bản sao") and how the result comes back."""
        parts: list[str] = []
        photos = sum(
            len(self.draft["files"].get(s.name, []))
            for s in self.photos
            if self.draft["status"].get(fd.photo_item(s.name)) == fd.DONE
        )
        if self.photos:
            parts.append(texts.photo_count(photos) if photos else texts.REVIEW_NO_PHOTOS)
        for _, keys in sections:
            for item in keys:
                field = self.field_for(item)
                if field is not None and field.kind == "number" and item in self.draft["answers"]:
                    parts.append(self.phrase_of(item))
        if self.procedure.result_by_post:
            post = fd.delivery_of(self.draft) == fd.POST
            parts.append(texts.REVIEW_BY_POST if post else texts.REVIEW_AT_COUNTER)
        return texts.review_facts(parts)

    def section(self, key: str) -> Reply | None:
        """One section of the review, opened: every item with a button to change it."""
        found = dict(self.sections()).get(key)
        if found is None:
            return None
        keys = self.items()
        lines = [f"{self.section_title(key)}:"]
        rows: list[tuple[Button, ...]] = [(self.button(texts.BTN_SEND, "send"),)]
        for item in found:
            label, shown = self.item_line(item)
            lines.append(f"{ctexts.BULLET} {label}: {shown}")
            slot = self.slot_for(item)
            edit = texts.btn_edit_photo(label) if slot is not None else texts.btn_edit(label)
            rows.append((self.button(edit, "edit", keys.index(item)),))
            if slot is not None and not slot.required and self.draft["files"].get(slot.name):
                rows.append((self.button(texts.btn_drop(label), "drop", slot.name),))
        rows.append((self.button(texts.BTN_TO_REVIEW, "review"),))
        return Reply("\n".join(lines), buttons=tuple(rows))

    # --- storing -----------------------------------------------------------------------------

    def store(
        self, item: str, value: Any, display: str, notes: Sequence[str] = (), *, sure: bool = False
    ) -> Step:
        self.put(item, value, display, sure=sure)
        return self.stored(notes)

    def put(self, item: str, value: Any, display: str, *, sure: bool = False) -> bool:
        """Keep one answer (no question asked yet: see :meth:`stored`); False when it is
        held back instead, for the one question about a name typed without tone marks."""
        if not sure and self.hold_bare_name(item, value):
            return False
        self.draft["answers"][item] = {"value": value, "display": display}
        if sure:  # confirmed although it disagreed with another answer: not questioned again
            self.draft["answers"][item]["sure"] = True
        sub = self.draft["sub"]
        if sub is not None and sub["item"] == item:
            sub = None
        fd.set_status(self.draft, item, fd.ANSWERED)
        if sub is not None and sub["stage"] == "tones":  # the name held on the same line
            self.draft["sub"] = sub
        self.draft["late"] = [n for n in self.draft.get("late", []) if n != item]
        field = self.field_for(item)
        if field is not None and field.late_after_days is not None and isinstance(value, str):
            try:
                day = date.fromisoformat(value)
            except ValueError:
                return True
            if (fa.today_of(self.ctx.now) - day).days > field.late_after_days:
                self.draft["late"] = [*self.draft["late"], item]
        return True

    def hold_bare_name(self, item: str, value: Any) -> bool:
        """A name typed without any tone mark ("tran van nam") is asked about once: the usual
        spelling offered ("Trần Văn Nam?") when every word has one, else a retype with marks;
        keeping it as typed is always a button. Never asked twice for the same question."""
        field = self.field_for(item)
        asked = self.draft.setdefault("toned", [])
        if field is None or field.kind != "name" or item in asked:
            return False
        if not isinstance(value, str) or not fa.lacks_tones(value):
            return False
        toned = fa.toned_name(value)
        if toned == value:  # "Mai Minh Trung": written without marks anyway
            return False
        asked.append(item)
        question = texts.bare_name_question(value, toned)
        held = {"value": value, "display": value, "toned": toned or ""}
        self.draft["sub"] = {"item": item, "stage": "tones", "text": question, "value": held}
        return True

    def stored(self, notes: Sequence[str] = ()) -> Step:
        """After answers were kept: what follows from them, then the next question."""
        extra = list(notes)
        for item in self.draft.get("late", []):
            field = self.field_for(item)
            if field is not None and field.late_note and item not in self.draft.get("told", []):
                extra.append(field.late_note)
                self.draft["told"] = [*self.draft.get("told", []), item]
        assert self.procedure.form is not None
        filled = fd.sync_parties(self.procedure.form, self.draft)
        if filled:
            party = fd.party_of(self.procedure.form, self.draft)
            shown = [self.draft["answers"][fd.field_item(n)]["display"] for n in filled]
            extra.append(texts.filled_from_filer(texts.subject(party), shown))
        return self.ask([*extra, *self.recheck_ids()])

    def recheck_ids(self) -> list[str]:
        """An ID number checked against a birth date or sex that has since changed (or become
        known, as the requester's relation) is asked again: the draft never holds a value its
        checks would now question, unless the citizen kept it on purpose ("sure")."""
        notes: list[str] = []
        answers = fd.field_answers(self.draft)
        today = fa.today_of(self.ctx.now)
        for field in self.fields:
            if field.kind != "id_number" or field.name not in answers:
                continue
            if answers[field.name].get("sure"):
                continue
            number = str(answers[field.name]["value"])
            result = fa.check_answer(field, number, self.fields, answers, today)
            item = fd.field_item(field.name)
            if isinstance(result, v.Invalid):
                copied = "from" in answers[field.name]  # its source is asked again instead
                fd.clear_item(self.draft, item)
                if not copied:
                    notes += [texts.ID_RECHECK, result.message]
                continue
            doubt = fa.doubt_of(field, number, self.fields, answers)
            if doubt is None:
                continue
            if "from" in answers[field.name]:
                # Copied from the filer's answer: that one is questioned; the copy follows it.
                fd.clear_item(self.draft, item)
                continue
            held = dict(answers[field.name])
            fd.clear_item(self.draft, item)
            notes.append(texts.ID_RECHECK)
            if self.draft["sub"] is None:  # asked now, with its buttons; any other one later
                self.draft["focus"] = item
                self.draft["sub"] = {
                    "item": item,
                    "stage": "doubt",
                    "text": doubt,
                    "value": {"value": number, "display": str(held["display"])},
                }
            else:
                notes.append(doubt)
        return notes

    def store_field(self, item: str, field: FormField, result: v.Valid) -> Step:
        doubt = fa.doubt_of(field, result.value, self.fields, fd.field_answers(self.draft))
        if doubt is not None:  # the cross-field check: asked, never refused
            held = {"value": str(result.value), "display": result.display}
            return self.hold_for_confirmation(item, "doubt", doubt, held)
        if item == fd.DELIVERY:
            post = result.value == texts.BTN_POST
            value = fd.POST if post else fd.COUNTER
            display = texts.DELIVERY_POST if post else texts.DELIVERY_COUNTER
            return self.store(item, value, display)
        return self.store(item, result.value, result.display)

    # --- answering questions mid-form ------------------------------------------------------

    def brief_answer(self, text: str) -> str:
        found = qa.pick(
            self.ctx.search.search(qa.query_of(text), limit=qa.SEARCH_LIMIT), self.ctx.catalogue
        )
        topic = fa.topic_of(text)
        other = found[0] if found and found[0].code != self.procedure.code else None
        procedure = other or self.procedure
        lines = [texts.about(procedure.name)]
        if other is None and topic is fa.Topic.PAPERS:
            filed = [p.name for p in procedure.papers if not p.show_only]
            if filed:
                lines.append(ctexts.CARD_PAPERS)
                lines += [f"{ctexts.BULLET} {name}" for name in filed]
            else:
                lines.append(ctexts.CARD_PAPERS_UNKNOWN)
        elif other is None and topic is fa.Topic.WHERE:
            lines.append(
                ctexts.card_where(procedure.handled_by)
                if procedure.handled_by
                else texts.ANSWER_WHERE
            )
        elif other is None and topic is fa.Topic.FEE:
            lines.append(_fee_line(procedure))
        elif other is None and topic is fa.Topic.TIME:
            lines.append(_time_line(procedure))
        else:
            lines += [_fee_line(procedure), _time_line(procedure)]
        return "\n".join(lines)

    def answer_then_ask(self, text: str) -> Step:
        return self.ask([texts.CONTINUE], before=[Reply(self.brief_answer(text))])

    def strong_hit(self, text: str) -> bool:
        hits = self.ctx.search.search(qa.query_of(text), limit=qa.SEARCH_LIMIT)
        return (
            bool(hits)
            and max(h.score for h in hits) >= STRONG_HIT
            and bool(qa.pick(hits, self.ctx.catalogue))
        )


def _fee_line(procedure: Procedure) -> str:
    fee = procedure.fee
    if fee is None:
        return ctexts.CARD_FEE_UNKNOWN
    if fee.text:
        return ctexts.card_fee(fee.text)
    if fee.amount_vnd:
        return ctexts.card_fee(ctexts.vnd(fee.amount_vnd))
    if fee.amount_vnd == 0 and not fee.set_by_province:
        return ctexts.CARD_FEE_FREE
    return ctexts.CARD_FEE_ONLY_BY_PROVINCE if fee.set_by_province else ctexts.CARD_FEE_UNKNOWN


def _time_line(procedure: Procedure) -> str:
    if procedure.processing_text:
        return ctexts.card_time(procedure.processing_text)
    if procedure.processing_days is not None:
        return ctexts.card_time(ctexts.working_days(procedure.processing_days))
    return ctexts.CARD_TIME_UNKNOWN

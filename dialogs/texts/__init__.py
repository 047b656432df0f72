"""The message catalogue: every sentence the assistant says, in plain, polite Vietnamese.

One module per part of the conversation (``common`` for menus, questions and answer cards);
callers import the module they need, e.g. ``from dialogs.texts import common as texts``.
"""

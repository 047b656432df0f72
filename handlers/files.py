"""What every channel's attachment fetcher shares: one download cap and one way to say "too big".

``bot/`` fetches a user's file through the channel it came from, then checks it. A fetcher that
meets a file over the cap raises :class:`FileTooLarge` (ideally before downloading it), and the
photo check tells the citizen "too large" whichever channel it was.
"""

from __future__ import annotations

MAX_DOWNLOAD = 20 * 1024 * 1024  # Telegram's getFile cap (20 MiB); the same bound everywhere


class FileTooLarge(Exception):
    """The attachment is over the download cap."""

"""Where the back office's REST API lives: shared by the server (api) and its client, so
that the client does not load the web framework to learn one string."""

from __future__ import annotations

PREFIX = "/api/v1"

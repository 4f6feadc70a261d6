"""The Markdown helpers now live in :mod:`assistant.chat.markdown`; kept for old imports."""

from assistant.chat.markdown import LINE_BREAK, continued, escape

__all__ = ["LINE_BREAK", "continued", "escape"]

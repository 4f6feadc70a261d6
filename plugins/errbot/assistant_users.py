"""The chat rules every chat front end shares now live in :mod:`assistant.chat.users`; kept for old imports."""

from assistant.chat.users import (
    ChatUsers,
    FinetuneBusy,
    FinetuneTicket,
    Learnable,
    MessageTooLong,
    UserStatus,
    learning,
    set_learning,
    user_key,
)

__all__ = [
    "ChatUsers",
    "FinetuneBusy",
    "FinetuneTicket",
    "Learnable",
    "MessageTooLong",
    "UserStatus",
    "learning",
    "set_learning",
    "user_key",
]

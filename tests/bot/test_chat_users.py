"""Many chat users on one bot: memory stays bounded (idle users' spaces and predictors are evicted), an evicted
user loses nothing, and every predictor over one model shares its tokenizer's tables."""

from __future__ import annotations

from pathlib import Path

from assistant.chat.users import ChatUsers, set_learning
from assistant.decode.wordsearch import PieceIndex


def test_idle_users_are_evicted_and_come_back_with_what_they_taught(tiny_model_dir: Path, tmp_path: Path) -> None:
    users = ChatUsers(tmp_path / "chat", tiny_model_dir, cache_size=2)
    names = [f"user{i}" for i in range(6)]
    for name in names:
        set_learning(users.space(name), True)
        users.learn(name, f"The zorb{name} glows at night. A zorb{name} hums.")
        users.suggest(name, "the old ", 3)
    spaces = users.spaces
    assert len(spaces._slots) == 2 and len(spaces._spaces) <= 3  # the two cached, and at most the one in use
    first = users.suggest(names[0], "I saw the zorb", 5)  # evicted long ago: reloaded from disk
    assert "zorbuser0" in [c.word for c in first.words]
    assert "zorbuser0" not in [c.word for c in users.suggest(names[1], "I saw the zorb", 5).words]
    with spaces.predictor(names[0]) as a, spaces.predictor(names[1]) as b:
        assert a is not b and a.search.index is b.search.index is PieceIndex.of(a.tokenizer)
    users.close()

"""mtakit.Reply and mtakit.Verdict, built from Python."""

from __future__ import annotations

import pytest

from mtakit import Reply, Verdict


def test_a_reply_from_its_parts_and_from_text() -> None:
    r = Reply(550, "5.7.1", "Relaying denied")
    assert (r.code, r.enhanced_code, r.lines) == (550, "5.7.1", ["Relaying denied"])
    assert str(r) == "550 5.7.1 Relaying denied"
    assert Reply.parse("550 5.7.1 Relaying denied") == r
    assert not r.is_positive and Reply(250, None, "OK").is_positive


def test_a_multi_line_reply() -> None:
    r = Reply(250, None, ["first", "second"])
    assert r.lines == ["first", "second"]
    assert str(r) == "250-first\r\n250 second"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((99, None, "x"), "bad reply"),
        ((550, "4.7.1", "x"), "bad reply"),
        ((550, "x.y", "x"), "not an enhanced status code"),
        ((550, None, "a\r\nb"), "bad reply"),
    ],
)
def test_bad_replies_raise_value_error(args: tuple[int, str | None, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Reply(*args)


def test_bad_reply_text_raises() -> None:
    with pytest.raises(ValueError, match="not an SMTP reply"):
        Reply.parse("hello")
    with pytest.raises(TypeError, match="str or a list of str"):
        Reply(250, None, 42)  # type: ignore[arg-type]


def test_verdicts() -> None:
    assert Verdict.accept().accepted and Verdict.accept().reply is None
    v = Verdict.reject("550 5.1.1 No such user")
    assert not v.accepted and v.reply == Reply(550, "5.1.1", "No such user")
    d = Verdict.disconnect()
    assert d.closes and not d.accepted
    assert Verdict.disconnect((421, "4.7.0 Bye")).reply == Reply(421, "4.7.0", "Bye")
    with pytest.raises(TypeError, match="a reply must be"):
        Verdict.reject(42)  # type: ignore[arg-type]

"""Student-controlled text on the instructor's screen: fallbacks and the one escape."""

from __future__ import annotations

import html
import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streamlit_dashboard import display

pytestmark = pytest.mark.unit

PHISHING = "x\n\n[Session expired, sign in](https://evil.example)"
HOSTILE = [
    PHISHING,
    "**bold** __b__ *i* _i_ ~~s~~ `code` ```fence```",
    "<script>alert(1)</script><img src=x onerror=alert(1)>",
    ":red[red] :blue-background[x] :material/home: :smile: :+1:",
    "$x^2$ $$\\int$$",
    "# heading\n- list\n> quote\n1. item\n| a | b |\n|---|---|",
    "https://evil.example www.evil.example mail@evil.example",
    "back\\slash &amp; &lt;b&gt; &#42;",
    "\u202eevil\u202c \x00nul \x1b[31m \u2028sep",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_escaped_text_holds_no_markup_character(text: str) -> None:
    out = display.md(text)
    bare = out.replace("&#", "").replace(";", "")  # what is left besides the references
    assert not set(bare) & (set(string.punctuation) - {"&", "#", ";"})
    assert "&" not in bare and "\n" not in out


@given(st.text())
def test_escape_decodes_back_to_the_cleaned_text(text: str) -> None:
    out = display.md(text)
    assert html.unescape(out).replace(display.JOINER, "") == display.clean(text)
    assert all(c.isprintable() or c in "\u200c\u200d\u2060" for c in out)
    assert not set(out) & (set(string.punctuation) - {"&", "#", ";"})


@pytest.mark.parametrize(
    "text", ["see https://evil.example now", "WWW.evil.example", "mail ada@evil.example", ":smile:"]
)
def test_decoded_text_holds_no_autolink_or_shortcode(text: str) -> None:
    # GFM's autolinks and Streamlit's :emoji: run on the text after Markdown decoded it.
    decoded = html.unescape(display.md(text))
    for pattern in ("://", "www.", "WWW.", "@e", ":s"):
        assert pattern not in decoded


@given(st.text())
def test_clean_is_one_line_and_idempotent(text: str) -> None:
    once = display.clean(text)
    assert display.clean(once) == once
    assert "\n" not in once and once == once.strip()


def test_phishing_link_becomes_one_line_of_text() -> None:
    assert display.clean(PHISHING) == "x [Session expired, sign in](https://evil.example)"
    assert "](" not in display.md(PHISHING) and "https:" not in display.md(PHISHING)


def test_emoji_and_other_scripts_pass_unchanged() -> None:
    for text in ("Zoë Müller", "李雷", "👩‍💻 Ada", "Sam 🙋🏽"):
        assert display.md(text) == text


def test_missing_name_falls_back_to_the_id() -> None:
    assert display.name({"student_id": "u42", "name": None}) == "u42"
    assert display.name({"student_id": "u42", "name": "  \n "}) == "u42"
    assert display.name({"student_id": "u42", "name": "Kai"}) == "Kai"
    assert display.name({}) == display.UNKNOWN


def test_missing_team_and_values_get_a_placeholder() -> None:
    assert display.team({"team": None}) == display.NO_TEAM
    assert display.team({"team": "Team 1"}) == "Team 1"
    assert display.text(None) == display.BLANK
    assert display.text("lab1.ipynb") == "lab1.ipynb"


@pytest.mark.parametrize(
    ("index", "shown"),
    [(0, "1"), (11, "12"), (None, "—"), (-1, "—"), (True, "—"), (2**70, "—"), ("3", "—")],
)
def test_cell_number_is_one_based_or_a_placeholder(index: object, shown: str) -> None:
    assert display.cell_number(index) == shown


@given(st.one_of(st.none(), st.text(), st.integers()))
def test_sort_key_always_compares(value: object) -> None:
    assert isinstance(display.sort_key(value), str)
    assert sorted([display.sort_key(value), display.sort_key(None)])

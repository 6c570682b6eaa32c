"""A pack as an Anki deck package (.apkg), written with genanki.

The note type carries the question, the answer, the key points and the tags, in the pack's
language, in English, or both side by side. Note type, deck and note ids are derived from stable
names, so importing a newer export into Anki updates the notes instead of duplicating them.
"""

from __future__ import annotations

import hashlib
import html
from collections.abc import Sequence
from pathlib import Path

import genanki

from bot.content.formats import Language, markdown_to_html
from bot.content.seed_import import replacing
from bot.core.models import Question

_CSS = """\
.card { font-family: -apple-system, "PingFang SC", "Noto Sans CJK SC", sans-serif;
        font-size: 18px; line-height: 1.5; text-align: left; color: #222; background: #fff; }
.question { font-size: 20px; font-weight: 600; }
.english { color: #555; margin-top: 0.5em; }
.key-points { border-top: 1px solid #ccc; margin-top: 1em; padding-top: 0.5em; }
.tags { color: #888; font-size: 14px; margin-top: 1em; }
pre { background: #f4f4f4; padding: 0.6em; overflow-x: auto; text-align: left;
      white-space: pre-wrap; }
code { font-family: "JetBrains Mono", Menlo, Consolas, monospace; font-size: 15px; }
table { border-collapse: collapse; }
td, th { border: 1px solid #ccc; padding: 0.2em 0.5em; }
.nightMode .card, .night_mode .card { color: #eee; background: #222; }
.nightMode pre, .night_mode pre { background: #333; }
"""

_FIELDS = ("Question", "Answer", "Key points", "Tags", "Source", "Id")
_BILINGUAL_FIELDS = (
    "Question", "Answer", "Key points", "Question (English)", "Answer (English)",
    "Key points (English)", "Tags", "Source", "Id",
)
_KEY_POINTS = '{{#Key points}}<div class="key-points">{{Key points}}</div>{{/Key points}}'
_FOOTER = '{{#Tags}}<div class="tags">{{Tags}} · {{Source}}</div>{{/Tags}}'


def _model(bilingual: bool) -> genanki.Model:
    if bilingual:
        english_question = ('{{#Question (English)}}<div class="question english">'
                            '{{Question (English)}}</div>{{/Question (English)}}')
        english_answer = ('{{#Answer (English)}}<hr><div class="english">{{Answer (English)}}'
                          '{{#Key points (English)}}<div class="key-points">'
                          '{{Key points (English)}}</div>{{/Key points (English)}}'
                          '</div>{{/Answer (English)}}')
        front = f'<div class="question">{{{{Question}}}}</div>{english_question}'
        back = f'{{{{FrontSide}}}}<hr id="answer">{{{{Answer}}}}{_KEY_POINTS}{english_answer}'
        name, fields = "studybot question (bilingual)", _BILINGUAL_FIELDS
    else:
        front = '<div class="question">{{Question}}</div>'
        back = f'{{{{FrontSide}}}}<hr id="answer">{{{{Answer}}}}{_KEY_POINTS}'
        name, fields = "studybot question", _FIELDS
    return genanki.Model(
        _stable_id(name),
        name,
        fields=[{"name": field} for field in fields],
        templates=[{"name": "Card 1", "qfmt": front, "afmt": back + _FOOTER}],
        css=_CSS,
        # Anki sorts and checks duplicates on the first field; the id keeps notes apart.
        sort_field_index=0,
    )


def _stable_id(name: str) -> int:
    # Anki wants ids that never change for the same deck or note type; genanki suggests 2**30+.
    return (1 << 30) + int(hashlib.sha1(name.encode("utf-8")).hexdigest(), 16) % (1 << 30)


def build_deck(
    questions: Sequence[Question], pack_id: str, deck_name: str, language: Language
) -> genanki.Deck:
    bilingual = language == "both"
    model = _model(bilingual)
    deck = genanki.Deck(_stable_id(f"studybot deck {pack_id} {language}"), deck_name)
    for q in questions:
        if bilingual:
            has_english = q.language != "en" and bool(q.title_en and q.answer_en)
            english = (q.title_en, q.answer_en, q.key_points_en) if has_english else ("", "", ())
            fields = [*_side(q.title, q.answer, q.key_points), *_side(*english)]
        else:
            fields = list(_side(*q.localized(language)))
        fields += [html.escape(" ".join(q.tags)), html.escape(q.source), html.escape(q.id)]
        deck.add_note(genanki.Note(
            model=model,
            fields=fields,
            tags=list(q.tags),
            guid=genanki.guid_for("studybot", q.id, language),
        ))
    return deck


def _side(title: str, answer: str, key_points: Sequence[str]) -> tuple[str, str, str]:
    points = "".join(f"<li>{html.escape(point)}</li>" for point in key_points)
    return (html.escape(title), markdown_to_html(answer) if answer else "",
            f"<ul>{points}</ul>" if points else "")


def write_package(
    questions: Sequence[Question], pack_id: str, deck_name: str, language: Language, path: Path
) -> None:
    """Write the deck to `path` in one step, so a failed export leaves no half-written file."""
    deck = build_deck(questions, pack_id, deck_name, language)
    with replacing(path) as tmp:
        genanki.Package(deck).write_to_file(str(tmp))

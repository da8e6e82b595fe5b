"""Snippets stop reading a description once past the passage they show: the passage and its marks are the
same as those of a reading of every word (the reference below), for matches at the start, in the middle, at
the end, repeated, or absent."""
import html
import random

from search.analysis import WORD_RE, analyse_query
from search.query import SNIPPET_LENGTH, marker, snippet


def whole_text_snippet(text: str, words, length: int = SNIPPET_LENGTH) -> str:
    """The passage found by marking every word of the text first, then cutting."""
    text = " ".join((text or "").split())
    if not text:
        return ""
    marks = marker(words)
    spans = [(m.start(), m.end()) for m in WORD_RE.finditer(text) if marks(m.group(0))] if marks else []
    start = 0
    if spans and spans[0][1] > length * 3 // 4:
        start = text.rfind(" ", 0, max(0, spans[0][0] - length // 4)) + 1
    end = len(text)
    if end - start > length:
        cut = text.rfind(" ", start, start + length)
        end = cut if cut > start else start + length
    out, pos = [], start
    for s, e in spans:
        if s < start or e > end:
            continue
        out += [html.escape(text[pos:s]), "<mark>", html.escape(text[s:e]), "</mark>"]
        pos = e
    out.append(html.escape(text[pos:end]))
    return ("…" if start else "") + "".join(out) + ("…" if end < len(text) else "")


FILLER = ("obiady dla szkół z dowozem w termosach, catering na spotkania i szkolenia, sprzątanie biur, "
          "koszenie trawy, pielęgnacja zieleni & <b>druk</b> ulotek; szycie toreb, naprawa rowerów").split()


def test_snippets_read_only_up_to_their_passage_and_match_a_whole_text_reading():
    rng = random.Random(7)
    queries = ["catering", "sprzątanie biur", "toreb", "druk", "rowerów szycie", "nic takiego", "obiad", ""]
    checked = 0
    for _ in range(300):
        text = " ".join(rng.choice(FILLER) for _ in range(rng.randint(0, 120)))
        for q in queries:
            words = analyse_query(q)
            assert snippet(text, words) == whole_text_snippet(text, words), (q, text)
            checked += 1
    long_tail = " ".join(["pielęgnacja"] * 200 + ["catering"])  # the only match at the very end
    assert snippet(long_tail, analyse_query("catering")).endswith("<mark>catering</mark>")
    assert checked == 2400

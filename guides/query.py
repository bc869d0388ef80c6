"""Query understanding: question and filler words, homophone correction through pinyin, lexicon forms."""
from __future__ import annotations

import functools
import io
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from guides.search_terms import syllables
from guides.synonyms import strip_colloquial

# Words wrapped around what a citizen asks for, stripped anywhere in the query ("去哪里办理结婚登记需要带
# 什么材料" → 结婚登记). Longest first. The literal query is always searched too, so an item whose name
# holds one of these words is still found by it.
FILLERS: tuple[str, ...] = tuple(sorted({
    "请问一下", "请问", "你好", "您好", "我想问", "我想知道", "想咨询", "咨询一下", "咨询",
    "我想办理", "我要办理", "我想申请", "我要申请", "我想办", "我要办", "我想", "我要", "我们", "我家",
    "怎么办理", "如何办理", "怎样办理", "怎么申请", "如何申请", "怎样申请", "怎么弄", "怎么搞", "怎么办",
    "如何办", "怎样办", "咋办", "咋弄", "怎么", "如何", "怎样", "咋",
    "去哪里办理", "去哪里办", "到哪里办", "在哪里办", "去哪儿办", "去哪办", "在哪办", "哪里办", "哪儿办",
    "去哪里", "到哪里", "在哪里", "去哪儿", "在哪儿", "哪里", "哪儿", "去哪", "在哪", "哪个部门", "什么部门",
    "需要带什么材料", "需要什么材料", "需要哪些材料", "要带什么材料", "要什么材料", "要哪些材料",
    "带什么材料", "什么材料", "哪些材料", "需要什么手续", "要什么手续", "什么手续", "需要什么条件",
    "什么条件", "哪些条件", "要办什么证", "需要办什么证", "要办什么手续", "需要办什么", "要办什么",
    "办什么证", "办什么", "需要哪些证", "要哪些证", "哪些证", "什么证", "需要带什么", "要带什么", "带什么",
    "需要什么", "需要哪些", "要什么", "要哪些", "多少钱", "多久", "多长时间", "能不能", "可不可以", "能否",
    "可以", "需要", "什么", "哪些", "流程", "手续", "材料", "条件", "步骤", "办法", "规定",
    "办理", "一下", "吗", "呢", "啊", "呀", "吧", "了", "的", "要", "想",
}, key=len, reverse=True))

MIN_KEPT = 2  # never strip a query below two characters: "办证" stays "办证"
MAX_FORMS = 12
WINDOWS = (4, 3, 2)  # lengths of the query windows tried against the vocabulary, longest first
_HAN = re.compile(r"[\u3400-\u9fff]")

# Near-miss readings merged before comparing (the usual 模糊音 of pinyin input methods): zh/z, ch/c,
# sh/s, n/l initials and -ng/-n finals.
_FUZZY = ((re.compile(r"^zh"), "z"), (re.compile(r"^ch"), "c"), (re.compile(r"^sh"), "s"),
          (re.compile(r"^n"), "l"), (re.compile(r"ng$"), "n"))


@functools.lru_cache(maxsize=None)  # a few hundred syllables; the regexes ran per window of every name
def fuzzy_syllable(s: str) -> str:
    """Return the syllable with the near-miss distinctions merged: zheng → zen, ning → lin."""
    for pattern, repl in _FUZZY:
        s = pattern.sub(repl, s)
    return s


def reading(text: str) -> str | None:
    """Return the fuzzy pinyin key of an all-Han text ("身份证" → "sen-fen-zen"), None if any is not Han."""
    sounds = syllables(text)
    if not sounds or any(s is None for s in sounds) or not all(_HAN.match(c) for c in text):
        return None
    return "-".join(fuzzy_syllable(s) for s in sounds)


def strip_fillers(text: str) -> str:
    """Return `text` without question and filler words; `text` itself when under MIN_KEPT would remain."""
    out = text
    for word in FILLERS:
        if word in out:
            rest = out.replace(word, "")
            if len(rest) >= MIN_KEPT:
                out = rest
    return out


class Vocabulary:
    """The windows (2–4 characters) of every indexed name, alias and lexicon word, by their fuzzy reading.

    Correction replaces a window of the query that occurs nowhere by a window that reads the same.
    """

    def __init__(self) -> None:
        self.windows: dict[str, int] = {}
        self.by_reading: dict[str, str] = {}
        self.words: dict[str, int] = {}  # whole names, aliases and lexicon words: the segmenter's dictionary
        self._segmenter = None
        self._lock = threading.Lock()

    def add(self, text: str, weight: int = 1) -> None:
        """Add the windows of one normalised text; a window seen more often wins a shared reading."""
        for run in re.findall(r"[\u3400-\u9fff]+", text):
            if len(run) > 1:
                self.words[run] = self.words.get(run, 0) + weight
                self._segmenter = None
            fuzzy = [None if p is None else fuzzy_syllable(p) for p in syllables(run)]
            for size in WINDOWS:
                for i in range(len(run) - size + 1):
                    window = run[i:i + size]
                    seen = self.windows.get(window, 0) + weight
                    self.windows[window] = seen
                    parts = fuzzy[i:i + size]
                    if None in parts:
                        continue
                    key = "-".join(parts)
                    best = self.by_reading.get(key)
                    if best is None or self.windows.get(best, 0) < seen:
                        self.by_reading[key] = window

    def prepare(self) -> None:
        """Build the segmenter now (a second or more for a province's words) rather than on a query."""
        if self.words:
            self.seams("")

    def seams(self, text: str) -> set[int]:
        """Return the positions i where text[i:i+2] joins two words of two or more characters.

        jieba segments with the indexed names, aliases and lexicon words as its only dictionary (so the
        item vocabulary decides, not a general corpus): 补领身份证 → 补领|身份证, and 领身 is no word of
        the query. Runs of single characters keep every bigram (the bigram index's recall).
        """
        with self._lock:
            if self._segmenter is None:
                import jieba  # loaded on first use, not at import: its module sets up logging and caches

                segmenter = jieba.Tokenizer()
                lines = "\n".join(f"{w} {n}" for w, n in self.words.items())
                # the dictionary from memory: no file of ours, no cache file written by jieba
                segmenter.FREQ, segmenter.total = segmenter.gen_pfdict(io.BytesIO(lines.encode("utf-8")))
                segmenter.initialized = True
                self._segmenter = segmenter
            segmenter = self._segmenter
        out, at, previous = set(), 0, 0
        for token in segmenter.lcut(text, HMM=False):
            if at and len(token) > 1 and previous > 1:
                out.add(at - 1)
            at += len(token)
            previous = len(token)
        return out

    def correct(self, text: str) -> str:
        """Return `text` with each unknown window replaced by the known window of the same reading."""
        sounds = syllables(text)
        out, i = [], 0
        while i < len(text):
            for size in WINDOWS:
                window = text[i:i + size]
                if len(window) < size or window in self.windows:
                    continue
                parts = sounds[i:i + size]
                if any(p is None for p in parts) or not all(_HAN.match(c) for c in window):
                    continue
                fixed = self.by_reading.get("-".join(fuzzy_syllable(p) for p in parts))
                if fixed and fixed != window:
                    out.append(fixed)
                    i += size
                    break
            else:
                out.append(text[i])
                i += 1
        return "".join(out)


@dataclass(frozen=True)
class Form:
    """One string the query stands for, and how it was reached (literal, stripped, corrected, lexicon)."""
    text: str
    how: str


def lexicon_forms(base: str, table: Mapping[str, Sequence[str]], how: str) -> list[Form]:
    """Return `base`, then `base` with each lexicon word in it replaced by each of its expansions."""
    out = [Form(base, how)]
    for word in sorted((w for w in table if w and w in base), key=len, reverse=True):
        for expansion in table[word]:
            if expansion in base:  # 居民身份证 already says 身份证's expansion
                continue
            out.append(Form(base.replace(word, expansion), "lexicon"))
    return out


def understand(text: str, table: Mapping[str, Sequence[str]], vocabulary: Vocabulary | None) -> tuple[
        list[Form], str | None]:
    """Return the forms of a normalised query and the corrected query when a homophone was fixed.

    Forms in order: the literal, the query without fillers, then the corrected query, each followed by
    its lexicon expansions; de-duplicated, at most MAX_FORMS.
    """
    stripped = strip_colloquial(strip_fillers(text))  # then the verbs around it: 办身份证 → 身份证
    corrected = vocabulary.correct(stripped) if vocabulary is not None else stripped
    bases = [(text, "literal"), (stripped, "stripped")]
    if corrected != stripped:
        bases.append((corrected, "corrected"))
    forms: list[Form] = []
    for base, how in bases:
        for form in lexicon_forms(base, table, how):
            if form.text and all(f.text != form.text for f in forms):
                forms.append(form)
    return forms[:MAX_FORMS], (corrected if corrected != stripped else None)

"""BM25's tokens, as chromadb 1.5.9's ``Bm25Tokenizer`` makes them.

Punctuation becomes space, the text is lowercased and split on whitespace; stopwords and
tokens longer than the limit are dropped, and the rest are stemmed with Snowball's English
stemmer; each stem is then identified by its murmur3 hash. Every step is the one chromadb
takes (the same regular expression, ``str.lower``/``str.split``, the same stemmer library),
because a sparse vector's indices are only comparable with chromadb's if the tokens are
identical.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterable
from typing import Any, Final

import mmh3
import snowballstemmer

# chromadb's stopwords (NLTK's English list). Those with an apostrophe never match: the
# apostrophe is punctuation, removed before the lookup. Kept for an identical config.
DEFAULT_ENGLISH_STOPWORDS: Final[list[str]] = """
a about above after again against ain all am an and any are aren aren't as at be because
been before being below between both but by can couldn couldn't d did didn didn't do does
doesn doesn't doing don don't down during each few for from further had hadn hadn't has hasn
hasn't have haven haven't having he her here hers herself him himself his how i if in into
is isn isn't it it's its itself just ll m ma me mightn mightn't more most mustn mustn't my
myself needn needn't no nor not now o of off on once only or other our ours ourselves out
over own re s same shan shan't she she's should should've shouldn shouldn't so some such t
than that that'll the their theirs them themselves then there these they this those through
to too under until up ve very was wasn wasn't we were weren weren't what when where which
while who whom why will with won won't wouldn wouldn't y you you'd you'll you're you've your
yours yourself yourselves
""".split()  # noqa: SIM905 (a word list reads better as text)

_PUNCTUATION = re.compile(r"[^\w\s]+", flags=re.UNICODE)

# A Snowball stemmer keeps its working state on the object, so each thread gets its own.
_local = threading.local()


def _stemmer() -> Any:
    stemmer = getattr(_local, "stemmer", None)
    if stemmer is None:
        stemmer = _local.stemmer = snowballstemmer.stemmer("english")
    return stemmer


@functools.lru_cache(maxsize=1 << 16)
def stem(word: str) -> str:
    """Snowball's English stem of a lowercased `word`, stripped (possibly empty)."""
    return str(_stemmer().stemWord(word)).strip()


@functools.lru_cache(maxsize=1 << 16)
def token_id(token: str) -> int:
    """A token's sparse index: the absolute value of its signed 32-bit murmur3 hash, seed 0."""
    return abs(mmh3.hash(token, seed=0))


class Bm25Tokenizer:
    """Text to stems, with a stopword list and a length limit (checked before stemming)."""

    def __init__(self, stopwords: Iterable[str], token_max_length: int) -> None:
        self.stopwords = frozenset(word.lower() for word in stopwords)
        self.token_max_length = token_max_length

    def tokenize(self, text: str) -> list[str]:
        """The stems of `text`, in order, repeats kept."""
        stems = []
        for word in _PUNCTUATION.sub(" ", text).lower().split():
            if word in self.stopwords or len(word) > self.token_max_length:
                continue
            stemmed = stem(word)
            if stemmed:
                stems.append(stemmed)
        return stems

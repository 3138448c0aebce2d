"""Typed records that travel along the pipeline: Article → Passage → Hit → Answer."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Article:
    """A cleaned news article with its metadata; `body` holds paragraphs in the original script."""

    id: str
    title: str
    date: str | None
    source: str | None
    author: str | None
    url: str | None
    body: tuple[str, ...]
    origin: str = ""
    also_reported_by: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        """The body as one string, paragraphs joined by newlines; passage offsets point into it."""
        return "\n".join(self.body)

    def to_dict(self) -> dict:
        """A JSON-ready dict."""
        data = asdict(self)
        data["body"] = list(self.body)
        data["also_reported_by"] = list(self.also_reported_by)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> Article:
        """Rebuild an Article from `to_dict` output."""
        return cls(
            **{**data, "body": tuple(data["body"]), "also_reported_by": tuple(data.get("also_reported_by", ()))}
        )


@dataclass(frozen=True)
class Passage:
    """A span of one article's body, quoted verbatim; `start`/`end` are offsets into `Article.text`."""

    id: str
    article_id: str
    position: int
    start: int
    end: int
    text: str

    def to_dict(self) -> dict:
        """A JSON-ready dict."""
        return asdict(self)


@dataclass(frozen=True)
class Hit:
    """A passage ranked for a query, with the fused score and each retriever's raw score."""

    passage: Passage
    score: float
    bm25: float | None = None
    dense: float | None = None
    coverage: float = 0.0


@dataclass(frozen=True)
class Quote:
    """One quoted passage of an answer with the metadata shown beside it."""

    text: str
    title: str
    source: str | None
    date: str | None
    url: str | None
    article_id: str
    score: float
    passage_ids: tuple[str, ...] = ()

    def to_json(self) -> dict:
        """The public JSON fields of one result."""
        return {
            "text": self.text,
            "title": self.title,
            "source": self.source,
            "date": self.date,
            "url": self.url,
            "article_id": self.article_id,
            "score": round(self.score, 4),
        }


@dataclass(frozen=True)
class Answer:
    """The reply to a question: quotes in rank order, or an abstention."""

    question: str
    quotes: tuple[Quote, ...] = field(default_factory=tuple)
    abstained: bool = False
    note: str | None = None

    def to_json(self) -> dict:
        """The public JSON object printed by `ask --json`."""
        return {
            "question": self.question,
            "abstained": self.abstained,
            "results": [quote.to_json() for quote in self.quotes],
        }

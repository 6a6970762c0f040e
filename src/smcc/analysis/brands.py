"""Which configured brand (or competitor) a mention is about."""

from __future__ import annotations

from collections.abc import Sequence

from smcc.config import Brand
from smcc.models import Mention


class BrandTagger:
    """Tags each mention with the first brand or competitor whose name, keyword, hashtag or handle
    it contains (case-insensitive). A mention a source already tagged is left as it is."""

    def __init__(self, brands: Sequence[Brand], competitors: Sequence[Brand] = ()) -> None:
        self._terms = [
            (term.casefold(), brand.name)
            for brand in (*brands, *competitors)
            for term in brand.terms()
        ]

    def tag(self, text: str) -> str | None:
        """The first brand or competitor `text` names, or None."""
        folded = text.casefold()
        return next((name for term, name in self._terms if term in folded), None)

    def analyse(self, batch: list[Mention]) -> None:
        for mention in batch:
            if mention.brand is None:
                mention.brand = self.tag(mention.text)

"""Question detection in four languages and the influence formula."""

from __future__ import annotations

import pytest

from smcc.analysis.signals import influence, is_question
from smcc.models import Author, Engagement


@pytest.mark.parametrize(
    "text",
    [
        "Does @nusantel support eSIM yet?",
        "how do I cancel my subscription",
        "anyone know if the store in Leiden is open",
        "@nusantel kenapa sinyal hilang terus dari pagi",
        "apakah paket 30GB bisa dipakai di luar negeri",
        "min gimana cara cek kuota",
        "Почему списали 299 ₽",
        "Работает ли интернет в центре сейчас",
        "подскажите, где ближайший салон",
        "hoe kan ik mijn nummer meenemen",
        "Waarom is de app zo traag vandaag",
        "Weet iemand of de storing al voorbij is",
        "Great service. When do you open tomorrow",
        "¿Dónde está la tienda",
        "Sinyal Nusantel hilang lagi, kenapa ya",
    ],
)
def test_questions(text: str) -> None:
    assert is_question(text)


@pytest.mark.parametrize(
    "text",
    [
        "What a great service, thanks @nusantel!",
        "Sinyal Nusantel hilang lagi di Bandung, parah banget!",
        "Как же бесит этот интернет",
        "Какой же nusantel стал отвратительный.",
        "Wat een slechte service weer",
        "Read more https://example.com/post?id=42&utm_source=x",
        "5 years with nusantel and still happy",
        "#howto #why",
        "",
    ],
)
def test_not_questions(text: str) -> None:
    assert not is_question(text)


@pytest.mark.parametrize(
    "text",
    [
        # A handle first leaves a space in front once it is removed; the exclamation test must
        # still look at the words the sentence match found, not at text shifted by that space.
        "@nusantel what a mess today",
        "   What a day with this network",
        "@nusantel @help wat een slechte service weer",
        "#fail как же бесит этот интернет",
        "@nusantel thanks. What a relief, it works",
    ],
)
def test_exclamations_after_leading_space_or_handle(text: str) -> None:
    assert not is_question(text)


def test_influence_formula() -> None:
    nobody = Author(handle="a")
    assert influence(nobody) == 0.0
    million = Author(handle="b", followers=999_999)
    assert influence(million) == pytest.approx(0.7)
    star = Author(handle="c", followers=999_999, verified=True)
    viral = Engagement(likes=5_000, reposts=2_500)
    assert influence(star, viral) == pytest.approx(1.0, abs=1e-3)
    small, large = Author(handle="d", followers=1_000), Author(handle="e", followers=100_000)
    assert influence(small) < influence(large) < influence(million)
    assert 0.0 <= influence(small, Engagement(likes=3)) <= 1.0

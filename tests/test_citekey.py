"""Citation keys: Better BibTeX / Scholar style, a/b/c on clashes, checked on rename."""

from __future__ import annotations

import pytest

from index.citekey import CitekeyAllocator, ascii_fold, base_citekey, check_citekey, citekey_base


@pytest.mark.parametrize(
    ("authors", "year", "title", "expected"),
    [
        (["Ashish Vaswani", "Noam Shazeer"], 2017, "Attention Is All You Need",
         "vaswani2017attention"),
        (["Müller, Jörg"], 2020, "The Über Model", "muller2020uber"),
        (["Søren Østergård"], 2021, "Łódź Benchmarks", "ostergard2021lodz"),
        (["Martin Luther King Jr."], 1963, "A Dream", "king1963dream"),
        ([r'J{\"o}rg M\"uller'], 2022, r"Na\"{\i}ve Bayes", "muller2022naive"),
        ([], 2024, "On the Nature of Things", "2024nature"),
        (["Ann Lee"], None, "A Study", "leestudy"),
        ([], None, "The Of And", "paper"),
        (["李雷"], 2023, "Ψ-Net: Scaling", "2023net"),
    ],
)
def test_base_citekey(authors, year, title, expected):
    assert base_citekey(authors, year, title) == expected


def test_suffixes_on_clashes():
    taken = CitekeyAllocator({"lee2020study", "LEE2020STUDYA"})  # BibTeX ignores case
    assert taken.allocate(citekey_base(["Ann Lee"], 2020, "Study")) == "lee2020studyb"
    many = CitekeyAllocator({"x"} | {"x" + chr(c) for c in range(ord("a"), ord("z") + 1)})
    assert many.allocate("x") == "xaa"


def test_check_citekey():
    assert check_citekey("smith2024deep") is None
    assert check_citekey("a:b/c.d-e+f_g") is None
    for bad in ("", "has space", "brace{", "comma,", "x" * 101, "percent%", "hash#"):
        assert check_citekey(bad)


def test_ascii_fold():
    assert ascii_fold("Ærøskøbing Straße") == "aeroskobing strasse"

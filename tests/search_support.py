"""What the search tests share: a small library of papers with hard cases, and fixtures that
index it on each engine (a test module imports the fixtures it uses)."""

from __future__ import annotations

import pytest

from index.model import Paper
from index.search import ENGINES, SearchIndex


def paper(key, title, abstract="", authors=(), **kw):
    return Paper(key=key, title=title, abstract=abstract, authors=list(authors), **kw)


PAPERS = [
    paper("p:transformer", "Transformers for Image Recognition at Scale",
          "We apply a pure transformer to sequences of image patches.",
          ["Alexey Dosovitskiy", "Lucas Beyer"], year=2020, sources=["dailypapers:hf-2020.txt"],
          added=100.0),
    paper("p:diffusion", "Denoising Diffusion Probabilistic Models",
          "High quality image synthesis using diffusion probabilistic models.",
          ["Jonathan Ho", "Pieter Abbeel"], year=2020, sources=["bibtex:refs.bib"], added=200.0),
    paper("p:policy", "Diffusion Policy: Visuomotor Policy Learning via Action Diffusion",
          "A robot learns visuomotor policy with a conditional denoising process.",
          ["Cheng Chi", "Jürgen Müller"], year=2023, sources=["dailypapers:hf-2023.txt"],
          tags=["robotics"], added=300.0),
    paper("p:llm", "Large Language Models are Few-Shot Learners",
          "Scaling up language models greatly improves few-shot performance; large models.",
          ["Tom Brown"], year=2020, sources=["arxiv:2005.14165"], added=400.0,
          note="classic scaling paper"),
    paper("p:notadj", "Language Large: A Word Order Study",
          "We study large corpora of language but never the phrase in order.",
          ["Ana Núñez"], year=2021, sources=["bibtex:refs.bib"], added=500.0),
    paper("p:abstract-only", "A Survey of Sequence Models",
          "Transformers dominate; we survey attention and recurrent models for sequences.",
          ["Emily Stone"], year=2022, sources=["bibtex:other.bib"], added=600.0),
    paper("p:markup", "[@click=app.quit] Escaping [/] markup in titles",
          "Titles can carry [bold]markup[/bold] that must never run.",
          ["Mallory Evil"], year=2024, sources=["dailypapers:hf-2024.txt"], added=700.0),
]


@pytest.fixture(params=sorted(ENGINES))
def engine(request):
    return request.param


@pytest.fixture
def ix(tmp_path, engine):
    index = SearchIndex(tmp_path / "index", engine, writer_timeout=0.5)
    index.rebuild(PAPERS, total=len(PAPERS))
    yield index
    index.close()


def keys(result):
    return result.keys


@pytest.fixture
def library(tmp_path, engine):
    from index.library import Library
    from index.model import PaperRecord

    lib = Library.open(tmp_path / "lib", engine=engine)
    lib.add([PaperRecord(title=p.title, abstract=p.abstract, authors=p.authors, year=p.year,
                         source=(p.sources or ["bibtex:x.bib"])[0]) for p in PAPERS])
    yield lib
    lib.close()

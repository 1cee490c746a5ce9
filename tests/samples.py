"""Sample Hugging Face Daily Papers pages, built from invented papers, for any test to use.

Import it from a test module as ``from samples import dense_page, spaced_page, SAMPLE_PAPERS``
(pytest puts tests/ on sys.path because tests/ has no __init__.py; ``from tests.samples import``
also works when pytest is run as ``python -m pytest`` from the repository root).

Every title and abstract here is invented. They copy the *shapes* of real pages, never their
sentences. The two page shapes (see docs/ARCHITECTURE.md) are:

* ``dense_page(pairs)``: no blank lines, two banner lines, "Subscribe" glued to the first title,
  then title and abstract lines alternate; ends with a newline.
* ``spaced_page(pairs, date="Aug 20")``: a blank line between all lines; banner lines "new",
  "Get trending papers in your email inbox!", "Subscribe", "Daily Papers", "byAK and the
  research community", the listing date, then titles and abstracts; no final newline.

``pairs`` is a list of ``(title, abstract)`` tuples. ``SAMPLE_PAPERS`` holds hard cases
(LaTeX fragments, URLs with trailing punctuation, [Re] and [2016], non-ASCII, Textual markup
look-alikes). ``make_papers(n)`` invents ``n`` distinct ordinary papers for big pages.
``line_of(page, text)`` gives the 1-based number of the first line containing ``text``.
"""

from __future__ import annotations

import random

Pair = tuple[str, str]

DENSE_BANNER = [
    "Get trending papers in your email inbox once a day!",
    "Get trending papers in your email inbox!",
]
SPACED_BANNER = [
    "new",
    "Get trending papers in your email inbox!",
    "Subscribe",
    "Daily Papers",
    "byAK and the research community",
]
BANNER_LINES = frozenset(DENSE_BANNER + SPACED_BANNER)

# Invented papers with the hard cases real pages contain. Titles are distinct (by paper key).
SAMPLE_PAPERS: list[Pair] = [
    (
        "Lantern: Sparse Routing for Low-Light Video Restoration",
        "Restoring video captured in near darkness remains difficult because noise dominates the "
        "signal. We present Lantern, a sparse routing network that sends each patch to one of "
        "eight specialised experts. Lantern improves PSNR by 1.8 dB over strong baselines while "
        "using half the compute. Code is available at https://github.com/example-lab/lantern.",
    ),
    (
        "Robust Training under {\\epsilon}-Contamination with Na\\\"{\\i}ve Priors",
        "We study learning when an {\\epsilon} fraction of labels is adversarial. Surprisingly, "
        "a na\\\"{\\i}ve prior combined with a trimmed loss matches specialised estimators. We "
        "prove a bound that scales with \\mone and verify it on five benchmarks; see "
        "(https://example.org/robust-eps) and https://example.org/wiki/Loss_(statistics), "
        "both updated in [2016].",
    ),
    (
        "[Re] Reproducing Gradient Surgery for Multi-Task Learning",
        "[Re] reports an independent reproduction of a gradient surgery method for multi-task "
        "learning. We re-implement the method from the paper alone and match four of the five "
        "headline numbers. Our code lives at https://example.com/re-surgery; the original "
        "authors' code at https://example.com/orig?id=7&v=2, was not needed.",
    ),
    (
        "Ψ-Net: Wavefunction Priors for Molecular Property Prediction",
        "We introduce Ψ-Net, a graph network whose hidden states are constrained to behave like "
        "wavefunctions. On three quantum chemistry datasets Ψ-Net reduces error by 12% and "
        "generalises to molecules twice as large as those seen in training (code: "
        "https://psi-net.example.io/).",
    ),
    (
        "Über-Tokens: Compressing Context with π-Shaped Attention",
        "Long contexts are expensive. We propose Über-tokens, summary tokens placed by a "
        "π-shaped attention mask, which let a 1B model read 64k tokens with a 4k window. "
        "Ablations show the shape of the mask matters more than the number of summary tokens. "
        "Project page: <https://uber-tokens.example.net/demo>.",
    ),
    (
        "Do Agents Dream of Terminal Markup? A Study of Escaping in Text Interfaces",
        "Terminal interfaces often parse text as markup, so a title like [bold]x[/] changes "
        "style and [@click=app.quit]x[/] may even run an action. We survey twelve libraries and "
        "find that most escape helpers miss at least one case, e.g. [ @click=app.bell]. We "
        "propose rendering untrusted text as plain content.",
    ),
    (
        "[@click=app.quit]Quit[/]: Adversarial Titles for Terminal Readers",
        "We collect titles that look like markup to test readers. A safe reader shows them "
        "exactly as written, including [b]bold[/b] and [/] closers, and never runs them.",
    ),
    (
        "Liquid State Planning vs. Model Predictive Control for Soft Robots",
        "Soft robots deform continuously, which makes their control hard. We compare a liquid "
        "state planner against model predictive control on three grippers. The planner is "
        "faster, but MPC remains more precise; videos at https://example.edu/soft-robots, "
        "https://example.edu/soft-robots/appendix.pdf; and https://example.edu/data:",
    ),
    (
        "Small Models, Long Proofs",
        "We ask whether a 300M-parameter model can produce proofs of fifty steps or more. With "
        "curriculum sampling and a verifier in the loop, it can",
    ),
    (
        "When Does Chain-of-Thought Help Tabular Reasoning?",
        "Chain-of-thought prompting helps on some table tasks and hurts on others. We analyse "
        "twenty datasets and find that the benefit tracks the number of join-like steps a "
        "question needs. A simple router that predicts this number recovers most of the gain.",
    ),
]


def dense_page(pairs: list[Pair], *, banner: bool = True) -> str:
    """A dense page: banner, "Subscribe" glued to the first title, then title/abstract lines."""
    lines: list[str] = []
    for title, abstract in pairs:
        lines.append(title)
        lines.append(abstract)
    if banner:
        if lines:
            lines[0] = "Subscribe" + lines[0]
        else:
            lines.append("Subscribe")
        lines = DENSE_BANNER + lines
    return "\n".join(lines) + "\n"


def spaced_page(
    pairs: list[Pair], date: str | None = "Aug 20", *, daily_papers_line: bool = True
) -> str:
    """A spaced page: banner lines, the listing date (omitted when None), titles and abstracts,
    all separated by blank lines. Some real pages lack the "Daily Papers" line."""
    lines = [line for line in SPACED_BANNER if daily_papers_line or line != "Daily Papers"]
    if date is not None:
        lines.append(date)
    for title, abstract in pairs:
        lines.append(title)
        lines.append(abstract)
    return "\n\n".join(lines)


def line_of(page: str, text: str, start: int = 1) -> int:
    """1-based number of the first line at or after `start` that contains `text`."""
    for number, line in enumerate(page.split("\n"), 1):
        if number >= start and text in line:
            return number
    raise ValueError(f"{text!r} is not on the page")


_TOPICS = [
    "Sparse", "Contrastive", "Federated", "Causal", "Diffusion", "Retrieval", "Graph",
    "Quantised", "Multilingual", "Robotic", "Symbolic", "Streaming", "Bayesian", "Neural",
]
_THINGS = [
    "Transformers", "Agents", "Planners", "Encoders", "Policies", "Retrievers", "Tokenizers",
    "Reward Models", "Solvers", "World Models", "Adapters", "Critics",
]
_GOALS = [
    "Long-Horizon Control", "Code Repair", "Protein Design", "Speech Translation",
    "Table Question Answering", "Weather Forecasting", "Theorem Proving", "Video Editing",
]


def make_papers(n: int, seed: int = 0) -> list[Pair]:
    """`n` invented papers with distinct titles (and distinct paper keys), deterministic."""
    rng = random.Random(seed)
    papers: list[Pair] = []
    for i in range(n):
        topic, thing, goal = rng.choice(_TOPICS), rng.choice(_THINGS), rng.choice(_GOALS)
        title = f"{topic} {thing} for {goal}, Study {i + 1}"
        abstract = (
            f"We study {topic.lower()} {thing.lower()} applied to {goal.lower()}. "
            f"Our method improves a strong baseline by {rng.randint(1, 30)}% on "
            f"{rng.randint(2, 9)} benchmarks while using {rng.randint(2, 8)}x less compute. "
            "Existing approaches either need large labelled sets or fail on long inputs, and "
            "we show that both limits come from the same design choice. Removing it gives a "
            "simpler training recipe that is stable across seeds and model sizes. We analyse "
            "where the gains come from, report negative results, and release everything at "
            f"https://example.org/papers/{i + 1}."
        )
        papers.append((title, abstract))
    return papers

"""Deterministic synthetic papers for benchmarks and tests.

`make_records(n, seed)` returns `n` PaperRecords that look like ML papers: ~80-character titles,
~1,200-character abstracts drawn from a vocabulary of a few thousand words with Zipf-like
frequencies (so searches have realistic hit counts), 1-6 authors (some non-ASCII), an arXiv id
for ~70% of them, a listing date or a year for some, and a few links.

`make_page_text(n, seed)` renders the same records as a dense Hugging Face Daily Papers page
(banner, "Subscribe" glued to the first title, title / abstract lines alternating, no blank
lines).

Same (n, seed) -> same output, on every machine and Python version (only `random.Random` with
an integer seed is used). 10,000 records take well under a second.
"""

from __future__ import annotations

import itertools
import random
from functools import lru_cache

from index.model import PaperRecord

SOURCE = "synthetic:bench"

# Frequent, realistic ML words first: with Zipf weights the head of this list dominates.
_CORE = """
model models learning language large training data performance method approach results
neural network networks tasks task benchmark we propose show that our using based which
this paper present new state art methods evaluation generation reasoning visual image images
video text multimodal diffusion transformer transformers attention agents agent reinforcement
policy reward alignment instruction tuning fine pretraining pretrained dataset datasets
experiments demonstrate significantly improves improve improved efficient efficiency scalable
inference accuracy robust robustness generalization zero shot few prompt prompting prompts
representation representations embedding embeddings token tokens sequence sequences context
long retrieval augmented knowledge graph graphs semantic segmentation detection object
recognition classification regression optimization gradient descent stochastic loss function
objective framework architecture layers layer parameters parameter scaling laws compute budget
memory latency throughput hardware gpu gpus quantization pruning distillation sparse dense
mixture experts routing decoder encoder autoregressive masked contrastive self supervised
unsupervised semi labels label annotation human feedback preference preferences evaluation
metrics metric leaderboard open source code release available project page github analysis
study empirical theoretical bound bounds convergence sample complexity distribution shift
domain adaptation transfer continual lifelong catastrophic forgetting federated privacy
differential secure attack attacks adversarial defense jailbreak safety harmful toxic bias
fairness interpretability explainability mechanistic circuits features probing neurons
activation activations speech audio music synthesis voice speaker 3d point cloud mesh scene
rendering radiance fields gaussian splatting camera pose depth estimation tracking motion
robot robotics manipulation navigation embodied simulation planning search tree monte carlo
chain thought math mathematical proof theorem code programming software bugs repair
compiler execution tool tools use calling api web browsing environment environments
interactive dialogue conversation chat assistant user users question answering questions
answers summarization translation multilingual languages low resource cross lingual
medical clinical biomedical protein molecule molecular drug chemistry materials climate
weather forecasting time series tabular recommendation ranking click users e commerce
finance legal documents document understanding ocr chart table tables layout charts
hallucination factuality calibration uncertainty confidence verification verifier critique
reflection refinement iterative self consistency voting ensemble sampling decoding speculative
beam greedy temperature length context window positional encoding rotary linear quadratic
complexity kernel kernels flash sparse state space mamba recurrent convolutional vision
backbone patch patches resolution high low frame frames temporal spatial spatiotemporal
editing inpainting super controllable control conditional guidance classifier free noise
denoising score matching flow flows rectified consistency latent latents autoencoder
variational vae gan generative discriminative contrastive clip siglip vit llama gpt bert
t5 mistral qwen gemma phi opus claude gemini openai meta google deepmind anthropic microsoft
""".split()

_PREFIXES = """
auto bi co cross de dis en hyper inter intra meta micro multi neuro non over para poly
post pre pro pseudo quasi re semi sub super trans tri ultra un under uni
""".split()
_ROOTS = """
align attend bind calibr cod compos comput condens construct decod diffus distill
embed encod estim evalu gener ground infer learn link map mask match merg model
normal optim pars plan predict prob project quant rank reason recogn reconstruct refin
regul render repres retriev rout sampl scal segment sequenc simul solv spars special
stabil structur summar synthes token track train transform tun verif weigh
""".split()
_SUFFIXES = "ation ations er ers ing ive ment ments or ors al ity ization ized able ence".split()

_FIRST = """
Wei Li Xin Yu Jie Hao Ming Yang Chen Jun Lei Ying Hui Jing Tao Anna Maria David Michael
Sarah James Emily Daniel Laura Thomas Julia Lukas Sofia Jonas Elena Pablo Lucia Mateo Ana
Hiroshi Yuki Sora Kenji Aiko Raj Priya Arjun Ananya Vikram Olga Ivan Dmitri Natalia Omar
Fatima Ahmed Layla Kwame Amara Chinedu Zainab Noah Liam Emma Olivia Ava Lucas Ethan Mia
José Zoë Søren Björn Małgorzata Łukasz Çağla Jürgen Françoise Núria Ülkü Dragoș Ștefan
""".split()
_LAST = """
Wang Li Zhang Liu Chen Yang Huang Zhao Wu Zhou Xu Sun Ma Zhu Hu Guo He Lin Luo Gao
Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez
Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris
Kim Park Choi Jung Kang Tanaka Suzuki Sato Watanabe Ito Kumar Singh Sharma Patel Gupta
Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Dubois Lefèvre
Ivanov Petrov Smirnov Kowalski Nowak Wiśniewski Åström Ødegaard Yılmaz Öztürk Núñez Peña
""".split()
_MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
_TITLE_SHAPES = (
    "{A}: {w} {w} {w} for {w} {w} {w}",
    "{w} {w} {w} via {w} {w} {w}",
    "Towards {w} {w} {w} with {w} {w}",
    "{A}: Scaling {w} {w} to {w} {w} {w}",
    "On the {w} of {w} {w} in {w} {w}",
    "{w} {w} {w}: A {w} {w} for {w} {w}",
    "Learning to {w} {w} {w} from {w} {w}",
    "{w} {w} Is All You Need for {w} {w}",
)


@lru_cache(maxsize=None)
def vocabulary() -> tuple[str, ...]:
    """The word list, most frequent first (a few thousand distinct words)."""
    words: list[str] = []
    seen: set[str] = set()
    for w in _CORE:
        if w not in seen:
            seen.add(w)
            words.append(w)
    derived = []
    for root, suffix in itertools.product(_ROOTS, _SUFFIXES):
        derived.append(root + suffix)
    for prefix, root in itertools.product(_PREFIXES, _ROOTS):
        derived.append(prefix + root + "ing")
    # A fixed shuffle so derived words interleave across the frequency ranks.
    random.Random(12345).shuffle(derived)
    for w in derived:
        if w not in seen:
            seen.add(w)
            words.append(w)
    return tuple(words)


_POOL_SIZE = 400_000


@lru_cache(maxsize=None)
def _pool() -> tuple[str, ...]:
    """A fixed stream of words drawn with Zipf-Mandelbrot weights 1 / (rank + 2.7) ** 1.05.

    Texts are slices of this stream at random offsets: the frequencies stay Zipf-like and a
    slice costs one random number, which keeps 10,000 records well under a second.
    """
    vocab = vocabulary()
    weights = [1.0 / (rank + 2.7) ** 1.05 for rank in range(1, len(vocab) + 1)]
    return tuple(random.Random(4242).choices(vocab, weights=weights, k=_POOL_SIZE))


def _words(rng: random.Random, k: int) -> list[str]:
    pool = _pool()
    start = int(rng.random() * (len(pool) - k))
    return list(pool[start : start + k])


# random.randrange/randint/choice cost ~1 us each; these plain-float versions keep
# 10,000 records fast. They are deterministic for a given seed all the same.
def _int(rng: random.Random, lo: int, hi: int) -> int:
    """An int in [lo, hi]."""
    return lo + int(rng.random() * (hi - lo + 1))


def _pick(rng: random.Random, seq):
    return seq[int(rng.random() * len(seq))]


_LETTERS = "ABCDEFGHIJKLMNOPRSTVWXZ"


def _acronym(rng: random.Random) -> str:
    r = rng.random
    base = "".join(_LETTERS[int(r() * 23)] for _ in range(_int(rng, 3, 6)))
    if r() < 0.4:
        base = base[0] + base[1:].lower()
    if r() < 0.2:
        base += "-" + str(_int(rng, 1, 9))
    return base


def _title(rng: random.Random) -> str:
    shape = _pick(rng, _TITLE_SHAPES)
    words = iter(_words(rng, 14))
    out = []
    for part in shape.split(" "):
        if "{A}" in part:
            out.append(part.replace("{A}", _acronym(rng)))
        elif "{w}" in part:
            out.append(part.replace("{w}", next(words).capitalize()))
        else:
            out.append(part)
    title = " ".join(out)
    # Pad with more words to land around 80 characters.
    target = _int(rng, 65, 95)
    for w in words:
        if len(title) >= target:
            break
        title += " " + w.capitalize()
    if len(title) > 100:
        title = title[:100].rsplit(" ", 1)[0]
    return title


def _abstract(rng: random.Random, target: int) -> str:
    r = rng.random
    sentences = []
    length = 0
    while length < target:
        words = _words(rng, 12 + int(r() * 17))
        words[0] = words[0].capitalize()
        x = r()
        if x < 0.08:
            words.insert(1 + int(r() * (len(words) - 1)), _acronym(rng))
        elif x < 0.12:
            words.insert(1 + int(r() * (len(words) - 1)), f"{_int(rng, 2, 97)}.{_int(rng, 0, 9)}%")
        s = " ".join(words) + "."
        sentences.append(s)
        length += len(s) + 1
    return " ".join(sentences)


def _author(rng: random.Random) -> str:
    return f"{_pick(rng, _FIRST)} {_pick(rng, _LAST)}"


_YEARS = (2019, 2020, 2021, 2022, 2023, 2024, 2025)


def make_records(n: int, seed: int = 0) -> list[PaperRecord]:
    """`n` deterministic synthetic PaperRecords (source "synthetic:bench")."""
    rng = random.Random(seed)
    r = rng.random
    records: list[PaperRecord] = []
    # Unique arXiv ids: consecutive numbers from a per-seed base, formatted as YYMM.NNNNN.
    id_base = _int(rng, 0, 50_000)
    seen_titles: set[str] = set()
    for i in range(n):
        title = _title(rng)
        while title.casefold() in seen_titles:  # unique titles, so keys are unique too
            title = f"{_acronym(rng)}: {title}"[:100]
        seen_titles.add(title.casefold())
        abstract = _abstract(rng, _int(rng, 1050, 1300))
        authors = [_author(rng) for _ in range(_int(rng, 1, 6))]
        arxiv_id = None
        if r() < 0.7:
            num = id_base + i
            yymm = 2001 + (num // 90_000) % 12 + 100 * ((num // 1_080_000) % 6)
            arxiv_id = f"{yymm}.{num % 90_000 + 10_000:05d}"
        year = _pick(rng, _YEARS) if r() < 0.6 else None
        listing_date = f"{_pick(rng, _MONTHS)} {_int(rng, 1, 28)}" if r() < 0.4 else None
        links = []
        slug = title.split(":")[0].split(" ")[0].lower().strip(".,") or "project"
        if r() < 0.5:
            links.append(f"https://github.com/{authors[0].split()[-1].lower()}/{slug}")
        if r() < 0.2:
            links.append(f"https://{slug}.github.io/")
        if links and r() < 0.5:
            abstract += f" Code is available at {links[0]}."
        records.append(
            PaperRecord(
                title=title,
                abstract=abstract,
                authors=authors,
                year=year,
                listing_date=listing_date,
                arxiv_id=arxiv_id,
                url=f"https://arxiv.org/abs/{arxiv_id}" if arxiv_id else None,
                links=links,
                source=SOURCE,
            )
        )
    return records


def make_page_text(n: int, seed: int = 0) -> str:
    """The records of make_records(n, seed) as a dense Hugging Face Daily Papers page."""
    return page_text(make_records(n, seed))


def make_pages(n: int, seed: int = 0, per_page: int = 20_000) -> list[str]:
    """make_records(n, seed) as pages of `per_page` papers (a 100k page would pass the
    32 MiB a file may have)."""
    records = make_records(n, seed)
    return [page_text(records[i:i + per_page]) for i in range(0, n, per_page)]


def page_text(records: list[PaperRecord]) -> str:
    lines = [
        "Get trending papers in your email inbox once a day!",
        "Get trending papers in your email inbox!",
    ]
    for i, rec in enumerate(records):
        title = rec.title
        if i == 0:
            title = "Subscribe" + title
        lines.append(title)
        lines.append(rec.abstract)
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover - quick look
    import sys
    import time

    count = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    t0 = time.perf_counter()
    recs = make_records(count)
    t1 = time.perf_counter()
    print(f"{count} records in {t1 - t0:.3f} s; vocabulary {len(vocabulary())} words")
    print(recs[0].title, len(recs[0].title))
    print(recs[0].abstract[:300], len(recs[0].abstract))

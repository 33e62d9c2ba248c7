"""Passage sizes → document lengths: how long paper-preset documents come out for given pool settings.

    HF_HUB_OFFLINE=1 .venv/bin/python -m bench.passage_sizes [--dump PATH] [--half 0|1] MIN,TARGET,MAX,SPREAD ...

Cleans and splits the dump's articles as the pool does (`clean_page`, `split_passages` with
`passage_targets`), counts each passage's tokens with the build's tokenizer (SmolLM2's), and
builds 600 documents the way the paper preset does: a random pivot, its 29 nearest passages by
BM25 (bm25s) and 120 random passages. Prints, per setting, the passage count and mean tokens,
document tokens at p10/p50/p90, and the shares under 24,000 and over 40,960 tokens.
`--half` keeps the pages whose id hashes to that half (tune on one, report on the other).
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

import numpy as np

from bench.harness import DEFAULT_DUMP


def main() -> None:
    import bm25s

    from memtrain_data.models import DEFAULT_TOKENIZER, load_tokenizer
    from memtrain_data.pipeline.extractors.wikitext import clean_page
    from memtrain_data.pipeline.passages import passage_targets, split_passages
    from memtrain_data.pipeline.readers.mediawiki import is_disambiguation, iter_pages
    from memtrain_data.pipeline.readers.sources import InputUnit

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dump", type=Path, default=DEFAULT_DUMP)
    parser.add_argument("--half", type=int, choices=[0, 1], default=None)
    parser.add_argument("--documents", type=int, default=600)
    parser.add_argument("settings", nargs="+", help="MIN,TARGET,MAX,SPREAD (words, words, words, factor)")
    args = parser.parse_args()

    unit = InputUnit(kind="mediawiki", path=str(args.dump), source=args.dump.name)
    pages = [
        page for page in iter_pages(unit)
        if page.namespace == 0 and not page.is_redirect and not is_disambiguation(page.title, page.text)
        and (args.half is None or int(hashlib.sha256(str(page.page_id).encode()).hexdigest(), 16) % 2 == args.half)
    ]  # fmt: skip
    cleaned = [(page.page_id, clean_page(page.text, page.title)) for page in pages]
    tokenizer = load_tokenizer(DEFAULT_TOKENIZER)
    for setting in args.settings:
        min_words, target, max_words, spread = setting.split(",")
        texts: list[str] = []
        for page_id, page in cleaned:
            targets = passage_targets(page_id, int(target), float(spread))
            texts += split_passages(page.text, int(min_words), int(max_words), targets, page.section_starts)
        tokens = np.array([len(ids) for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]])
        retriever = bm25s.BM25()
        retriever.index(bm25s.tokenize(texts, stopwords="en", show_progress=False), show_progress=False)
        rng = np.random.default_rng(0)
        documents = []
        for _ in range(args.documents):
            pivot = int(rng.integers(len(texts)))
            query = bm25s.tokenize([texts[pivot]], stopwords="en", show_progress=False)
            nearest, _ = retriever.retrieve(query, k=min(31, len(texts)), show_progress=False)
            related = [int(i) for i in nearest[0] if int(i) != pivot][:29]
            others = np.setdiff1d(np.arange(len(texts)), [pivot, *related])
            randoms = rng.choice(others, min(120, len(others)), replace=False)
            documents.append(int(tokens[pivot] + tokens[related].sum() + tokens[randoms].sum()))
        lengths = np.array(documents)
        p10, p50, p90 = (int(x) for x in np.percentile(lengths, [10, 50, 90]))
        print(json.dumps({
            "setting": setting, "half": args.half, "pages": len(cleaned), "passages": len(texts),
            "passage_tokens_mean": round(float(tokens.mean())), "doc_tokens_p10_p50_p90": [p10, p50, p90],
            "p90_minus_p10": p90 - p10, "share_under_24000": round(float((lengths < 24_000).mean()), 3),
            "share_over_40960": round(float((lengths > 40_960).mean()), 3),
        }))  # fmt: skip


if __name__ == "__main__":
    main()

"""The MemTrain proxy tasks built from the passage pool.

One module per concern, in the order a build uses them: `splits` (which split a pivot page
belongs to), `retrieval` (related passages), `entities` (spaCy NER, junk filter, aliases),
`masking` (every occurrence → placeholder), `chunking` (token budgets with the real
tokenizer), `probes` (intermediate-recall probes), `rules` (leakage and consistency checks
shared with `memtrain validate`), `builder` (one episode from one pivot) and `build`
(`build_episodes`, the whole stage on datatrove's executor).
"""

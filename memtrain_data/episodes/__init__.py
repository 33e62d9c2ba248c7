"""The MemTrain proxy tasks built from the passage pool.

One module per concern, in the order a build uses them: `splits` (which split a pivot page
belongs to), `retrieval` (related passages), `entities` (spaCy NER, junk filter, aliases),
`masking` (every occurrence → placeholder), `chunking` (token budgets with the real
tokenizer), `probes` (intermediate-recall probes), `rules` (leakage and consistency checks
shared with `memtrain validate`), `builder` (one episode from one pivot), and the stage
itself: `job` (what it is given: `EpisodeJob`, its files, the task count), `plan` (the
candidate pivots of each split), `task` (one worker task and its `TaskSummary`) and `build`
(`build_episodes`: prepares, runs the tasks on datatrove's executor, sums their summaries).
"""

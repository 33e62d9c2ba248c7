"""Publishing a built dataset folder: dataset card, validation, inspection, Hub upload.

- `layout`: where things live in a dataset folder (configs, split shards, stats.json), and
  turning a folder path or Hub id into a local folder.
- `statistics`: counts, lengths and composition per split, read from the written shards.
- `provenance`: how a config was built (dump and its date, versions, command), the text's date
  and license.
- `figures`: the card's PNGs.
- `card`: README.md (YAML header with configs and features, Markdown body) rendered from
  `stats.json`, merged into an existing header; the Fields table comes from the record
  model's field descriptions.
- `write_card`: computes the three above for a config, merges them into `stats.json`, writes
  the card.
- `validate`: every row against the record model and the episode rules, plus folder rules.
- `quality`: the judge's verdicts added up per config and split (`validate --report`, the card).
- `inspect`: one episode, ready for the terminal.
- `push`: one-commit upload with `huggingface_hub`.

Submodules import their heavy dependencies lazily; import them directly.
"""

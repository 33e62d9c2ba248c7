"""Publishing a built dataset folder: dataset card, validation, inspection, Hub upload.

- `layout`: where things live in a dataset folder (configs, split shards, stats.json), and
  turning a folder path or Hub id into a local folder.
- `card`: README.md dataset card (YAML header with configs and features), statistics
  computed from the written shards, PNG figures.
- `validate`: every row against the record model and the episode rules, plus folder rules.
- `inspect`: one episode, ready for the terminal.
- `push`: one-commit upload with `huggingface_hub`.

Submodules import their heavy dependencies lazily; import them directly.
"""

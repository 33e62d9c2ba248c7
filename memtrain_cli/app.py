"""The `memtrain` app: joins the command groups; each lives in its own module."""

from __future__ import annotations

from memtrain_cli import build, evaluate, publish, train
from memtrain_cli._common import new_app

app = new_app(help="memtrain: build, publish, train and evaluate self-supervised memory-agent data (MemTrain).")

app.command("build-dataset")(build.build_dataset)
app.command("schema")(build.schema)
app.command("validate")(publish.validate)
app.command("inspect")(publish.inspect)
app.command("push")(publish.push)
app.add_typer(evaluate.eval_app, name="eval")
app.command("train", context_settings=train.CONTEXT_SETTINGS)(train.train)


def main() -> None:
    app()


if __name__ == "__main__":
    main()

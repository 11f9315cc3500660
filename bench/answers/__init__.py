"""The fan-question answer set of issue 12: generator, evaluation store, runner (docs/answers.md)."""

"""Evaluation and benchmarks: routing accuracy, the scenario suite, speed and cost."""

"""Judging models: the evaluator, metrics, attacks and the one classifier builder."""

"""Sequence families: recurrent forecasters, text classifiers and language models."""

"""Graded queries over the demo catalogue and the nDCG@10 evaluation shared by the relevance test and
bench/relevance.py."""

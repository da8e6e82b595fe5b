"""Inquiries and quotes between buyers and PES: one PES or many at once, threads, comparison and mail."""

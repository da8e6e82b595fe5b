"""The catalogue of offerings (products and services), categories, CPV codes and the quality mark."""

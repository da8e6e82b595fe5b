"""Search: the only package that talks to the search engine (Whoosh), behind a small interface."""

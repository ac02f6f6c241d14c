"""Package data only: the JSON word banks of the demo corpus, read by ``..wordbanks``."""

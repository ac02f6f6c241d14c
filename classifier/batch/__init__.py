"""Scoring: a batch of posts into the output schema (``scoring``), and archive-scale jobs
(``engine`` drives, ``chunks`` score one chunk, ``executors`` run them, ``progress``)."""

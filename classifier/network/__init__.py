"""The network of a hashtag: retweet communities, their centralization and resilience,
robustness to removals, coordinated link sharing and churn (``swarmlens network``)."""

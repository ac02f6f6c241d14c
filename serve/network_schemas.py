"""Response models of ``GET /v1/hashtags/{tag}/network`` (part of the OpenAPI schema)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class NetworkAccount(BaseModel):
    account: str
    community: int
    in_strength: int = Field(description="retweets received")
    out_strength: int = Field(description="retweets made")


class NetworkCommunity(BaseModel):
    id: int = Field(description="0 is the largest community")
    size: int
    labels: dict[str, int] = Field(
        description="posts of its accounts per predicted label (classify-and-count)"
    )
    centralization: float = Field(
        description="Freeman in-degree centralization: 1 a star, 0 everyone equally retweeted"
    )
    resilience: float | None = Field(
        description="share of its retweets left after removing its top 5% accounts (>= 1)"
    )
    top_accounts: list[str]


class NetworkRobustness(BaseModel):
    targeted: list[list[float]] = Field(
        description="[removed, giant_share, weight_share], most retweeted removed first"
    )
    random: list[list[float]] = Field(description="the same, removal in random order")


class CoordinatedGroup(BaseModel):
    accounts: list[str]
    urls: list[str]
    co_shares: int = Field(description="links co-shared, summed over the group's pairs")
    window_s: float


class CoActionGroup(BaseModel):
    accounts: list[str]
    co_actions: int = Field(description="distinct items co-acted on, summed over its pairs")
    items: list[str] = Field(description="the links, retweeted posts, posts replied to or posts")


class CoActions(BaseModel):
    available: bool = Field(description="false when the data cannot show it (no texts)")
    reason: str | None = None
    items: str = Field(description="what the items are")
    window_s: float
    pairs: int = Field(description="pairs of accounts with at least min_co_actions")
    accounts: int = Field(description="accounts in any pair")
    groups: list[CoActionGroup]


class NetworkCoordination(BaseModel):
    window_s: float
    window_estimated: bool
    min_co_actions: int
    groups: list[CoordinatedGroup] = Field(description="coordinated link sharing")
    by: dict[str, CoActions] = Field(description="link, retweet, reply, text")


class ChurnWindow(BaseModel):
    start: str
    end: str
    active: int
    appeared: int = Field(description="active now, not in the window before")
    new: int = Field(description="active now for the first time in the range")
    stopped: int = Field(description="active in the window before, not now")


class NetworkChurn(BaseModel):
    hours: int
    windows: list[ChurnWindow]


class DrawingNode(BaseModel):
    account: str
    community: int
    in_strength: int
    x: float
    y: float


class NetworkDrawing(BaseModel):
    nodes: list[DrawingNode]
    edges: list[list[int]] = Field(description="[source node index, target node index, weight]")


class NetworkResponse(BaseModel):
    hashtag: str
    start: str | None
    end: str | None
    posts: int
    retweets: int
    method: str = Field(description="community detection: louvain or leiden")
    counts: str
    totals: dict[str, int] = Field(description="full sizes of the lists, which are bounded")
    accounts: list[NetworkAccount]
    communities: list[NetworkCommunity]
    robustness: NetworkRobustness
    coordination: NetworkCoordination
    coordination_window_s: float
    coordination_window_estimated: bool
    churn: NetworkChurn
    drawing: NetworkDrawing
    model_version: str

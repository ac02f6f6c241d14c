"""Analytics over scored posts: the DuckDB SQL shared by the CLI and the API."""

"""Services: the logic behind the API routers, free of HTTP details."""

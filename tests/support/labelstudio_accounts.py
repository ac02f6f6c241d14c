"""Accounts on a real Label Studio: a second annotator through the invite link, tokens.

No API creates a usable second account (``POST /api/users/`` ignores the password); the
signup form with an invite token does. See ``docs/labelstudio-sdk-notes.md``.
"""

from __future__ import annotations

import http.cookiejar
import json
import re
import urllib.error
import urllib.parse
import urllib.request
from typing import Any


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class AccountsMixin:
    """Session-based calls of ``LabelStudioServer`` (needs ``url`` and ``api``)."""

    url: str

    def api(self, method: str, path: str, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    def _session(self) -> tuple[urllib.request.OpenerDirector, http.cookiejar.CookieJar]:
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), _NoRedirect())
        return opener, jar

    @staticmethod
    def _cookie(jar: http.cookiejar.CookieJar, name: str) -> str:
        for cookie in jar:
            if cookie.name == name:
                return cookie.value or ""
        raise RuntimeError(f"Label Studio set no {name} cookie")

    def _post_form(
        self, opener: urllib.request.OpenerDirector, path: str, fields: dict[str, str]
    ) -> tuple[int, str]:
        req = urllib.request.Request(
            f"{self.url}{path}", data=urllib.parse.urlencode(fields).encode(), method="POST"
        )
        req.add_header("Content-Type", "application/x-www-form-urlencoded")
        req.add_header("Referer", f"{self.url}{path}")
        try:
            with opener.open(req, timeout=30) as resp:
                return resp.status, resp.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:  # 302 lands here with _NoRedirect
            return exc.code, exc.read().decode("utf-8", "replace")

    def _login(self, email: str, password: str) -> tuple[Any, http.cookiejar.CookieJar]:
        opener, jar = self._session()
        opener.open(f"{self.url}/user/login/", timeout=30).read()
        status, _ = self._post_form(
            opener,
            "/user/login/",
            {
                "email": email,
                "password": password,
                "csrfmiddlewaretoken": self._cookie(jar, "csrftoken"),
            },
        )
        if status != 302:
            raise ValueError(f"login of {email} failed (HTTP {status})")
        return opener, jar

    def _session_json(
        self, opener: Any, jar: http.cookiejar.CookieJar, method: str, path: str
    ) -> Any:
        req = urllib.request.Request(f"{self.url}{path}", method=method, data=None)
        if method != "GET":
            req.add_header("X-CSRFToken", self._cookie(jar, "csrftoken"))
            req.add_header("Referer", f"{self.url}/")
        with opener.open(req, timeout=30) as resp:
            return json.loads(resp.read())

    def create_user(self, email: str, password: str) -> tuple[int, str]:
        """Sign up a second account through the invite link; return ``(user_id, api_token)``.

        The token is that user's legacy API token: ``client(token)`` acts as that user.
        Raises ``ValueError`` if Label Studio refuses the signup (email taken, weak password).
        """
        invite = self.api("GET", "/api/invite")
        signup = f"/user/signup/?token={urllib.parse.quote(invite['token'])}"
        opener, jar = self._session()
        opener.open(f"{self.url}{signup}", timeout=30).read()
        status, page = self._post_form(
            opener,
            signup,
            {
                "email": email,
                "password": password,
                "csrfmiddlewaretoken": self._cookie(jar, "csrftoken"),
            },
        )
        if status != 302:
            errors = re.findall(r'class="[^"]*(?:error|invalid)[^"]*"[^>]*>\s*([^<]+?)\s*<', page)
            raise ValueError(
                f"Label Studio refused the signup of {email} (HTTP {status}): "
                f"{'; '.join(errors) or 'email already used or password too weak'}"
            )
        token = self._session_json(opener, jar, "GET", "/api/current-user/token")["token"]
        me = self.api("GET", "/api/current-user/whoami", token=token)
        return int(me["id"]), str(token)

    def personal_access_token(self, email: str, password: str) -> str:
        """Log in and create that user's personal access token (the JWT refresh token that
        ``client()`` accepts as ``api_key``). A user can hold only one: a second call -> 409."""
        opener, jar = self._login(email, password)
        return str(self._session_json(opener, jar, "POST", "/api/token/")["token"])


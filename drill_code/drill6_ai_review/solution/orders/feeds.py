"""Fetching and parsing a partner's order feed: the one place this app talks to the network."""

import json
from urllib.parse import urlsplit

import requests
import yaml
from django.conf import settings


class FeedError(Exception):
    """The feed could not be used; the message is safe to show the client."""

    def __init__(self, message, status=400):
        super().__init__(message)
        self.status = status


def check_feed_url(url):
    """Refuse any URL that is not https on an allow-listed partner host.

    Parsing with urlsplit and comparing the exact host name avoids the classic bypasses
    of prefix checks (https://feeds.partner.example@169.254.169.254/,
    https://feeds.partner.example.evil.test/).
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise FeedError("The feed URL is not a valid URL.") from exc
    if parts.scheme != "https":
        raise FeedError("The feed URL must use https.")
    if parts.username or parts.password or port not in (None, 443):
        raise FeedError("The feed URL must not carry credentials or a port.")
    if parts.hostname not in settings.ORDER_FEED_HOSTS:
        raise FeedError(
            f"Feeds are imported from our partners only: {', '.join(settings.ORDER_FEED_HOSTS)}."
        )


def fetch_feed(url):
    check_feed_url(url)
    try:
        # A timeout, because requests has none by default and a silent partner would hold
        # this worker forever. No redirects, because a redirect is a second URL that
        # check_feed_url() never saw: an allowed host could send us to 169.254.169.254.
        # https://requests.readthedocs.io/en/latest/user/advanced/#timeouts
        response = requests.get(url, timeout=settings.ORDER_FEED_TIMEOUT, allow_redirects=False)
    except requests.Timeout as exc:
        raise FeedError("The partner's feed did not answer in time.", status=504) from exc
    except requests.RequestException as exc:
        # The exception text can describe our internal network; the client gets none of it.
        raise FeedError("The partner's feed could not be reached.", status=502) from exc
    if response.is_redirect or response.status_code != 200:
        raise FeedError(
            f"The partner's feed answered {response.status_code}; expected 200.", status=502
        )
    return parse_feed(url, response.text)


def parse_feed(url, text):
    try:
        if urlsplit(url).path.endswith((".yaml", ".yml")):
            # safe_load builds only plain data (dicts, lists, strings, numbers). The full
            # Loader builds any Python object the document names, os.system included.
            # https://pyyaml.org/wiki/PyYAMLDocumentation
            feed = yaml.safe_load(text)
        else:
            feed = json.loads(text)
    except (yaml.YAMLError, ValueError) as exc:
        raise FeedError("The feed is not valid JSON or YAML.") from exc
    if not isinstance(feed, dict) or not isinstance(feed.get("orders"), list):
        raise FeedError('The feed must be an object with a list under "orders".')
    return feed["orders"]

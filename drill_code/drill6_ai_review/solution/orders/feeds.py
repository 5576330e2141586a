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
        # stream=True, so the body is read below in chunks and never past the limit.
        # https://requests.readthedocs.io/en/latest/user/advanced/#timeouts
        with requests.get(
            url, timeout=settings.ORDER_FEED_TIMEOUT, allow_redirects=False, stream=True
        ) as response:
            if response.is_redirect or response.status_code != 200:
                raise FeedError(
                    f"The partner's feed answered {response.status_code}; expected 200.",
                    status=502,
                )
            body = read_at_most(response, settings.ORDER_FEED_MAX_BYTES)
    except requests.Timeout as exc:
        raise FeedError("The partner's feed did not answer in time.", status=504) from exc
    except requests.RequestException as exc:
        # The exception text can describe our internal network; the client gets none of it.
        raise FeedError("The partner's feed could not be reached.", status=502) from exc
    return parse_feed(url, body)


def read_at_most(response, limit):
    """The body, refused as soon as it passes `limit` bytes.

    Content-Length is only a claim (a server can omit it or lie), so the bytes are
    counted as they arrive.
    """
    too_big = FeedError(f"The partner's feed is larger than {limit} bytes.", status=502)
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_big
    body = bytearray()
    for chunk in response.iter_content(chunk_size=64 * 1024):
        body += chunk
        if len(body) > limit:
            raise too_big
    return bytes(body)


class NoAliasSafeLoader(yaml.SafeLoader):
    """safe_load's loader, minus anchors and aliases.

    An alias repeats a node without repeating its text, so a few kilobytes can stand for
    millions of orders or lines ("billion laughs"). A partner's feed has no need for them.
    """

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            raise yaml.composer.ComposerError(
                None, None, "aliases are not allowed in a feed", self.peek_event().start_mark
            )
        return super().compose_node(parent, index)


def load_yaml(body):
    """yaml.safe_load() without aliases: what safe_load does, with the loader above."""
    loader = NoAliasSafeLoader(body)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def parse_feed(url, body):
    try:
        if urlsplit(url).path.endswith((".yaml", ".yml")):
            # A SafeLoader builds only plain data (dicts, lists, strings, numbers). The full
            # Loader builds any Python object the document names, os.system included.
            # https://pyyaml.org/wiki/PyYAMLDocumentation
            feed = load_yaml(body)
        else:
            feed = json.loads(body)
    except (yaml.YAMLError, ValueError) as exc:  # UnicodeDecodeError is a ValueError
        raise FeedError("The feed is not valid JSON or YAML.") from exc
    if not isinstance(feed, dict) or not isinstance(feed.get("orders"), list):
        raise FeedError('The feed must be an object with a list under "orders".')
    if len(feed["orders"]) > settings.ORDER_FEED_MAX_ORDERS:
        raise FeedError(
            f"A feed holds at most {settings.ORDER_FEED_MAX_ORDERS} orders; "
            f"this one has {len(feed['orders'])}."
        )
    return feed["orders"]

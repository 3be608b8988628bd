"""The relay as a process of its own (`caseplatform serve relay`).

Where it runs, the services run with RELAY_IN_PROCESS=false, so the one broker user with
write on the ledger's exchange is the relay's: a service's credentials, if taken, cannot
publish an event as if the ledger had committed it. Several relay processes may run; the
leadership lock lets one publish at a time, as it does among the services' relays.
"""

from nameko.dependency_providers import Config

from shared.infra.config import Settings
from shared.infra.dependencies import RelayRunner
from shared.infra.health import broker_check, ledger_check, readiness
from shared.infra.web.http import api
from shared.infra.web.openapi import OpenSchema


class RelayService:
    name = "relay"

    relay = RelayRunner(always=True)
    nameko_config = Config()

    @api("GET", "/relay/health/live", public=True, response=OpenSchema(), summary="the process serves requests")
    def health_live(self, request):
        return {"status": "live"}

    @api("GET", "/relay/health/ready", public=True, response=OpenSchema(), errors=(503,),
         summary="200 when the ledger and the broker answer")
    def health_ready(self, request):
        settings = Settings.from_nameko(self.nameko_config)
        return readiness({"ledger": ledger_check(self.relay), "broker": broker_check(settings.amqp_uri)})

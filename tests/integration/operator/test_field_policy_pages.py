"""The operator area applies the management API's field policy (panjereh.registry.fields):
a service's endpoint and provider system, for an agency's administrators also while their
agency is suspended."""

from __future__ import annotations

from panjereh.registry.access import Principal, Role
from panjereh.registry.model import Status
from panjereh.storage.registry_ops import RegistryOps
from tests.integration.operator.conftest import OperatorArea

SERVICE_PAGE = "/en/operator/services/civil-registry.person.v1"
ENDPOINT = "https://api.civil-registry.example/person"


async def test_a_suspended_agencys_admin_sees_its_own_endpoint_and_no_one_elses(
    area: OperatorArea,
) -> None:
    async with area.engine.begin() as conn:
        ops = RegistryOps(
            conn,
            Principal("test:operator", Role.OPERATOR),
            now=area.clock.now(),
            reason="suspended for the test",
            pepper=area.app.runtime.pepper,
            allow_private=True,
        )
        await ops.set_agency_status("science-ministry", Status.SUSPENDED)  # the stranger's
        await ops.set_agency_status("civil-registry", Status.SUSPENDED)  # the owner's
    for persona, sees in (("stranger", False), ("owner", True)):
        page = await area.get(persona, SERVICE_PAGE)
        assert page.status_code == 200, page.text
        assert (ENDPOINT in page.text) is sees
        assert ("population-registry" in page.text) is sees

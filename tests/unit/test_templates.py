"""Issue 22 (CONTRACT §7 ``GET /connections/{id}/templates``): the approved templates of the number's
WABA, every page, kept 5 minutes; the real Graph client answered by the Meta simulator in-process."""

from __future__ import annotations

import pytest

from devstack.meta.answers import server_error
from tests.builders import payloads as b
from tests.fakes import Clock, InMemoryWorld
from whatrack.domain.errors import NotFoundError, RuleViolationError, UpstreamError
from whatrack.domain.templates import rendered, template_of
from whatrack.services.templates import TemplateCatalog


@pytest.fixture
def world() -> InMemoryWorld:
    return InMemoryWorld(clock=Clock())


def catalog(world: InMemoryWorld) -> TemplateCatalog:
    return TemplateCatalog(world.connections, world.vault, world.graph_api(), clock=world.clock)


def test_every_page_of_approved_templates_kept_five_minutes(world: InMemoryWorld) -> None:
    token = world.graph.business(b.WABA, b.PNID)
    connection = world.connect(access_token=token)
    for n in range(130):  # two pages of 100 and one of 30 (Meta's page size here is ours: 100)
        world.graph.template(b.WABA, f"oferta_{n:03d}", body="Olá {{1}}, seu pedido {{2}} saiu. {{1}}!")
    world.graph.template(b.WABA, "em_analise", status="PENDING")
    world.graph.template(b.WABA, "recusado", status="REJECTED")
    templates = catalog(world)
    listed = templates.approved(connection.organization_id, connection.id)
    assert [t.name for t in listed] == [f"oferta_{n:03d}" for n in range(130)]
    assert (listed[0].language, listed[0].category, listed[0].parameter_count) == ("pt_BR", "UTILITY", 2)
    assert len(world.graph.calls_to("message_templates")) == 2
    # within 5 minutes the same list, not asked again; after, asked again
    world.clock.advance(minutes=4)
    assert templates.approved(connection.organization_id, connection.id) == listed
    assert len(world.graph.calls_to("message_templates")) == 2
    world.clock.advance(minutes=2)
    templates.approved(connection.organization_id, connection.id)
    assert len(world.graph.calls_to("message_templates")) == 4


def test_no_token_another_organization_and_graph_failing_are_named(world: InMemoryWorld) -> None:
    without = world.connect()
    with pytest.raises(RuleViolationError) as refused:
        catalog(world).approved(without.organization_id, without.id)
    assert refused.value.code == "no_access_token"
    token = world.graph.business("609900000000094", "509900000000094")
    connection = world.connect(phone_number_id="509900000000094", waba_id="609900000000094", access_token=token)
    with pytest.raises(NotFoundError):
        catalog(world).approved(without.organization_id, connection.id)
    world.graph.fail_next("message_templates", *[server_error(503)] * 3)
    with pytest.raises(UpstreamError):
        catalog(world).approved(connection.organization_id, connection.id)


def test_what_meta_lists_is_read_with_care() -> None:
    assert template_of({"name": "x", "language": "pt_BR", "status": "APPROVED"}) is not None
    assert template_of({"name": "x", "language": "pt_BR", "status": "PAUSED"}) is None
    assert template_of({"name": "", "language": "pt_BR", "status": "APPROVED"}) is None
    assert template_of(["not", "a", "template"]) is None
    odd = template_of({"name": "x", "language": "en", "status": "APPROVED", "components": [{"type": "body"}, 7]})
    assert odd is not None and (odd.body, odd.parameter_count) == (None, 0)
    assert rendered("Olá {{1}}, pedido {{ 2 }} ({{3}})", ["Ana", "42"]) == "Olá Ana, pedido 42 ({{3}})"

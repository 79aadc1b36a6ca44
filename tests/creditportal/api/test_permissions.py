"""`ActionPermissions`: every action of every registered resource says who may use it, and
an action nobody listed is refused ("closed until opened")."""

import pytest
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory, force_authenticate

from creditportal.api_router import router
from tests.factories import ManagerFactory

REGISTERED = [(prefix, viewset) for prefix, viewset, _ in router.registry]


def actions_of(viewset) -> set[str]:
    """The actions the router routes to this viewset (standard ones it has, and its extras)."""
    actions = set()
    for route in router.get_routes(viewset):
        actions |= {name for name in route.mapping.values() if hasattr(viewset, name)}
    return actions


@pytest.mark.parametrize(
    ("prefix", "viewset"), REGISTERED, ids=[f"{p}:{v.__name__}" for p, v in REGISTERED]
)
def test_every_routed_action_is_in_the_permission_table(prefix, viewset):
    actions = actions_of(viewset)
    assert actions, f"{viewset.__name__} routes no action"
    table = getattr(viewset, "required_permissions", None)
    assert table is not None, f"{viewset.__name__} has no required_permissions"
    assert actions <= set(table), f"not in the table: {sorted(actions - set(table))}"
    assert set(table) <= actions, f"listed but not routed: {sorted(set(table) - actions)}"


class _Probe(viewsets.GenericViewSet):
    """A viewset with an action its table forgot, and one it lists for nobody special."""

    required_permissions = {"listed": []}

    @action(detail=False, methods=["post"])
    def listed(self, request):
        return Response({"ran": "listed"})

    @action(detail=False, methods=["post"])
    def forgotten(self, request):
        return Response({"ran": "forgotten"})


@pytest.mark.django_db
def test_an_action_missing_from_the_table_is_refused_even_to_a_manager():
    manager = ManagerFactory()
    factory = APIRequestFactory()
    for name, expected in (("listed", status.HTTP_200_OK), ("forgotten", 403)):
        view = _Probe.as_view({"post": name})
        request = factory.post(f"/probe/{name}/")
        force_authenticate(request, user=manager)
        response = view(request)
        assert response.status_code == expected, (name, response.data)

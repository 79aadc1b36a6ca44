"""factory_boy factories for the Django models."""

from decimal import Decimal
from functools import cache

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from applicants.models import Applicant, Application
from creditportal.roles import CREDIT_MANAGER, LOAN_OFFICER
from ml.scorecards import get_scorecard
from ml.synthetic import synthetic_frame


def role_hook(default_role: str | None) -> factory.PostGeneration:
    """Put the user in a role's group: `role=` at call time, else the factory's default."""

    def add_to_group(user, create, extracted, **kwargs):
        role = extracted or default_role
        if create and role:
            user.groups.add(Group.objects.get(name=role))

    return factory.PostGeneration(add_to_group)


def ensure_roles() -> None:
    """Re-create the role groups after a transactional test flushed them (idempotent).

    The groups come from data migrations; a transactional test empties every table when it
    ends (permissions are re-created by post_migrate, groups are not).
    """
    from django.contrib.auth.models import Group, Permission

    from creditportal.roles import ADMINISTRATOR, ROLE_PERMISSIONS, section_app_label

    Group.objects.get_or_create(name=ADMINISTRATOR)
    for section, by_role in ROLE_PERMISSIONS.items():
        app_label = section_app_label(section)
        for role, codenames in by_role.items():
            group, _ = Group.objects.get_or_create(name=role)
            group.permissions.add(
                *Permission.objects.filter(
                    content_type__app_label=app_label, codename__in=codenames
                )
            )


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    email = factory.LazyAttribute(lambda user: f"{user.username}@example.com")
    password = factory.django.Password("correct-horse-battery")

    role = role_hook(None)


class OfficerFactory(UserFactory):
    role = role_hook(LOAN_OFFICER)


class ManagerFactory(UserFactory):
    role = role_hook(CREDIT_MANAGER)


class ApplicantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Applicant

    full_name = factory.Faker("name")
    external_reference = factory.Sequence(lambda n: f"REF-{n:05d}")
    email = factory.Faker("email")
    phone = "+44 20 7946 0000"
    national_id = factory.Sequence(lambda n: f"NI{n:08d}")
    owner = factory.SubFactory(OfficerFactory)


def valid_inputs(scorecard_key: str, seed: int = 0) -> dict:
    """One complete, valid set of inputs for a scorecard (from its synthetic sample)."""
    return dict(_valid_inputs(scorecard_key, seed))


@cache
def _valid_inputs(scorecard_key: str, seed: int) -> dict:
    scorecard = get_scorecard(scorecard_key)
    record = synthetic_frame(scorecard, n=20, seed=seed).iloc[seed % 20]
    inputs = {}
    for field in scorecard.fields:
        value = record[field.name]
        if value is None or (isinstance(value, float) and value != value):
            continue
        inputs[field.name] = value.item() if hasattr(value, "item") else value
    return inputs


class ApplicationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Application

    applicant = factory.SubFactory(ApplicantFactory)
    scorecard = "card_default"
    requested_amount = Decimal("10000.00")
    term_months = 24
    purpose = "Working capital"
    status = Application.Status.SUBMITTED
    inputs = factory.LazyAttribute(lambda application: valid_inputs(application.scorecard))
    created_by = factory.LazyAttribute(lambda application: application.applicant.owner)

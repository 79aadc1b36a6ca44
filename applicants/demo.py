"""Demo users and applicants for `make run`. Demo only: the passwords are public."""

import math
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from creditportal.roles import ADMINISTRATOR, CREDIT_MANAGER, LOAN_OFFICER
from ml.cleaning import load_raw
from ml.datasets import scorecard_data_path
from ml.scorecards import SCORECARDS
from ml.synthetic import synthetic_frame

from . import services
from .models import Applicant


@dataclass(frozen=True)
class DemoUser:
    username: str
    password: str
    first_name: str
    last_name: str
    role: str


DEMO_USERS = (
    DemoUser("manager", "manager-demo-pass", "Maria", "Keller", CREDIT_MANAGER),
    DemoUser("officer1", "officer1-demo-pass", "Olu", "Adeyemi", LOAN_OFFICER),
    DemoUser("officer2", "officer2-demo-pass", "Ines", "Navarro", LOAN_OFFICER),
    DemoUser("admin", "admin-demo-pass", "Ada", "Admin", ADMINISTRATOR),
)

DEMO_PEOPLE = (
    ("Amara Okafor", date(1988, 3, 14)),
    ("Lukas Brandt", date(1975, 11, 2)),
    ("Mei Lin Chen", date(1992, 7, 23)),
    ("Rafael Souza", date(1983, 1, 30)),
    ("Sofia Rossi", date(1996, 5, 9)),
    ("Jonas Lindqvist", date(1969, 9, 17)),
)


def demo_users_create() -> list[DemoUser]:
    """Create (or reset) the demo users; return the ones created or reset."""
    User = get_user_model()
    for demo in DEMO_USERS:
        user, _ = User.objects.get_or_create(username=demo.username)
        user.first_name, user.last_name = demo.first_name, demo.last_name
        user.email = f"{demo.username}@creditportal.example"
        user.is_staff = demo.role == ADMINISTRATOR
        user.set_password(demo.password)
        user.save()
        user.groups.set([Group.objects.get(name=demo.role)])
    return list(DEMO_USERS)


@transaction.atomic
def demo_applicants_create() -> int:
    """Give each demo officer three applicants with one application each; idempotent."""
    if Applicant.objects.filter(external_reference__startswith="DEMO-").exists():
        return 0
    User = get_user_model()
    officers = [User.objects.get(username=u.username) for u in DEMO_USERS if u.role == LOAN_OFFICER]
    scorecards = list(SCORECARDS.values())
    created = 0
    for index, (name, born) in enumerate(DEMO_PEOPLE):
        officer = officers[index % len(officers)]
        scorecard = scorecards[index % len(scorecards)]
        applicant = services.applicant_create(
            owner=officer,
            data={
                "full_name": name,
                "external_reference": f"DEMO-{1001 + index}",
                "date_of_birth": born,
                "email": f"{name.split()[0].lower()}@example.com",
                "phone": f"+44 20 7946 {index:04d}",
                "national_id": f"AB{123456 + index * 7919:06d}C",
            },
        )
        inputs = _demo_inputs(scorecard, row=index)
        services.application_create(
            applicant=applicant,
            by=officer,
            scorecard_key=scorecard.key,
            data={
                "requested_amount": Decimal(5000 + 2500 * index),
                "term_months": 12 * (1 + index % 4),
                "purpose": "Demo application",
            },
            inputs=inputs,
            submit=True,
        )
        created += 1
    return created


@cache
def _demo_frame(scorecard_key: str):
    """Fifty rows: from the real public extract when present, else synthetic."""
    scorecard = SCORECARDS[scorecard_key]
    path = scorecard_data_path(scorecard, settings.CREDITPORTAL_DATA_DIR)
    frame = load_raw(scorecard, path).frame if path else synthetic_frame(scorecard, n=200, seed=7)
    required = [field.name for field in scorecard.fields if field.required]
    return frame.dropna(subset=required).head(50)


def _demo_inputs(scorecard, *, row: int) -> dict:
    frame = _demo_frame(scorecard.key)
    record = frame.iloc[row * 7 % len(frame)]
    inputs = {}
    for field in scorecard.fields:
        value = record.get(field.name)
        if isinstance(value, float) and math.isnan(value):
            continue
        inputs[field.name] = value.item() if hasattr(value, "item") else value
    return inputs

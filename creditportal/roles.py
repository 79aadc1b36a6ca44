"""The three roles of CreditPortal, as Django groups with permissions.

The groups are created by a data migration (applicants/migrations/0002_roles.py); each app's
own data migration grants its section of ROLE_PERMISSIONS, so a migration never refers to a
permission of an app that is not migrated yet. Administrators get every permission of each
app. Code asks for permissions, never for group names, so an administrator can grant a single
capability to a single user.
"""

LOAN_OFFICER = "Loan officer"
CREDIT_MANAGER = "Credit manager"
ADMINISTRATOR = "Administrator"
ROLES = (LOAN_OFFICER, CREDIT_MANAGER, ADMINISTRATOR)

_OFFICER_APPLICANTS = [
    "view_applicant",
    "add_applicant",
    "change_applicant",
    "view_application",
    "add_application",
    "change_application",
]
_OFFICER_SCORING = ["add_prediction", "view_prediction", "add_decision", "view_decision"]

ROLE_PERMISSIONS: dict[str, dict[str, list[str]]] = {
    "applicants": {
        LOAN_OFFICER: _OFFICER_APPLICANTS,
        CREDIT_MANAGER: [*_OFFICER_APPLICANTS, "view_all_applicants", "reassign_applicant"],
    },
    "scoring": {
        LOAN_OFFICER: _OFFICER_SCORING,
        CREDIT_MANAGER: [
            *_OFFICER_SCORING,
            "view_modelversion",
            "promote_modelversion",
            "view_modelpromotion",
            "reopen_decision",
            "add_applicationoutcome",
            "change_applicationoutcome",
            "view_applicationoutcome",
        ],
    },
}

# Permissions of models added after a section's first data migration get a section of their
# own, granted by their own migration (an earlier migration cannot grant what does not exist).
_OFFICER_JOBS = ["add_batchscoringjob", "view_batchscoringjob", "change_batchscoringjob"]
ROLE_PERMISSIONS["scoring_jobs"] = {
    LOAN_OFFICER: _OFFICER_JOBS,
    CREDIT_MANAGER: [
        *_OFFICER_JOBS,
        "view_all_batchscoringjobs",
        "add_trainingdataset",
        "view_trainingdataset",
        "add_trainingjob",
        "view_trainingjob",
        "change_trainingjob",
        "view_scorecardjobsettings",
        "change_scorecardjobsettings",
    ],
}

# Everyone with a role may read the model registry (which version answered, how good it is);
# only credit managers promote.
ROLE_PERMISSIONS["scoring_registry_read"] = {
    LOAN_OFFICER: ["view_modelversion", "view_modelpromotion"],
}

# The dashboard: portfolio, model reports, monitoring, fairness and data insights.
ROLE_PERMISSIONS["dashboard"] = {
    CREDIT_MANAGER: ["view_dashboard", "view_modelversionprofile", "view_monitoringsnapshot"],
}

# Scorecards as data: credit managers define, edit and enable the lender's own scorecards.
ROLE_PERMISSIONS["scorecards"] = {
    CREDIT_MANAGER: [
        "manage_scorecards",
        "view_scorecarddeclaration",
        "add_scorecarddeclaration",
        "view_scorecardproduct",
        "change_scorecardproduct",
    ],
}

# The scorecard builder: a credit manager's labelled file profiled into a declaration.
ROLE_PERMISSIONS["scoring_builder"] = {
    CREDIT_MANAGER: ["add_scorecarddraft", "view_scorecarddraft", "change_scorecarddraft"],
}

# The app whose permissions each section names (a section is an app's label unless listed).
SECTION_APP_LABELS = {
    "scoring_jobs": "scoring",
    "scoring_registry_read": "scoring",
    "scoring_builder": "scoring",
    "scorecards": "applicants",
}


def section_app_label(section: str) -> str:
    return SECTION_APP_LABELS.get(section, section)


# The permission that lifts the "own applicants only" rule.
SEE_ALL_PERMISSION = "applicants.view_all_applicants"


def can_see_all_applicants(user) -> bool:
    """True for credit managers and administrators: they see every officer's applicants."""
    return user.has_perm(SEE_ALL_PERMISSION)


def can_reassign_applicants(user) -> bool:
    return user.has_perm("applicants.reassign_applicant")


def grant_role_permissions(apps, app_label: str, section: str | None = None) -> None:
    """For a data migration: create the roles if needed and grant them `app_label`'s section.

    `section` names another section of ROLE_PERMISSIONS holding permissions of `app_label`
    (those added by a later migration).

    Permissions are normally created after all migrations have run (post_migrate); on a
    fresh database they do not exist yet, so they are created here first.
    """
    _create_permissions(apps, app_label)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    app_permissions = Permission.objects.filter(content_type__app_label=app_label)
    for role in ROLES:
        group, _ = Group.objects.get_or_create(name=role)
        if role == ADMINISTRATOR:
            group.permissions.add(*app_permissions)
            continue
        codenames = ROLE_PERMISSIONS[section or app_label].get(role, [])
        granted = list(app_permissions.filter(codename__in=codenames))
        missing = set(codenames) - {permission.codename for permission in granted}
        if missing:
            raise LookupError(f"Unknown {app_label} permissions for {role}: {sorted(missing)}")
        group.permissions.add(*granted)


def grant_administrator_all(apps, app_labels: tuple[str, ...]) -> None:
    """For a data migration: give Administrators every permission of Django's own apps."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    administrator, _ = Group.objects.get_or_create(name=ADMINISTRATOR)
    for app_label in app_labels:
        _create_permissions(apps, app_label)
        administrator.permissions.add(*Permission.objects.filter(content_type__app_label=app_label))


def _create_permissions(apps, app_label: str) -> None:
    from django.contrib.auth.management import create_permissions

    app_config = apps.get_app_config(app_label)
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None

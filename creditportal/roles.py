"""The three roles of CreditPortal, as Django groups with permissions.

The groups are created by a data migration (applicants/migrations/0002_roles.py); later apps
add their own permissions to them in their own migrations. Code asks for permissions, never for
group names, so an administrator can grant a single capability to a single user.
"""

LOAN_OFFICER = "Loan officer"
CREDIT_MANAGER = "Credit manager"
ADMINISTRATOR = "Administrator"

OFFICER_PERMISSIONS = [
    "applicants.view_applicant",
    "applicants.add_applicant",
    "applicants.change_applicant",
    "applicants.view_application",
    "applicants.add_application",
    "applicants.change_application",
]
MANAGER_PERMISSIONS = [
    *OFFICER_PERMISSIONS,
    "applicants.view_all_applicants",
    "applicants.reassign_applicant",
]

# The permission that lifts the "own applicants only" rule.
SEE_ALL_PERMISSION = "applicants.view_all_applicants"


def can_see_all_applicants(user) -> bool:
    """True for credit managers and administrators: they see every officer's applicants."""
    return user.has_perm(SEE_ALL_PERMISSION)


def can_reassign_applicants(user) -> bool:
    return user.has_perm("applicants.reassign_applicant")

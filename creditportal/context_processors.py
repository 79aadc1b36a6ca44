from .roles import can_see_all_applicants


def roles(request) -> dict:
    """Tell templates what the signed-in user may see, for navigation."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"is_manager": False}
    return {"is_manager": can_see_all_applicants(user)}

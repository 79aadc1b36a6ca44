"""The sign-in forms (portal and Django admin)."""

from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.validators import MaxLengthValidator


class _UsernameLengthChecked:
    """Django sets the username field's `max_length` after creating the field, which adds no
    validator: a 400-character user name reached `authenticate()` and django-axes's record of
    the failed attempt (a 255-character column: a 500 on PostgreSQL). Checked here first, a
    too-long name is a field error and nothing is authenticated or recorded."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["username"]
        field.validators.append(MaxLengthValidator(field.max_length or 150))


class LoginForm(_UsernameLengthChecked, AuthenticationForm):
    pass


class AdminLoginForm(_UsernameLengthChecked, AdminAuthenticationForm):
    pass

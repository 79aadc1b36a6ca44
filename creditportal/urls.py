from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

from . import views
from .forms import AdminLoginForm, LoginForm

admin.site.login_form = AdminLoginForm
admin.site.site_header = "CreditPortal administration"
admin.site.site_title = "CreditPortal admin"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="applicants:list"), name="home"),
    path(
        "accounts/login/", auth_views.LoginView.as_view(authentication_form=LoginForm), name="login"
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/two-factor/", include("creditportal.two_factor_views")),
    path("health/", views.health, name="health"),
    path("admin/", admin.site.urls),
    path("api/", include("creditportal.api_router")),
    path("", include("applicants.urls")),
    path("", include("scoring.urls")),
    path("dashboard/", include("dashboard.urls")),
]

handler404 = "creditportal.views.page_not_found"
handler403 = "creditportal.views.permission_denied"
handler500 = "creditportal.views.server_error"

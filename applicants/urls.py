from django.urls import path

from . import views

app_name = "applicants"

urlpatterns = [
    path("applicants/", views.applicant_list, name="list"),
    path("applicants/new/", views.applicant_create, name="create"),
    path("applicants/<int:pk>/", views.applicant_detail, name="detail"),
    path("applicants/<int:pk>/edit/", views.applicant_edit, name="edit"),
    path("applicants/<int:pk>/archive/", views.applicant_archive, name="archive"),
    path("applicants/<int:pk>/reassign/", views.applicant_reassign, name="reassign"),
    path(
        "applicants/<int:applicant_pk>/applications/new/",
        views.application_create,
        name="application_create",
    ),
    path("applications/", views.application_list, name="application_list"),
    path("applications/<int:pk>/", views.application_detail, name="application_detail"),
    path("applications/<int:pk>/edit/", views.application_edit, name="application_edit"),
    path("applications/<int:pk>/submit/", views.application_submit, name="application_submit"),
]

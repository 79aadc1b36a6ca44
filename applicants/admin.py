from django.contrib import admin

from .models import Applicant, Application


class ApplicationInline(admin.TabularInline):
    model = Application
    extra = 0
    fields = ("scorecard", "requested_amount", "term_months", "status", "created_at")
    readonly_fields = ("created_at",)
    show_change_link = True


@admin.register(Applicant)
class ApplicantAdmin(admin.ModelAdmin):
    list_display = (
        "full_name",
        "external_reference",
        "masked_national_id",
        "owner",
        "is_archived",
        "updated_at",
    )
    list_filter = ("is_archived", "owner", "created_at")
    search_fields = ("full_name", "external_reference", "email")
    # The raw national id never appears in the admin: not in lists, forms or search.
    exclude = ("national_id",)
    readonly_fields = ("masked_national_id", "created_at", "updated_at")
    autocomplete_fields = ("owner",)
    inlines = [ApplicationInline]

    @admin.display(description="National ID")
    def masked_national_id(self, obj: Applicant) -> str:
        return obj.national_id_masked or "—"


@admin.register(Application)
class ApplicationAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "applicant",
        "scorecard",
        "requested_amount",
        "term_months",
        "status",
        "created_at",
    )
    list_filter = ("status", "scorecard", "created_at")
    search_fields = ("applicant__full_name", "applicant__external_reference", "purpose")
    list_select_related = ("applicant",)
    readonly_fields = ("created_at", "updated_at")
    autocomplete_fields = ("applicant", "created_by")

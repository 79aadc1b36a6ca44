from django.contrib import admin

from .models import Applicant, Application

# What a score and a decision were made on. Once an application is scored, an
# administrator cannot change these in the admin: the officer's pages (reopen, score again)
# are the way, and they keep the history. Its status moves only through those pages.
AUDITED_FIELDS = (
    "applicant",
    "scorecard",
    "requested_amount",
    "term_months",
    "purpose",
    "inputs",
    "created_by",
)


SCORED_STATUSES = (Application.Status.SCORED, Application.Status.DECIDED)


class ApplicationInline(admin.TabularInline):
    model = Application
    extra = 0
    fields = ("scorecard", "requested_amount", "term_months", "status", "created_at")
    readonly_fields = fields  # applications are edited on their own admin page
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


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
    autocomplete_fields = ("applicant", "created_by")

    def get_readonly_fields(self, request, obj: Application | None = None):
        readonly = ["status", "created_at", "updated_at"]
        if obj is not None and obj.status in SCORED_STATUSES:
            readonly += AUDITED_FIELDS
        return readonly

    def has_delete_permission(self, request, obj: Application | None = None) -> bool:
        if obj is not None and obj.status in SCORED_STATUSES:
            return False
        return super().has_delete_permission(request, obj)


class HistoricalRecordAdmin(admin.ModelAdmin):
    """Change history, to read: a record of what happened is never added, changed or deleted
    by hand. (simple_history's own admin is not used: its history pages can revert a row,
    which for an applicant would also wipe the national id that history does not keep.)"""

    list_display = ("history_date", "history_type", "history_user", "id")
    list_filter = ("history_type", "history_date")
    list_select_related = ("history_user",)
    date_hierarchy = "history_date"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Applicant.history.model)
class HistoricalApplicantAdmin(HistoricalRecordAdmin):
    list_display = (*HistoricalRecordAdmin.list_display, "full_name", "external_reference")
    search_fields = ("full_name", "external_reference")
    # National ids are not in the history; their blind index is no one's business here.
    exclude = ("national_id_index",)


@admin.register(Application.history.model)
class HistoricalApplicationAdmin(HistoricalRecordAdmin):
    list_display = (*HistoricalRecordAdmin.list_display, "status", "requested_amount")
    search_fields = ("applicant__full_name",)

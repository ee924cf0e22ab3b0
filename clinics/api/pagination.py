"""The API's one way of paging a list: a cursor (`next`, `previous`) and `page_size`."""

from __future__ import annotations

from django.utils.dateparse import parse_datetime
from rest_framework import exceptions, serializers
from rest_framework.pagination import CursorPagination

from clinics.api.base import StrictInputSerializer

MAX_PAGE_SIZE = 100
PAGE_SIZE_ERROR = (
    f"Give a whole number of rows from 1 (more than {MAX_PAGE_SIZE} gives {MAX_PAGE_SIZE})."
)


def _position_ok(position: str, kind: str) -> bool:
    if kind == "number":
        return position.isascii() and position.isdigit()
    try:
        return parse_datetime(position) is not None
    except ValueError:  # well formed, but no such day or time (2026-13-01)
        return False


class ClinicCursorPagination(CursorPagination):
    """Cursor pages of `page_size` rows (default 20). A `page_size` above 100 gives 100; one
    that is not a whole number from 1 is refused with a 400 instead of quietly ignored."""

    page_size = 20
    page_size_query_param = "page_size"
    page_size_query_description = (
        f"Rows per page, 1 to {MAX_PAGE_SIZE} (default 20); more gives {MAX_PAGE_SIZE}."
    )
    max_page_size = MAX_PAGE_SIZE
    template = None
    invalid_cursor_message = "This page link is not valid. Start again from the first page."

    # What the first ordering column holds: a page link's position is checked against it, so a
    # forged link answers 404 instead of failing in the database.
    position_is = "number"

    def decode_cursor(self, request):
        cursor = super().decode_cursor(request)
        position = cursor.position if cursor is not None else None
        if position is not None and not _position_ok(position, self.position_is):
            raise exceptions.NotFound(self.invalid_cursor_message)
        return cursor

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        if not raw.isascii() or not raw.isdigit() or int(raw) < 1:
            raise exceptions.ValidationError({self.page_size_query_param: [PAGE_SIZE_ERROR]})
        return min(int(raw), self.max_page_size)

    def get_schema_operation_parameters(self, view):
        cursor, size = super().get_schema_operation_parameters(view)
        size["schema"] = {"type": "integer", "minimum": 1}
        return [cursor, size]


class PagedQuerySerializer(StrictInputSerializer):
    """The query of a paged list: its own filters plus `cursor` and `page_size`."""

    cursor = serializers.CharField(
        required=False, help_text="The page to read: take it from `next` or `previous`."
    )
    page_size = serializers.IntegerField(
        required=False,
        min_value=1,
        error_messages={"min_value": PAGE_SIZE_ERROR, "invalid": PAGE_SIZE_ERROR},
        help_text=ClinicCursorPagination.page_size_query_description,
    )

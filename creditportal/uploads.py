"""Uploaded files capped while they stream in, not after the whole body is on disk.

`CappedUploadHandler` comes first in FILE_UPLOAD_HANDLERS, so it sees every chunk of every
file part before Django's memory and temporary-file handlers do, in the portal's forms and
the API alike (DRF parses multipart bodies with the same `request.upload_handlers`). The
limit counts all the file parts of a request together. Once a request's files pass their
view's limit, no more of them reaches the other handlers, whatever they held is closed (a
temporary file is deleted then), and the form or serializer gets an `OversizedUpload` in
place of the file: a file object holding nothing whose `size` is the request's file bytes
so far, so the service's size check refuses it with the usual message ("The file is
512.3 MB; the limit is 400 MB."), a 400 naming the field, and nothing is stored.

The rest of the body is still read and thrown away, so the browser gets that answer rather
than a connection reset mid-upload; a proxy's body limit (docs/deployment.md) bounds that
reading.

A view says how large its files may be by naming the setting that holds the limit in MB:
`@accepts_uploads("MAX_BATCH_UPLOAD_MB")` on a function view, an `upload_limit_setting`
attribute on an API view class. A view that names none takes files up to
DATA_UPLOAD_MAX_MEMORY_SIZE, Django's limit for a body without files.
"""

from __future__ import annotations

from collections.abc import Callable
from io import BytesIO

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler

DEFAULT_LIMIT_BYTES = 2_621_440  # Django's DATA_UPLOAD_MAX_MEMORY_SIZE default, 2.5 MB


def accepts_uploads(setting: str) -> Callable:
    """Mark a function view as taking files up to `settings.<setting>` MB (outermost, so no
    other decorator hides the mark)."""

    def mark(view: Callable) -> Callable:
        view.upload_limit_setting = setting
        return view

    return mark


def upload_limit_bytes(request) -> int:
    """The largest file the view resolved for `request` takes, in bytes."""
    match = getattr(request, "resolver_match", None)
    view = getattr(match, "func", None)
    setting = getattr(view, "upload_limit_setting", None)
    for cls in (getattr(view, "cls", None), getattr(view, "view_class", None)):
        setting = setting or getattr(cls, "upload_limit_setting", None)
    if setting is not None:
        return int(getattr(settings, setting)) * 1024 * 1024
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE or DEFAULT_LIMIT_BYTES


class OversizedUpload(UploadedFile):
    """What a form or serializer gets for a file over its limit: no content, its real size."""

    def __init__(self, name: str, size: int, content_type: str | None, charset: str | None):
        super().__init__(BytesIO(), name, content_type, size, charset)


class CappedUploadHandler(FileUploadHandler):
    """Passes file chunks on until the view's limit; past it, drops them (see above).

    The limit holds for all the file parts of a request together, not for each: Django
    makes one handler per request and takes up to DATA_UPLOAD_MAX_NUMBER_FILES (100) parts,
    so a per-file cap let a request of many parts each just under it spool a hundred times
    the limit to disk. The part that takes the request past the limit, and every part after
    it, reaches the form or serializer as an `OversizedUpload` whose size is the request's
    file bytes so far, over the limit, so the usual size check refuses it."""

    def __init__(self, request=None):
        super().__init__(request)
        self.total = 0  # file bytes of the whole request

    def new_file(self, field_name, file_name, content_type, content_length, charset=None, *a):
        super().new_file(field_name, file_name, content_type, content_length, charset, *a)
        self.limit = upload_limit_bytes(self.request)
        self.over = self.total > self.limit

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes | None:
        self.total += len(raw_data)
        if not self.over and self.total > self.limit:
            self.over = True
            self._close_other_handlers_files()
        return None if self.over else raw_data

    def file_complete(self, file_size: int) -> UploadedFile | None:
        if not self.over:
            return None  # the next handler completes the file
        # A part that began over the limit reached no other handler's `receive_data_chunk`,
        # but they opened their file for it all the same (a temporary file: delete it).
        self._close_other_handlers_files()
        return OversizedUpload(self.file_name, self.total, self.content_type, self.charset)

    def _close_other_handlers_files(self) -> None:
        for handler in self.request.upload_handlers:
            held = getattr(handler, "file", None)
            if handler is not self and held is not None:
                held.close()  # a TemporaryUploadedFile is deleted when closed

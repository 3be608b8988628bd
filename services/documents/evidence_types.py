"""Which files count as evidence: decided by their bytes (sniffed), never by their names."""

from __future__ import annotations

import filetype

from shared.errors import PlatformError

# PDF, images, office documents and archives of those.
ALLOWED_MIME = {
    "application/pdf",
    "image/jpeg",
    "image/png",
    "image/tiff",
    "image/webp",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "application/msword",
    "application/vnd.ms-excel",
    "application/vnd.ms-powerpoint",
    "application/x-ole-storage",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/zip",
    "application/x-7z-compressed",
    "application/x-rar-compressed",
    "application/gzip",
    "application/x-tar",
}


class UnsupportedType(PlatformError):
    status = 415
    code = "unsupported_type"


def sniff(head: bytes) -> str:
    """The MIME type the bytes show, if it is allowed as evidence."""
    kind = filetype.guess(head)
    if kind is None:
        raise UnsupportedType(
            "the file's bytes match no allowed evidence type (PDF, image, office document, archive)",
            {"file": ["type not recognised from its content"]},
        )
    if kind.mime not in ALLOWED_MIME:
        raise UnsupportedType(
            f"files of type {kind.mime} are not accepted as evidence",
            {"file": [f"{kind.mime} is not an allowed evidence type"]},
        )
    return kind.mime

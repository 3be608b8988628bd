"""Which files count as evidence: decided by their bytes (sniffed), never by their names."""

from __future__ import annotations

import filetype

from shared.domain.errors import UnsupportedFileType

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


def sniff(head: bytes) -> str:
    """The MIME type the bytes show, if it is allowed as evidence."""
    kind = filetype.guess(head)
    if kind is None:
        raise UnsupportedFileType(
            "the file's bytes match no allowed evidence type (PDF, image, office document, archive)",
            {"file": ["type not recognised from its content"]},
        )
    if kind.mime not in ALLOWED_MIME:
        raise UnsupportedFileType(
            f"files of type {kind.mime} are not accepted as evidence",
            {"file": [f"{kind.mime} is not an allowed evidence type"]},
        )
    return kind.mime


# What a file's name may say it is, for each type the bytes may show. Office documents are
# zip or OLE containers underneath, and a sniffer may see only the container.
_OLE = {"application/msword", "application/vnd.ms-excel", "application/vnd.ms-powerpoint", "application/x-ole-storage"}
_DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
EXTENSIONS = {
    "pdf": {"application/pdf"},
    "jpg": {"image/jpeg"}, "jpeg": {"image/jpeg"}, "png": {"image/png"},
    "tif": {"image/tiff"}, "tiff": {"image/tiff"}, "webp": {"image/webp"},
    "docx": {_DOCX, "application/zip"}, "xlsx": {_XLSX, "application/zip"}, "pptx": {_PPTX, "application/zip"},
    "doc": _OLE, "xls": _OLE, "ppt": _OLE,
    "odt": {"application/vnd.oasis.opendocument.text", "application/zip"},
    "ods": {"application/vnd.oasis.opendocument.spreadsheet", "application/zip"},
    "zip": {"application/zip"}, "7z": {"application/x-7z-compressed"}, "rar": {"application/x-rar-compressed"},
    "gz": {"application/gzip"}, "tgz": {"application/gzip"}, "tar": {"application/x-tar"},
}
# Names that say "run me" or "render me": refused whatever the bytes, so that no stored
# evidence is ever offered for download under such a name.
EXECUTABLE_EXTENSIONS = {
    "exe", "dll", "com", "scr", "msi", "bat", "cmd", "ps1", "vbs", "js", "mjs", "jar", "sh", "bash", "app", "apk",
    "html", "htm", "xhtml", "svg", "php", "py", "pl", "rb", "hta", "lnk",
}


ACCEPTED = (
    "Accepted evidence, decided by the file's bytes (the name's extension, if any, must agree): "
    + ", ".join(EXTENSIONS) + ". Refused whatever the bytes: names ending in "
    + ", ".join(f".{e}" for e in sorted(EXECUTABLE_EXTENSIONS)) + ". The body is the file itself "
    "(application/octet-stream), with a Content-Length or chunked; an empty body is refused."
)


def _extension(filename: str) -> str | None:
    stem, dot, extension = filename.rpartition(".")
    return extension.lower() if dot and stem else None  # no extension: the bytes alone say what it is


def check_name_before_reading(filename: str) -> None:
    """A name that says "run me" is refused before a byte of the body is read."""
    extension = _extension(filename)
    if extension in EXECUTABLE_EXTENSIONS:
        raise UnsupportedFileType(
            f"a file named .{extension} is not accepted as evidence",
            {"filename": [f".{extension} names a program or a web page, not an evidence type"]},
        )


def check_name(filename: str, mime: str) -> None:
    """The name's extension, when it names an evidence type, names the type the bytes show."""
    extension = _extension(filename)
    expected = EXTENSIONS.get(extension) if extension else None
    if expected is not None and mime not in expected:
        raise UnsupportedFileType(
            f"the file is named .{extension} but its bytes are {mime}",
            {"file": [f"the name says .{extension} but the bytes are {mime}: name the file as what it is"]},
        )

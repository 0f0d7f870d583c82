"""What a bid's file really is: its type is read from its bytes (puremagic's signatures,
and the archive's own listing for zip-based formats), never from the type the
uploader declares, and must agree with the extension of its name. Executables are
refused whatever they are called, and names lose the bidirectional and other control
characters that make `invoice\u202egpj.exe` read as "invoiceexe.jpg"."""

from __future__ import annotations

import io
import unicodedata
import zipfile
from pathlib import PurePosixPath

import puremagic

from fuwu.errors import InvalidInput
from fuwu.i18n import N_
from bids.errors import BidError

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
TEXT = "text/plain"
ZIP = "application/zip"
MP4 = "video/mp4"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"

# The extension a stored file gets, by type.
STORED_SUFFIX = {PDF: ".pdf", PNG: ".png", JPEG: ".jpg", TEXT: ".txt", ZIP: ".zip", MP4: ".mp4",
                 DOCX: ".docx", XLSX: ".xlsx", PPTX: ".pptx"}
# The type each accepted extension of a name promises.
BY_SUFFIX = {".pdf": PDF, ".png": PNG, ".jpg": JPEG, ".jpeg": JPEG, ".txt": TEXT, ".csv": TEXT, ".md": TEXT,
             ".zip": ZIP, ".mp4": MP4, ".docx": DOCX, ".xlsx": XLSX, ".pptx": PPTX}
# The part an Office Open XML package must hold to be that kind of document.
OFFICE_PARTS = {DOCX: "word/", XLSX: "xl/", PPTX: "ppt/"}

# Programs and scripts a person could be tricked into running, inside an archive too.
EXECUTABLE_SUFFIXES = frozenset({
    ".exe", ".dll", ".com", ".scr", ".pif", ".cpl", ".msi", ".msp", ".sys", ".drv", ".bat", ".cmd", ".ps1",
    ".vbs", ".vbe", ".js", ".jse", ".wsf", ".wsh", ".hta", ".lnk", ".reg", ".jar", ".apk", ".app", ".dmg",
    ".sh", ".class", ".elf", ".so", ".dylib", ".bin", ".run", ".deb", ".rpm", ".appimage", ".iso", ".scf", ".url",
})
# A zip that is itself a program: an Android app, a Java archive.
APP_PACKAGE_PARTS = frozenset({"classes.dex", "androidmanifest.xml", "manifest.mf"})
EXECUTABLE_MAGIC = (b"MZ", b"\x7fELF", b"\xfe\xed\xfa\xce", b"\xfe\xed\xfa\xcf", b"\xce\xfa\xed\xfe",
                    b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe", b"\x00asm", b"dex\n", b"#!")
EXECUTABLE_MIME = frozenset({
    "application/vnd.microsoft.portable-executable", "application/x-msdownload", "application/x-dosexec",
    "application/x-executable", "application/x-elf", "application/x-mach-binary", "application/x-sharedlib",
    "application/java-archive", "application/java-vm", "application/vnd.android.package-archive",
    "application/x-msi", "application/x-ms-shortcut", "application/wasm",
})
# Plain text may hold tabs, line ends and form feeds; any other control character
# means the bytes are not text.
TEXT_CONTROLS = frozenset("\t\n\r\f")
MARKUP_STARTS = ("<!doctype", "<html", "<head", "<body", "<script", "<svg", "<?xml", "<iframe", "<object",
                 "<embed", "<meta", "<a ", "<img", "<div", "<style", "<form")
TEXT_ENCODINGS = ("utf-8-sig", "gb18030")

ALLOWED = N_("Attach PDF, PNG, JPEG, text (.txt, .csv, .md), Word, Excel, PowerPoint, zip or mp4 files.")
EXECUTABLE = N_("Programs and scripts cannot be attached. Attach documents, images, video or a zip of documents.")
ARCHIVE_PROGRAM = N_("The zip holds a program or script. Remove it and attach the zip again.")
ARCHIVE_UNREADABLE = N_("The zip cannot be read. Create it again and attach it.")
DISAGREES = N_("The file's content is not what its name says: it is named {suffix} but holds a {kind} file. "
               "Rename it or attach the right file.")


def clean_filename(filename: str | None) -> str:
    """The file's own name without folders or any character of Unicode's "other"
    categories (controls, bidirectional marks and overrides, zero-width and private
    use characters), in NFC, at most 200 characters with its extension kept."""
    text = unicodedata.normalize("NFC", filename or "")
    text = "".join(ch for ch in text if not unicodedata.category(ch).startswith("C"))
    text = text.replace("\\", "/").rsplit("/", 1)[-1].strip().strip(".").strip()
    if len(text) > 200:
        path = PurePosixPath(text)
        suffix = path.suffix[:20]
        text = text[: 200 - len(suffix)].rstrip() + suffix
    return text


def _refuse(detail: str, **params) -> InvalidInput:
    return InvalidInput(BidError.ATTACHMENT, detail, params=params or None)


def _is_executable(content: bytes, matches: list) -> bool:
    if content.startswith(EXECUTABLE_MAGIC):
        return True
    for match in matches:
        if match.mime_type in EXECUTABLE_MIME or "executable" in match.name.lower():
            return True
    return False


def _archive_type(content: bytes) -> str:
    """zip, or the Office document it packages; refuses archives that cannot be read
    or that carry programs."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        raise _refuse(ARCHIVE_UNREADABLE) from None
    for name in names:
        inner = clean_filename(name).lower()
        if PurePosixPath(inner).suffix in EXECUTABLE_SUFFIXES or inner in APP_PACKAGE_PARTS:
            raise _refuse(ARCHIVE_PROGRAM)
    if "[Content_Types].xml" in names:
        for kind, part in OFFICE_PARTS.items():
            if any(name.startswith(part) for name in names):
                return kind
    return ZIP


def _is_text(content: bytes) -> bool:
    for encoding in TEXT_ENCODINGS:
        try:
            text = content.decode(encoding)
        except UnicodeDecodeError:
            continue
        if any(unicodedata.category(ch) == "Cc" and ch not in TEXT_CONTROLS for ch in text):
            return False
        head = text.lstrip().lower()
        return not head.startswith(MARKUP_STARTS)
    return False


def sniff(content: bytes) -> str | None:
    """The type of the content among those a bid takes, else None. Raises for
    executables and for archives that carry programs."""
    try:
        matches = puremagic.magic_string(content)
    except puremagic.PureError:
        matches = []
    if content.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        # Every zip-based format shares this signature (puremagic lists jar and apk
        # for any zip): the archive's listing tells them apart.
        return _archive_type(content)
    if _is_executable(content, matches):
        raise _refuse(EXECUTABLE)
    if content.startswith(b"%PDF"):
        return PDF
    mimes = {match.mime_type for match in matches}
    for kind in (PNG, JPEG, MP4):
        if kind in mimes:
            return kind
    if matches:
        # Recognised as something a bid does not take (HTML, SVG, a font, …).
        return None
    return TEXT if _is_text(content) else None


def check_file(filename: str | None, content: bytes) -> tuple[str, str]:
    """The clean name and the sniffed type of an uploaded file; InvalidInput (422)
    when the name's extension is not one a bid takes, when the content is an
    executable or not a type a bid takes, or when content and extension disagree."""
    name = clean_filename(filename)
    suffix = PurePosixPath(name).suffix.lower() if PurePosixPath(name).stem else ""
    if suffix in EXECUTABLE_SUFFIXES:
        raise _refuse(EXECUTABLE)
    if suffix and suffix not in BY_SUFFIX:
        raise _refuse(ALLOWED)
    kind = sniff(content)
    if kind is None:
        raise _refuse(ALLOWED)
    if not suffix:
        # A name without an extension gets the one of its content; text must say it is text.
        if kind == TEXT:
            raise _refuse(ALLOWED)
        name = f"{name or 'file'}{STORED_SUFFIX[kind]}"
    elif BY_SUFFIX[suffix] != kind:
        raise _refuse(DISAGREES, suffix=suffix, kind=STORED_SUFFIX[kind])
    return name, kind

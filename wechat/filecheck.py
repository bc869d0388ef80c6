"""What an uploaded file really is: PDFs parsed with pypdf, images decoded with Pillow, no markup or script."""
from __future__ import annotations

import io
import logging
import re

import pypdf
from PIL import Image
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

from items.errors import Invalid, invalid

logger = logging.getLogger(__name__)

# A photo of a material has a few megapixels; this many is a decompression bomb, not a scan. Kept
# below Pillow's own warning threshold so the check, not a warning, decides.
MAX_PIXELS = 50_000_000
# Objects of a PDF walked for active content; a scan of a few pages has hundreds.
MAX_PDF_OBJECTS = 200_000
# Markup a browser or an interpreter would act on. A polyglot (a file that is valid as two types, e.g.
# "%PDF-1.4<html>…") carries it somewhere; our formats never need it.
_MARKUP = re.compile(rb"<\s*(?:html|script|iframe|svg|body|object|embed)\b|<!doctype\s+html|<\?php|javascript:",
                     re.IGNORECASE)
# PDF actions that run something or send data away, and names under which a PDF carries script,
# attachments or forms with their own code.
_PDF_ACTIONS = frozenset({"/JavaScript", "/Launch", "/ImportData", "/SubmitForm", "/RichMediaExecute"})
_PDF_KEYS = frozenset({"/JS", "/JavaScript", "/AA", "/EmbeddedFiles", "/EmbeddedFile", "/XFA", "/RichMedia"})
_IMAGE_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG"}


def refuse(rule: str, message: str, **details) -> Invalid:
    return invalid(message, "/file", rule, code="upload_refused", **details)


def inspect(content: bytes, kind: str) -> None:
    """Check that `content`, whose leading bytes say it is `kind` (a PDF, JPEG or PNG), parses as
    exactly that and carries nothing active. Raises Invalid (upload_refused) naming the rule:
    no_markup, trailing_data, file_parses, image_size, pdf_encrypted, pdf_pages, no_active_content."""
    if _MARKUP.search(content):
        raise refuse("no_markup", "the file carries HTML or script; upload a plain scan or photo")
    if kind == "application/pdf":
        _inspect_pdf(content)
    else:
        _inspect_image(content, kind)


def _inspect_image(content: bytes, kind: str) -> None:
    fmt = _IMAGE_FORMATS[kind]
    if fmt == "PNG":
        end = content.rfind(b"IEND\xaeB`\x82")
        if end < 0 or content[end + 8:]:
            raise refuse("trailing_data", "the PNG file has data after its end")
    try:
        with Image.open(io.BytesIO(content), formats=[fmt]) as image:
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise refuse("image_size", f"the image has {width}×{height} pixels; at most {MAX_PIXELS} are "
                             "accepted", max_pixels=MAX_PIXELS)
            image.verify()  # checks the structure and chunk checksums without decoding
        with Image.open(io.BytesIO(content), formats=[fmt]) as image:
            image.load()  # verify() does not decode: a truncated or corrupt body only shows here
    except Invalid:
        raise
    except Exception as exc:  # noqa: BLE001 - a decoder fed hostile bytes may raise anything; all mean "not an image"
        logger.info("upload refused: not a readable %s (%s)", fmt, type(exc).__name__)
        raise refuse("file_parses", f"the file is not a readable {fmt} image") from None


def _inspect_pdf(content: bytes) -> None:
    tail = content[content.rfind(b"%%EOF") + 5:] if b"%%EOF" in content else None
    if tail is None:
        raise refuse("file_parses", "the file is not a complete PDF (no %%EOF)")
    if tail.strip(b"\r\n\t \x00"):
        raise refuse("trailing_data", "the PDF file has data after its end")
    try:
        reader = pypdf.PdfReader(io.BytesIO(content), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise refuse("pdf_encrypted", "the PDF is protected by a password; upload it without one")
        pages = len(reader.pages)
        found = _active_content(reader)
    except Invalid:
        raise
    except Exception as exc:  # noqa: BLE001 - pypdf fed hostile bytes may raise anything; all mean "not a PDF"
        logger.info("upload refused: not a readable PDF (%s)", type(exc).__name__)
        raise refuse("file_parses", "the file is not a readable PDF") from None
    if pages < 1:
        raise refuse("pdf_pages", "the PDF has no pages")
    if found:
        raise refuse("no_active_content", f"the PDF carries {found}; upload a plain scan", found=found)


def _active_content(reader: pypdf.PdfReader) -> str | None:
    """The first script, action, attachment or form code reachable from the trailer, or None."""
    seen: set[tuple[int, int]] = set()
    stack: list = [reader.trailer]
    walked = 0
    while stack:
        node = stack.pop()
        if isinstance(node, IndirectObject):
            ref = (node.idnum, node.generation)
            if ref in seen:
                continue
            seen.add(ref)
            node = node.get_object()
        walked += 1
        if walked > MAX_PDF_OBJECTS:
            return "too many objects to check"
        if isinstance(node, DictionaryObject):
            for key in node:
                if key in _PDF_KEYS:
                    return key
            if node.get("/S") in _PDF_ACTIONS:
                return str(node.get("/S"))
            stack.extend(node.values())
        elif isinstance(node, ArrayObject):
            stack.extend(node)
    return None

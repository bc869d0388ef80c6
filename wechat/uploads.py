"""Citizens' uploads: size and type limits (types proven by parsing, wechat/filecheck.py), stored once per sha256."""
from __future__ import annotations

import hashlib
import logging
import os
import secrets
from pathlib import Path

from items.errors import TooLarge, UnsupportedType, invalid
from wechat import filecheck, store

logger = logging.getLogger(__name__)

# What an application may carry: scans and photos of materials. The type is read from the bytes;
# a declared Content-Type that disagrees is refused rather than trusted.
MAGIC = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)
ALLOWED_TYPES = tuple(kind for _, kind in MAGIC)
_GENERIC_TYPES = frozenset({"", "application/octet-stream"})  # clients that do not know the type
_FILE_MODE = 0o600  # readable by the service only; never executable
_DIR_MODE = 0o700


def sniff(content: bytes) -> str | None:
    """Return the content type the leading bytes prove (pdf, jpeg, png), or None."""
    for magic, kind in MAGIC:
        if content.startswith(magic):
            return kind
    return None


class UploadService:
    """Checks and stores uploads under `upload_dir`; every method is synchronous (run off the loop)."""

    def __init__(self, upload_dir: str | Path, max_bytes: int):
        self.root = Path(upload_dir)
        self.max_bytes = max_bytes

    def check(self, content: bytes, declared_type: str | None) -> str:
        """Return the content type of an upload, proven by parsing the file as that type.

        Raises Invalid (empty_upload), TooLarge (upload_too_large, details max_bytes),
        UnsupportedType (unsupported_upload_type, details allowed) when the leading bytes are not a
        PDF, JPEG or PNG or disagree with the declared type, and Invalid (upload_refused, details
        rule) when the file does not parse as what it claims or carries markup, script or data
        after its end (filecheck.inspect).
        """
        if not content:
            raise invalid("the file is empty", "/file", "non_empty", code="empty_upload")
        if len(content) > self.max_bytes:
            raise invalid(f"a file may have at most {self.max_bytes} bytes", "/file", "max_bytes",
                          code="upload_too_large", kind=TooLarge, max_bytes=self.max_bytes, size=len(content))
        kind = sniff(content)
        declared = (declared_type or "").split(";")[0].strip().lower()
        if kind is None:
            raise invalid("upload a PDF, JPEG or PNG file", "/file", "file_type", code="unsupported_upload_type",
                          kind=UnsupportedType, allowed=list(ALLOWED_TYPES))
        if declared not in _GENERIC_TYPES and declared != kind:
            raise invalid("the file's content does not match its declared type", "/file", "type_matches_content",
                          code="unsupported_upload_type", kind=UnsupportedType, declared=declared, detected=kind,
                          allowed=list(ALLOWED_TYPES))
        filecheck.inspect(content, kind)
        return kind

    def save(self, owner_id: int, content: bytes, declared_type: str | None) -> dict:
        """Store an upload of hall user `owner_id` → {file_id, sha256, size, content_type}.

        Equal content is written once (by sha256); each upload still gets its own file_id, owned by
        one user, so a file id never opens another user's file. Raises what `check` raises.
        """
        kind = self.check(content, declared_type)
        digest = hashlib.sha256(content).hexdigest()
        self._write(digest, content)
        file_id = secrets.token_urlsafe(18)
        with store.transaction():
            store.insert_upload(file_id, digest, len(content), kind, owner_id)
        return {"file_id": file_id, "sha256": digest, "size": len(content), "content_type": kind}

    def path_of(self, sha256: str) -> Path:
        """Return where the bytes with this sha256 are stored (two levels of fan-out)."""
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def _write(self, digest: str, content: bytes) -> None:
        target = self.path_of(digest)
        if target.exists():
            return
        target.parent.mkdir(parents=True, exist_ok=True, mode=_DIR_MODE)
        temp = target.with_name(f".{digest}.{secrets.token_hex(4)}.tmp")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _FILE_MODE)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(content)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temp, _FILE_MODE)  # the umask cannot widen it, but an inherited ACL might
            os.replace(temp, target)  # atomic: a reader never sees half a file
        except BaseException:
            temp.unlink(missing_ok=True)
            raise

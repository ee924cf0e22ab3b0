"""The archive's encrypted container: AES-256-GCM over the archive in chunks.

    MAGIC | u32 header length | header (JSON) | chunk*

Each chunk is `u32 length | ciphertext+tag`, at most CHUNK_SIZE bytes of plain text, sealed
with the backup key, a nonce made of the archive's random prefix, the chunk's number and a flag
set only on the last chunk, and the header as associated data. So memory stays flat whatever
the archive's size, and a changed byte, a chunk moved or dropped, a changed header or a file cut
short are all refused (`ArchiveDamaged`) instead of restoring something that is not the backup.
"""

from __future__ import annotations

import io
import json
import os
import struct
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from clinics.backups import keys
from clinics.backups.errors import ArchiveDamaged, BackupKeyMissing

MAGIC = b"VAIDYA-BACKUP\x00v1\n"
CHUNK_SIZE = 1024 * 1024
FORMAT = 1
_LEN = struct.Struct(">I")
_MAX_HEADER = 64 * 1024
_TAG = 16


def _nonce(prefix: bytes, counter: int, last: bool) -> bytes:
    return prefix + struct.pack(">I", counter) + (b"\x01" if last else b"\x00")


class EncryptingWriter(io.RawIOBase):
    """A write-only stream that encrypts what is written into `sink`, chunk by chunk.
    `close()` seals the last chunk; a writer never closed leaves an archive that is refused."""

    def __init__(self, sink: BinaryIO) -> None:
        super().__init__()
        self._sink = sink
        key_id, key = keys.current_backup_key()
        self._aead = AESGCM(key)
        self._prefix = os.urandom(7)
        header = json.dumps(
            {
                "format": FORMAT,
                "key_id": key_id,
                "chunk_size": CHUNK_SIZE,
                "nonce_prefix": self._prefix.hex(),
            },
            sort_keys=True,
        ).encode()
        self._header = header
        sink.write(MAGIC + _LEN.pack(len(header)) + header)
        self._buffer = bytearray()
        self._counter = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self._buffer += data
        while len(self._buffer) > CHUNK_SIZE:
            self._seal(bytes(self._buffer[:CHUNK_SIZE]), last=False)
            del self._buffer[:CHUNK_SIZE]
        return len(data)

    def _seal(self, plain: bytes, *, last: bool) -> None:
        sealed = self._aead.encrypt(_nonce(self._prefix, self._counter, last), plain, self._header)
        self._sink.write(_LEN.pack(len(sealed)) + sealed)
        self._counter += 1

    def close(self) -> None:
        if not self.closed:
            self._seal(bytes(self._buffer), last=True)
            self._buffer.clear()
        super().close()


def read_header(source: BinaryIO) -> tuple[dict, bytes]:
    """The archive's header (and its bytes), or `ArchiveDamaged` when it is not one."""
    start = source.read(len(MAGIC) + _LEN.size)
    if len(start) < len(MAGIC) + _LEN.size or not start.startswith(MAGIC):
        raise ArchiveDamaged("This file is not a Vaidya backup archive (or its start is damaged).")
    (length,) = _LEN.unpack(start[len(MAGIC) :])
    if length > _MAX_HEADER:
        raise ArchiveDamaged("The archive's header is damaged.")
    raw = source.read(length)
    try:
        header = json.loads(raw)
        if len(bytes.fromhex(header["nonce_prefix"])) != 7 or int(header["chunk_size"]) < 1:
            raise ValueError
        str(header["key_id"])
    except (ValueError, KeyError, TypeError):
        raise ArchiveDamaged("The archive's header is damaged.") from None
    if header.get("format") != FORMAT:
        raise ArchiveDamaged(
            f"The archive has format {header.get('format')!r}; this Vaidya reads format {FORMAT}."
        )
    return header, raw


class DecryptingReader(io.RawIOBase):
    """A read-only stream of the archive's plain text. Every chunk is checked before a byte of
    it is handed out; the end of the file before the last chunk raises `ArchiveDamaged`."""

    def __init__(self, source: BinaryIO) -> None:
        super().__init__()
        self._source = source
        header, self._header = read_header(source)
        self.key_id = header["key_id"]
        key = keys.backup_key_for(self.key_id)
        if key is None:
            raise BackupKeyMissing(
                f"This archive was encrypted with backup key {self.key_id}, which is not in "
                f"BACKUP_KEYS (configured: {', '.join(keys.backup_key_ids()) or 'none'}). "
                "Put that key in BACKUP_KEYS (or data/backup_key) and try again."
            )
        self._aead = AESGCM(key)
        self._prefix = bytes.fromhex(header["nonce_prefix"])
        self._max = int(header["chunk_size"]) + _TAG
        self._counter = 0
        self._plain = b""
        self._pos = 0
        self._done = False

    def readable(self) -> bool:
        return True

    def _next_chunk(self) -> None:
        start = self._source.read(_LEN.size)
        if len(start) < _LEN.size:
            raise ArchiveDamaged(
                "The archive is incomplete: it ends before its last part (a copy or upload "
                "cut short?)."
            )
        (length,) = _LEN.unpack(start)
        if length > self._max or length < _TAG:
            raise ArchiveDamaged(f"The archive is damaged at part {self._counter + 1}.")
        sealed = self._source.read(length)
        if len(sealed) < length:
            raise ArchiveDamaged(
                "The archive is incomplete: it ends in the middle of a part (a copy or upload "
                "cut short?)."
            )
        for last in (False, True):
            try:
                self._pos = 0
                self._plain = self._aead.decrypt(
                    _nonce(self._prefix, self._counter, last), sealed, self._header
                )
            except InvalidTag:
                continue
            self._counter += 1
            if last:
                self._done = True
                if self._source.read(1):
                    raise ArchiveDamaged("The archive has bytes after its last part.")
            return
        raise ArchiveDamaged(
            f"The archive was changed or damaged: part {self._counter + 1} does not match its "
            "seal (or the backup key is not the one it was made with)."
        )

    def readinto(self, buffer) -> int:
        while self._pos >= len(self._plain):
            if self._done:
                return 0
            self._next_chunk()
        n = min(len(buffer), len(self._plain) - self._pos)
        buffer[:n] = memoryview(self._plain)[self._pos : self._pos + n]
        self._pos += n
        return n

    def drain(self) -> None:
        """Read to the end, so that the last chunk and the end of the file are checked."""
        while self.read(CHUNK_SIZE):
            pass

"""Bytes to text: the deterministic encoding cascade of :func:`decode_bytes` (byte-order marks,
binary content, UTF-8, GB18030 versus Big5 by plausibility, charset-normalizer as a last resort)."""
from __future__ import annotations

import codecs
import logging
import re
from functools import lru_cache
from typing import Iterable

from ..errors import BinaryContentError, DecodeError

__all__ = ["check_not_binary", "decode_bytes", "starts_with_bom"]

log = logging.getLogger(__name__)

_CONTROL_SHARE_LIMIT = 0.05
_PLAUSIBILITY_THRESHOLD = 0.5
_SCORE_SAMPLE = 200_000  # non-ASCII characters scored at most


_BOMS: tuple[tuple[bytes, str, str], ...] = (
    # UTF-32 first: its little-endian BOM starts with the UTF-16 one.
    (codecs.BOM_UTF32_LE, "utf-32", "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32", "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig", "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16", "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "utf-16"),
)

# control bytes / characters other than \t \n \v \f \r (form feeds separate pages in pdftotext output)
_CONTROL_BYTES = bytes([*range(0x00, 0x09), *range(0x0E, 0x20), 0x7F])
_CONTROL_CHARS = re.compile("[\x00-\x08\x0e-\x1f\x7f]")

# scripts that show up when Big5 is misread as GB18030 (and vice versa) but hardly in reports
_NOT_PLAUSIBLE = re.compile("[\u0370-\u04ff\u2500-\u257f\u3040-\u30ff\u3100-\u312f\u31a0-\u31bf]")


def _table_chars(codec: str, leads: Iterable[int], trails: Iterable[int], last: int | None = None) -> set[str]:
    out: set[str] = set()
    trails = list(trails)
    for lead in leads:
        for trail in trails:
            if last is not None and (lead << 8 | trail) > last:
                break
            try:
                out.add(bytes((lead, trail)).decode(codec))
            except UnicodeDecodeError:
                pass
    return out


@lru_cache(maxsize=1)
def _plausible_chars() -> frozenset[str]:
    """Characters expected in Chinese prose, built from the code tables themselves.

    The 3755 level-1 (most common) hanzi of GB2312 (rows B0-D7), the 5401 frequent hanzi of Big5
    (A440-C67E), the punctuation/number/full-width rows of GB2312 (A1-A3) and the symbol rows of
    Big5 (A140-A3BF), minus Greek, Cyrillic, kana, bopomofo and box drawing.
    """
    big5_trails = [*range(0x40, 0x7F), *range(0xA1, 0xFF)]
    chars = _table_chars("gb2312", range(0xB0, 0xD8), range(0xA1, 0xFF))
    chars |= _table_chars("big5", range(0xA4, 0xC7), big5_trails, last=0xC67E)
    symbols = _table_chars("gb2312", range(0xA1, 0xA4), range(0xA1, 0xFF))
    symbols |= _table_chars("big5", range(0xA1, 0xA4), big5_trails, last=0xA3BF)
    chars |= {c for c in symbols if not _NOT_PLAUSIBLE.match(c)}
    chars |= {chr(c) for c in range(0xA0, 0x100)}  # Latin-1 symbols: ° × ÷ ± § ·
    return frozenset(chars)


def _plausibility(text: str) -> float:
    """Share of the non-ASCII characters of ``text`` that are common hanzi or common symbols."""
    plausible = _plausible_chars()
    n = hits = 0
    for ch in text:
        if ch < "\x80":
            continue
        n += 1
        hits += ch in plausible
        if n >= _SCORE_SAMPLE:
            break
    return hits / n if n else 1.0


def _decode_prefix(data: bytes, codec: str) -> str:
    """Decode strictly, tolerating only an incomplete multibyte sequence at the very end (a file
    cut in the middle of a character); those trailing bytes are dropped."""
    decoder = codecs.getincrementaldecoder(codec)(errors="strict")
    text = decoder.decode(data, final=False)
    rest = decoder.getstate()[0]
    if rest:
        log.debug("dropping %d trailing byte(s) of an incomplete %s character", len(rest), codec)
    return text


def _control_share(data: bytes | str) -> float:
    if not data:
        return 0.0
    if isinstance(data, bytes):
        return (len(data) - len(data.translate(None, _CONTROL_BYTES))) / len(data)
    return len(_CONTROL_CHARS.findall(data)) / len(data)


def _check_controls(data: bytes | str, doc_id: str) -> None:
    share = _control_share(data)
    if share > _CONTROL_SHARE_LIMIT:
        raise BinaryContentError(doc_id, f"binary content ({share:.0%} control characters)")


def starts_with_bom(data: bytes) -> bool:
    """Whether ``data`` starts with a UTF-8, UTF-16 or UTF-32 byte-order mark."""
    return data.startswith(tuple(bom for bom, _, _ in _BOMS))


def check_not_binary(prefix: bytes, doc_id: str) -> None:
    """Raise :class:`BinaryContentError` when ``prefix`` (the bytes of a text file or any first part
    of them) holds a NUL byte and starts with no byte-order mark: :func:`decode_bytes` refuses such
    bytes whatever follows, so an archive member can be refused at its first chunk (a zip bomb of
    zeros is never inflated)."""
    if b"\x00" in prefix and not starts_with_bom(prefix):
        raise BinaryContentError(doc_id, "binary content (NUL bytes, and no UTF-16/32 byte-order mark)")


def decode_bytes(data: bytes, doc_id: str) -> tuple[str, str]:
    """Decode report bytes; return ``(text, encoding)``.

    The cascade is deterministic:

    1. a byte-order mark decides: ``utf-8-sig``, ``utf-16`` (LE or BE) or ``utf-32``;
    2. otherwise NUL bytes or more than 5% control bytes mean binary content;
    3. strict UTF-8 -> ``utf-8``;
    4. strict GB18030 and strict Big5 (CP950 as a fallback for its extensions) are both tried and
       scored by the share of their non-ASCII characters that are common hanzi or common symbols
       (Big5 text read as GB18030 turns into rare characters, kana and private-use code points;
       GBK text is usually not even valid Big5). The higher score wins, GB18030 on a tie, if it is
       at least 0.5 -> ``gb18030`` or ``big5``;
    5. charset-normalizer as a last resort, for other (non-CJK) encodings; its answer is taken
       only if it is not one of the encodings rejected above nor BOM-less UTF-16/32.

    In steps 1, 3 and 4 an incomplete multibyte character at the very end is dropped.

    Raises :class:`BinaryContentError` or :class:`DecodeError`, both naming ``doc_id``.
    """
    for bom, codec, name in _BOMS:
        if data.startswith(bom):
            try:
                text = _decode_prefix(data, codec)
            except UnicodeDecodeError as exc:
                raise DecodeError(doc_id, f"starts with a {name} byte-order mark but is not valid {name} "
                                          f"({exc.reason} at byte {exc.start})") from None
            _check_controls(text, doc_id)
            return text, name

    check_not_binary(data, doc_id)
    _check_controls(data, doc_id)

    try:
        return _decode_prefix(data, "utf-8"), "utf-8"
    except UnicodeDecodeError as exc:
        utf8_error = f"{exc.reason} at byte {exc.start}"

    candidates: list[tuple[float, int, str, str]] = []  # (score, preference, encoding, text)
    for preference, (name, codec_names) in enumerate((("gb18030", ("gb18030",)), ("big5", ("big5", "cp950")))):
        for codec in codec_names:
            try:
                text = _decode_prefix(data, codec)
            except UnicodeDecodeError:
                continue
            candidates.append((_plausibility(text), -preference, name, text))
            break
    if candidates:
        score, _, name, text = max(candidates)
        log.debug("%s: decoding scores %s", doc_id, {c[2]: round(c[0], 3) for c in candidates})
        if score >= _PLAUSIBILITY_THRESHOLD:
            return text, name

    fallback = _charset_normalizer_guess(data)
    if fallback is not None:
        return fallback
    tried = ", ".join(f"{c[2]} decodes to implausible text ({c[0]:.0%} common characters)" for c in candidates)
    raise DecodeError(doc_id, "cannot decode the bytes: not valid UTF-8 (" + utf8_error + ")"
                      + ("; " + tried if tried else "; not valid GB18030 or Big5 either")
                      + "; no other encoding fits")


_REJECTED_FALLBACKS = ("utf", "gb", "big5", "cp950", "cp936", "hz")


def _charset_normalizer_guess(data: bytes) -> tuple[str, str] | None:
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # pragma: no cover - a declared dependency
        return None
    best = from_bytes(data).best()
    if best is None:
        return None
    try:
        name = codecs.lookup(best.encoding).name
    except LookupError:  # pragma: no cover
        return None
    if name.replace("_", "-").startswith(_REJECTED_FALLBACKS):
        return None
    text = str(best)
    if _control_share(text) > _CONTROL_SHARE_LIMIT:
        return None
    return text, name

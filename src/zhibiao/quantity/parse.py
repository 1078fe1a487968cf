"""Parsing the text of one quantity span (:func:`parse_quantity`) or a bare numeral
(:func:`parse_number`); the rules are in the ``zhibiao.quantity`` docstring."""
from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, localcontext

from ..errors import QuantityParseError
from ..normalize import normalize
from .numerals import CN_BIG, CN_CHARS, CN_FRAC_DIGITS, CnError, cn_number
from .units import (BASE_UNITS, D, DENOMINATORS, INFIXES, MULTIPLIERS, PERCENT_WORD, POSTFIXES, PREFIXES,
                    RANGE_SEPS, alternation)


@dataclass(frozen=True)
class Quantity:
    """A parsed quantity. See the module docstring for the rules."""

    value: float  # the number as written (31.1 for 31.1万元; the low end of a range)
    unit: str | None  # the unit as written (万元, 户, 人次, %, 元/亩 ...); None for a bare number
    normalized_value: float | None  # the value in the base unit (311000.0 for 31.1万元)
    normalized_unit: str | None  # the simplified base unit (元, 户, 人, 人次, 亩, 米, % ...)
    approximate: bool  # 余, 多, 近, 约, 超, 逾, 以上, 左右 ... glued to the quantity
    value_max: float | None = None  # the high end of a range
    normalized_value_max: float | None = None


# patterns over the normalised (simplified, folded, lower-cased, space-free) text
_ARABIC_RE = re.compile(r"[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]+)?(?![0-9])|[0-9]+(?:\.[0-9]+)?")
_CN_RE = re.compile(rf"[{CN_CHARS}]+(?:点[{CN_FRAC_DIGITS}]+[万亿]*)?")
_MULT_RE = re.compile(alternation(list(MULTIPLIERS)))
_BASE_RE = re.compile(alternation(list(BASE_UNITS)))
_DENOM_RE = re.compile(alternation(DENOMINATORS))
_PREFIX_RE = re.compile(alternation(PREFIXES))
_INFIX_RE = re.compile(alternation(INFIXES))
_POST_RE = re.compile(alternation(POSTFIXES))
_SEP_RE = re.compile(alternation(RANGE_SEPS))
_DIGITS = frozenset("0123456789")

@dataclass
class _Num:
    total: Decimal  # the full number, every multiplier applied
    mult_exp: int  # the multiplier that belongs to the unit (0: none)
    mult_pos: list[int]  # positions of that multiplier


@dataclass
class _Unit:
    base: str  # normalised unit, denominators included
    factor: Decimal
    pos: list[int]  # positions of the unit characters (and rate denominators)


def _prepare(text: str) -> tuple[str, list[str]]:
    """Normalised, space-free, lower-cased text and the original character of each position."""
    norm = normalize(text)
    s = norm.text
    chars: list[str] = []
    origs: list[str] = []
    i = 0
    while i < len(s):
        ch = s[i]
        if ch.isspace():
            j = i
            while j < len(s) and s[j].isspace():
                j += 1
            if chars and chars[-1] in _DIGITS and j < len(s) and s[j] in _DIGITS:
                chars.append(",")  # 1 605 -> 1,605 (the group is checked later)
                origs.append(" ")
            i = j
            continue
        chars.append(ch.lower() if ch.isascii() else ch)
        origs.append(text[norm.index[i]])
        i += 1
    return "".join(chars), origs


class _Parser:
    def __init__(self, text: str, what: str = "quantity") -> None:
        if not isinstance(text, str):
            raise QuantityParseError(f"cannot parse {what} {text!r}: expected str, got {type(text).__name__}")
        self.text = text
        self.what = what
        self.s, self.orig = _prepare(text)
        self.pos = 0

    # -- helpers
    def fail(self, cause: str) -> QuantityParseError:
        return QuantityParseError(f"cannot parse {self.what} {self.text!r}: {cause}")

    def take(self, pattern: re.Pattern[str]) -> re.Match[str] | None:
        m = pattern.match(self.s, self.pos)
        if m:
            self.pos = m.end()
        return m

    def rest(self) -> str:
        """The rest of the text from the cursor, as written (for messages)."""
        return "".join(self.orig[self.pos:])

    def at_end(self) -> bool:
        return self.pos >= len(self.s)

    # -- numbers
    def number(self) -> _Num:
        if self.at_end():
            raise self.fail("no number" if self.s else "empty text")
        ch = self.s[self.pos]
        if ch in _DIGITS:
            return self.arabic()
        if ch in CN_BIG:
            raise self.fail(f"no number before {self.rest()!r}")
        if ch in CN_CHARS:
            return self.chinese()
        raise self.fail(
            f"no number at {self.rest()!r} (a vague amount such as 几万元 or 数十户 is not a quantity)"
        )

    def multiplier_here(self) -> tuple[int, list[int]] | None:
        """A multiplier at the cursor, unless a unit starting with one (千瓦, 百分点) is there."""
        if _BASE_RE.match(self.s, self.pos):
            return None
        start = self.pos
        m = self.take(_MULT_RE)
        if not m:
            return None
        return MULTIPLIERS[m.group()], list(range(start, m.end()))

    def arabic(self) -> _Num:
        m = self.take(_ARABIC_RE)
        assert m is not None
        total = D(m.group().replace(",", ""))
        mult = self.multiplier_here()
        if mult is None:
            return _Num(total, 0, [])
        last_exp, last_pos = mult
        total = total.scaleb(last_exp)
        links = 1
        while not self.at_end() and self.s[self.pos] in _DIGITS:
            m = self.take(_ARABIC_RE)
            assert m is not None
            part = D(m.group().replace(",", ""))
            nxt = self.multiplier_here()
            if nxt is None or nxt[0] >= last_exp:
                raise self.fail(
                    f"digits {m.group()!r} after a multiplier without a smaller multiplier of their own "
                    "(ambiguous: 13万2 may mean 132000 or be a garbled 13万元2…)"
                )
            last_exp, last_pos = nxt
            total += part.scaleb(last_exp)
            links += 1
        if links == 1 or last_exp in (4, 8, 12):
            return _Num(total, last_exp, last_pos)
        return _Num(total, 0, [])

    def continues_here(self, pos: int) -> bool:
        """Whether what follows a number at ``pos`` can continue a quantity."""
        if pos >= len(self.s) or self.s[pos] == "/":
            return True
        return any(p.match(self.s, pos) for p in (_BASE_RE, _MULT_RE, _INFIX_RE, _POST_RE, _SEP_RE))

    def chinese(self) -> _Num:
        start = self.pos
        m = _CN_RE.match(self.s, start)
        assert m is not None
        run = m.group()
        candidates = [run]
        # 五十千瓦, 三百分点: the last numeral character may begin the unit
        if len(run) > 1 and "点" not in run and _BASE_RE.match(self.s, start + len(run) - 1):
            candidates.append(run[:-1])
        error: str | None = None
        for k, cand in enumerate(candidates):
            try:
                total = cn_number(cand)
            except CnError as exc:
                error = error or f"malformed Chinese numeral {run!r}: {exc}"
                continue
            end = start + len(cand)
            if k + 1 < len(candidates) and not self.continues_here(end):
                continue
            self.pos = end
            if cand[-1] in CN_BIG:
                exp = CN_BIG[cand[-1]]
                return _Num(total, exp, [end - 1])
            return _Num(total, 0, [])
        raise self.fail(error or f"malformed Chinese numeral {run!r}")

    # -- units
    def unit(self) -> _Unit | None:
        start = self.pos
        m = self.take(_BASE_RE)
        if not m:
            return None
        base, factor = BASE_UNITS[m.group()]
        pos = list(range(start, m.end()))
        seps = "/"
        while not self.at_end() and self.s[self.pos] in seps:
            sep = self.s[self.pos]
            d = _DENOM_RE.match(self.s, self.pos + 1)
            if not d:
                raise self.fail(f"unknown unit after {sep!r} in {self.rest()!r}")
            pos.extend(range(self.pos, d.end()))
            base += sep + d.group()
            self.pos = d.end()
            seps = "/·•・"
        return _Unit(base, factor, pos)

    def surface(self, positions: list[int]) -> str:
        return "".join(self.orig[p] for p in positions)

    # -- terms
    def term(self, percent: bool) -> tuple[_Num, bool, _Unit | None]:
        """``number MULT? INFIX? MULT? UNIT?``; returns the number, approximate flag and unit."""
        num = self.number()
        approx = bool(self.take(_INFIX_RE))
        if approx and num.mult_exp == 0:
            mult = self.multiplier_here()
            if mult is not None:
                num.total = num.total.scaleb(mult[0])
                num.mult_exp, num.mult_pos = mult
        unit = None if percent else self.unit()
        return num, approx, unit


def _to_float(d: Decimal) -> float:
    return float(d) + 0.0  # + 0.0 turns -0.0 into 0.0


def parse_quantity(text: str) -> Quantity:
    """Parse the text of a ``QUANTITY`` span. See the module docstring for the rules.

    >>> parse_quantity("31.1万元")
    Quantity(value=31.1, unit='万元', normalized_value=311000.0, normalized_unit='元', approximate=False, value_max=None, normalized_value_max=None)
    """
    p = _Parser(text)
    with localcontext() as ctx:
        ctx.prec = 60
        approx = bool(p.take(_PREFIX_RE))
        percent_pos: list[int] | None = None
        if p.s.startswith(PERCENT_WORD, p.pos):
            percent_pos = list(range(p.pos, p.pos + len(PERCENT_WORD)))
            p.pos += len(PERCENT_WORD)
        percent = percent_pos is not None
        low, a1, unit1 = p.term(percent)
        high = None
        unit2 = None
        if p.take(_SEP_RE):
            if percent and p.s.startswith(PERCENT_WORD, p.pos):
                p.pos += len(PERCENT_WORD)
            high, a2, unit2 = p.term(percent)
            approx = approx or a2
        approx = approx or a1
        if p.take(_POST_RE):
            approx = True
        if not p.at_end():
            last_unit = unit2 if high is not None else unit1
            if last_unit is None and not percent:
                raise p.fail(f"unknown unit or unexpected text {p.rest()!r} after the number")
            raise p.fail(f"unexpected text {p.rest()!r} after the unit")

        final_unit: _Unit | None
        if percent_pos is not None:
            final_unit = _Unit("%", D(1), percent_pos)
            unit1 = unit2 = None
            final = high or low
        else:
            final, final_unit = (high, unit2) if high is not None else (low, unit1)
        if high is not None and unit1 is not None and unit2 is None:
            raise p.fail("the low end of the range has a unit but the high end has none")
        return _quantity(p, low if high is not None else None, unit1, final, final_unit, approx)


def _quantity(p: _Parser, low: _Num | None, low_unit: _Unit | None, final: _Num, final_unit: _Unit | None,
              approx: bool) -> Quantity:
    """The :class:`Quantity` of the number ``final`` in ``final_unit`` (the high end of a range
    whose low end is ``low`` in ``low_unit``, when ``low`` is given)."""
    # the unit as written and its normalisation
    factor = final_unit.factor if final_unit else D(1)
    if final_unit is None and final.mult_exp == 0:
        unit_surface, norm_unit = None, None
    else:
        unit_surface = p.surface(final.mult_pos + (final_unit.pos if final_unit else []))
        norm_unit = final_unit.base if final_unit else None

    value = final.total.scaleb(-final.mult_exp)
    normalized = final.total * factor
    if low is None:
        return Quantity(
            value=_to_float(value), unit=unit_surface, normalized_value=_to_float(normalized),
            normalized_unit=norm_unit, approximate=approx,
        )

    # range: express the low end in the high end's unit
    if low_unit is not None:
        assert final_unit is not None
        if low_unit.base != final_unit.base:
            raise p.fail(f"the ends of the range measure different units ({low_unit.base} and {final_unit.base})")
        low_norm = low.total * low_unit.factor
        low_value = low_norm / factor / D(10) ** final.mult_exp
    else:
        low_value = low.total.scaleb(-final.mult_exp) if low.mult_exp else low.total
        low_norm = low_value.scaleb(final.mult_exp) * factor
    if low_value > value:
        if low_unit is None:  # 10-5户: no reading as a range
            raise p.fail(f"the low end of the range ({low_value}) exceeds the high end ({value})")
        # both ends written with their unit (从800元到350元不等): the range, high end first
        low_value, value, low_norm, normalized = value, low_value, normalized, low_norm
    return Quantity(
        value=_to_float(low_value), unit=unit_surface, normalized_value=_to_float(low_norm),
        normalized_unit=norm_unit, approximate=approx, value_max=_to_float(value),
        normalized_value_max=_to_float(normalized),
    )


def parse_number(text: str) -> Decimal:
    """Parse an Arabic or Chinese numeral (multipliers included) into an exact Decimal.

    ``parse_number("1,234.5") == Decimal("1234.5")``; ``parse_number("两百") == 200``;
    ``parse_number("3.5万") == 35000``; ``parse_number("13万2")`` raises (see the module docstring).
    """
    p = _Parser(text, what="number")
    with localcontext() as ctx:
        ctx.prec = 60
        num = p.number()
        if not p.at_end():
            raise p.fail(f"unexpected text {p.rest()!r} after the number")
        total = num.total
        if total == total.to_integral_value():
            return total.quantize(D(1))
        return total.normalize()

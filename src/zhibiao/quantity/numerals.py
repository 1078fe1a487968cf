"""Chinese numerals: the digit and place tables and the exact (Decimal) value of a numeral run."""
from __future__ import annotations

from decimal import Decimal

D = Decimal

CN_DIGIT = {
    "零": 0, "〇": 0, "一": 1, "壹": 1, "二": 2, "贰": 2, "两": 2, "三": 3, "叁": 3, "参": 3,
    "四": 4, "肆": 4, "五": 5, "伍": 5, "六": 6, "陆": 6, "七": 7, "柒": 7, "八": 8, "捌": 8,
    "九": 9, "玖": 9,
}
CN_SMALL = {"十": 1, "拾": 1, "百": 2, "佰": 2, "千": 3, "仟": 3}
CN_BIG = {"万": 4, "亿": 8}
CN_CHARS = "".join(CN_DIGIT) + "".join(CN_SMALL) + "".join(CN_BIG)
CN_FRAC_DIGITS = "".join(k for k in CN_DIGIT if k != "两")

class CnError(Exception):
    """A Chinese numeral is malformed (the cause)."""


def cn_integer(s: str) -> Decimal:
    """Value of a Chinese integer numeral (no 点). Raises :class:`CnError`."""
    if not s:
        raise CnError("empty Chinese numeral")
    result = D(0)  # everything up to and including the last 亿
    wan = D(0)  # the part multiplied by 万 in the current 亿 group
    section = D(0)  # the part below 万
    digit: int | None = None
    last_small: int | None = None  # exponent of the last 十/百/千 in this section
    prev_unit: int | None = None  # exponent of the unit character right before the pending digit
    zero = False
    seen_wan = seen_yi = False
    for i, ch in enumerate(s):
        if ch in CN_DIGIT:
            value = CN_DIGIT[ch]
            if value == 0:
                if digit is not None:
                    raise CnError(f"digit before {ch!r} (positional numerals are not supported)")
                zero = True
                prev_unit = None
                continue
            if digit is not None:
                raise CnError("two digits in a row (positional numerals are not supported)")
            digit = value
            continue
        elif ch in CN_SMALL:
            exp = CN_SMALL[ch]
            if digit is None:
                if i == 0 or exp == 1:
                    digit = 1  # 十五, 百余, 千余
                else:
                    raise CnError(f"{ch!r} without a digit before it")
            if last_small is not None and exp >= last_small:
                raise CnError(f"{ch!r} after a smaller or equal unit")
            section += digit * D(10) ** exp
            last_small, prev_unit, digit, zero = exp, exp, None, False
        else:  # 万 / 亿
            exp = CN_BIG[ch]
            part = section + (digit or 0)
            if exp == 4:
                if seen_wan:
                    raise CnError("万 twice in one group")
                if part == 0:
                    raise CnError("万 without a number before it")
                wan = part * D(10) ** 4
                seen_wan = True
            else:
                if seen_yi:
                    raise CnError("亿 twice")
                before = result + wan + part
                if before == 0:
                    raise CnError("亿 without a number before it")
                result = before * D(10) ** 8
                wan, seen_wan, seen_yi = D(0), False, True
            section, digit, last_small, prev_unit, zero = D(0), None, None, exp, False
    tail = D(0)
    if digit is not None:
        # 一百二 = 120, 两万三 = 23000: a digit right after a unit (no 零) is one place lower
        tail = digit * D(10) ** (prev_unit - 1) if prev_unit else D(digit)
    return result + wan + section + tail


def cn_number(run: str) -> Decimal:
    """Value of a Chinese numeral run matched by ``_CN_RE`` (点 and a trailing 万/亿 allowed)."""
    if "点" not in run:
        return cn_integer(run)
    int_part, frac = run.split("点", 1)
    exp = 0
    while frac and frac[-1] in CN_BIG:
        exp += CN_BIG[frac[-1]]
        frac = frac[:-1]
    if any(ch in CN_BIG for ch in int_part) and exp:
        raise CnError("multiplier on both sides of 点")
    whole = cn_integer(int_part)
    digits = "".join(str(CN_DIGIT[ch]) for ch in frac)
    return (whole + D("0." + digits)).scaleb(exp)


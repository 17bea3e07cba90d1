"""Unified social credit code (统一社会信用代码, GB 32100-2015).

18 characters from a 31-character set (no I, O, S, V, Z).  Position 18 is a check
character: weights 3^(i-1) mod 31 for positions 1-17, check = (31 - sum mod 31) mod 31.
Some codes issued in early pilot regions are legal yet fail the check: we report
that as a warning so staff can confirm the enterprise, never as a hard refusal.
"""

from __future__ import annotations

from dataclasses import dataclass

CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_VALUE = {c: i for i, c in enumerate(CHARSET)}
WEIGHTS = [pow(3, i, 31) for i in range(17)]
# Typing slips that cannot be meant: these letters are not in the character set.
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "Z": "2", "S": "5", "V": "U"})


def normalize_uscc(raw: str) -> str:
    code = "".join(raw.split()).replace("-", "").upper()
    return code.translate(_LOOKALIKES)


def check_character(first17: str) -> str:
    total = sum(_VALUE[c] * w for c, w in zip(first17, WEIGHTS, strict=True))
    return CHARSET[(31 - total % 31) % 31]


@dataclass(frozen=True)
class UsccCheck:
    code: str
    well_formed: bool  # length, character set, division code digits
    checksum_ok: bool
    message_zh: str
    message_en: str

    @property
    def acceptable(self) -> bool:
        """Well formed: may be stored (a bad check digit then needs staff confirmation)."""
        return self.well_formed


def check_uscc(raw: str) -> UsccCheck:
    code = normalize_uscc(raw)
    if len(code) != 18:
        return UsccCheck(
            code,
            False,
            False,
            f"统一社会信用代码应为18位，当前为{len(code)}位，请核对营业执照。",
            f"A unified social credit code has 18 characters; this one has {len(code)}. "
            "Please check the business licence.",
        )
    bad = [c for c in code if c not in _VALUE]
    if bad:
        return UsccCheck(
            code,
            False,
            False,
            f"统一社会信用代码含有不允许的字符：{''.join(sorted(set(bad)))}。",
            f"The code contains characters that are not allowed: {''.join(sorted(set(bad)))}.",
        )
    if not code[2:8].isdigit():
        return UsccCheck(
            code,
            False,
            False,
            "第3至8位应为行政区划代码（6位数字）。",
            "Characters 3 to 8 must be the 6-digit administrative division code.",
        )
    if check_character(code[:17]) != code[17]:
        return UsccCheck(
            code,
            True,
            False,
            "校验位不符。部分早期试点地区的代码合法但校验位不符，需工作人员核实后确认。",
            "The check character does not match. Some early pilot-region codes are legal "
            "yet fail this check: staff must confirm the enterprise.",
        )
    return UsccCheck(code, True, True, "", "")


def make_uscc(first17: str) -> str:
    """Complete 17 characters with the correct check character (used by demo data)."""
    first17 = first17.upper()
    return first17 + check_character(first17)

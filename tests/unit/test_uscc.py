"""Unified social credit code (registry/uscc.py), checked against GB 32100-2015."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry.uscc import check_character, check_uscc, make_uscc, normalize_uscc

# Independent reference, written from the standard: 31 characters, no I O S V Z.
REF_CHARSET = "0123456789" + "ABCDEFGH" + "JKLMN" + "PQR" + "TU" + "WXY"
assert len(REF_CHARSET) == 31 and not set(REF_CHARSET) & set("IOSVZ")
REF_WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]  # 3^(i-1) mod 31


def ref_check(first17: str) -> str:
    total = sum(REF_CHARSET.index(c) * w for c, w in zip(first17, REF_WEIGHTS, strict=True))
    return REF_CHARSET[(31 - total % 31) % 31]


def test_reference_weights_are_powers_of_three():
    assert REF_WEIGHTS == [3**i % 31 for i in range(17)]


# GB 32100-2015's own example, worked by hand:
#   values  9 1 3 5 0 1 0 0 M=21 0 0 0 1 0 0 Y=30 4
#   weights 1 3 9 27 19 26 16 17 20 29 25 13 8 24 10 30 28
#   sum = 9+3+27+135+26+420+8+900+112 = 1640; 1640 mod 31 = 28; 31-28 = 3 -> "3"
STANDARD_EXAMPLE = "91350100M000100Y43"
# Codes printed on public business licences (verified with the reference above).
PUBLIC_VALID = [
    STANDARD_EXAMPLE,
    "91110000600037341L",
    "91440300708461136T",
    "914403001922038216",
    "91110108551385082Q",
]

charset_chars = st.sampled_from(REF_CHARSET)
digits = st.sampled_from("0123456789")


@st.composite
def well_formed_prefixes(draw):
    """17 characters with a numeric administrative division code (positions 3-8)."""
    head = draw(st.text(alphabet=REF_CHARSET, min_size=2, max_size=2))
    division = draw(st.text(alphabet="0123456789", min_size=6, max_size=6))
    tail = draw(st.text(alphabet=REF_CHARSET, min_size=9, max_size=9))
    return head + division + tail


def test_hand_worked_example():
    assert ref_check(STANDARD_EXAMPLE[:17]) == "3"
    assert check_character(STANDARD_EXAMPLE[:17]) == "3"


@pytest.mark.parametrize("code", PUBLIC_VALID)
def test_public_valid_codes(code):
    assert ref_check(code[:17]) == code[17]
    result = check_uscc(code)
    assert result.code == code
    assert result.well_formed is True
    assert result.checksum_ok is True
    assert result.acceptable is True
    assert result.message_zh == "" and result.message_en == ""
    assert make_uscc(code[:17]) == code


@pytest.mark.parametrize(
    "first17", ["91120101MA05K1234", "12120000000000000", "31120116000000001", "Y1120119ABCDEFGHJ"]
)
def test_make_uscc_examples_are_valid(first17):
    code = make_uscc(first17)
    assert len(code) == 18 and code[:17] == first17
    assert code[17] == ref_check(first17)
    assert check_uscc(code).checksum_ok


def test_make_uscc_upper_cases():
    assert make_uscc("91120101ma05k1234") == make_uscc("91120101MA05K1234")


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=REF_CHARSET, min_size=17, max_size=17))
def test_check_character_matches_reference(first17):
    assert check_character(first17) == ref_check(first17)


@settings(max_examples=200, deadline=None)
@given(well_formed_prefixes())
def test_make_uscc_matches_reference_and_checks(first17):
    code = make_uscc(first17)
    assert code == first17 + ref_check(first17)
    result = check_uscc(code)
    assert (result.well_formed, result.checksum_ok, result.code) == (True, True, code)


@settings(max_examples=200, deadline=None)
@given(well_formed_prefixes(), st.data())
def test_any_single_substitution_is_detected(first17, data):
    code = first17 + ref_check(first17)
    pos = data.draw(st.integers(min_value=0, max_value=17))
    new = data.draw(st.sampled_from([c for c in REF_CHARSET if c != code[pos]]))
    changed = code[:pos] + new + code[pos + 1 :]
    result = check_uscc(changed)
    assert result.checksum_ok is False
    if 2 <= pos <= 7 and not new.isdigit():
        assert result.well_formed is False
    else:
        assert result.well_formed is True
        assert result.acceptable is True


@settings(max_examples=200, deadline=None)
@given(well_formed_prefixes(), st.integers(min_value=0, max_value=15))
def test_adjacent_transposition_is_detected(first17, pos):
    code = first17 + ref_check(first17)
    if code[pos] == code[pos + 1]:
        return
    swapped = code[:pos] + code[pos + 1] + code[pos] + code[pos + 2 :]
    assert check_uscc(swapped).checksum_ok is False


# --- malformed codes ---------------------------------------------------------------------

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "9135010",
        STANDARD_EXAMPLE[:17],
        STANDARD_EXAMPLE + "0",
        STANDARD_EXAMPLE * 2,
    ],
)
def test_wrong_length(raw):
    result = check_uscc(raw)
    assert result.well_formed is False
    assert result.checksum_ok is False
    assert result.acceptable is False
    assert CJK.search(result.message_zh)
    assert "18" in result.message_zh
    assert str(len(raw)) in result.message_zh
    assert result.message_en


@pytest.mark.parametrize(
    ("raw", "bad"),
    [
        ("91350100M000100Y4#", "#"),
        ("91350100M000100Y4中", "中"),
        ("9135010!M000100Y43", "!"),
        ("91350100M000100Y4+", "+"),
    ],
)
def test_bad_characters(raw, bad):
    result = check_uscc(raw)
    assert result.well_formed is False
    assert result.checksum_ok is False
    assert CJK.search(result.message_zh)
    assert bad in result.message_zh
    assert bad in result.message_en


@pytest.mark.parametrize("first17", ["91A50100M000100Y4", "9135010BM000100Y4", "91ABCDEFM000100Y4"])
def test_division_code_must_be_digits(first17):
    # Even with a correct check character the code is not well formed.
    code = first17 + ref_check(first17)
    result = check_uscc(code)
    assert result.well_formed is False
    assert result.checksum_ok is False
    assert result.acceptable is False
    assert CJK.search(result.message_zh)
    assert "行政区划" in result.message_zh
    assert result.message_en


@pytest.mark.parametrize("code", PUBLIC_VALID)
def test_wrong_check_character_is_a_warning(code):
    for c in REF_CHARSET:
        if c == code[17]:
            continue
        result = check_uscc(code[:17] + c)
        assert result.well_formed is True
        assert result.checksum_ok is False
        # Pilot-region exception: may be stored once staff confirm it.
        assert result.acceptable is True
        assert "校验位" in result.message_zh
        assert "confirm" in result.message_en


# --- normalisation -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "91350100m000100y43",
        " 91350100M000100Y43 ",
        "9135 0100 M000 100Y 43",
        "913501-00M000-100Y43",
        "91350100M000100Y43\n",
        "9135\u30000100M000100Y43",
        "\t91350100 m000100y43",
    ],
)
def test_lower_case_spaces_and_dashes_are_normalised(raw):
    assert normalize_uscc(raw) == STANDARD_EXAMPLE
    result = check_uscc(raw)
    assert result.code == STANDARD_EXAMPLE
    assert result.well_formed and result.checksum_ok


def test_lookalike_letters_are_read_as_the_allowed_characters():
    # O/I/Z/S/V are not in the character set; they are read as 0/1/2/5/U.
    assert normalize_uscc("oOiIzZsSvV") == "00112255UU"
    assert check_uscc("9135O1OOM0OO1OOY43").checksum_ok

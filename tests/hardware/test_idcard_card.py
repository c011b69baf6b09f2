from __future__ import annotations

import datetime as dt

import pytest

from hardware.idcard.card import (
    NATIONS,
    CardDataError,
    IdCard,
    decode_text_block,
    encode_text_block,
    gb11643_check_char,
    make_id_number,
    mask_id_number,
    mask_name,
    sample_card,
    validate_id_number,
)

RECORD = {
    "name": "张三",
    "sex": "1",
    "nation": "01",
    "birth": "19500312",
    "address": "江苏省句容市华阳镇东门路18号",
    "id_number": "321183195003120011",
    "issuer": "句容市公安局",
    "valid_from": "20150601",
    "valid_to": "长期",
}


def test_gb11643_check_characters() -> None:
    assert gb11643_check_char("32118319500312001") == "1"
    assert gb11643_check_char("11010519491231002") == "X"  # the standard's own example
    assert validate_id_number("11010519491231002X") == dt.date(1949, 12, 31)


def test_wrong_check_character_is_refused() -> None:
    with pytest.raises(CardDataError, match="check character"):
        validate_id_number("321183195003120012")


def test_impossible_birth_date_in_number_is_refused() -> None:
    first17 = "32118319501332001"  # month 13
    with pytest.raises(CardDataError, match="not a date"):
        validate_id_number(first17 + gb11643_check_char(first17))


def test_birth_must_agree_with_number() -> None:
    with pytest.raises(CardDataError, match="differs"):
        IdCard.from_record({**RECORD, "birth": "19500313"})


def test_nation_table_is_complete() -> None:
    assert len(NATIONS) == 58
    assert NATIONS["01"] == "汉" and NATIONS["56"] == "基诺"
    assert NATIONS["97"] == "其他" and NATIONS["98"] == "外国血统中国籍人士"
    assert [f"{i:02d}" for i in range(1, 57)] == [k for k in NATIONS if int(k) <= 56]
    with pytest.raises(CardDataError, match="GB 3304"):
        IdCard.from_record({**RECORD, "nation": "57"})


def test_no_expiry_is_none_and_round_trips() -> None:
    card = IdCard.from_record(RECORD)
    assert card.valid_to is None and not card.expired_on(dt.date(2099, 1, 1))
    assert card.as_record() == RECORD
    assert decode_text_block(encode_text_block(card)).as_record() == RECORD


def test_expired_card() -> None:
    card = IdCard.from_record({**RECORD, "valid_to": "20250601"})
    assert card.expired_on(dt.date(2025, 6, 2)) and not card.expired_on(dt.date(2025, 6, 1))


def test_age_on_a_date() -> None:
    card = IdCard.from_record(RECORD)  # born 1950-03-12
    assert card.age_on(dt.date(2026, 3, 11)) == 75
    assert card.age_on(dt.date(2026, 3, 12)) == 76


def test_age_of_someone_born_on_29_february() -> None:
    birth = dt.date(2000, 2, 29)
    card = IdCard.from_record({**RECORD, "birth": "20000229", "id_number": make_id_number("321183", birth, 1)})
    assert card.age_on(dt.date(2018, 2, 28)) == 17
    assert card.age_on(dt.date(2018, 3, 1)) == 18


def test_masks() -> None:
    assert mask_name("张三") == "张*"
    assert mask_name("欧阳明") == "欧*明"
    assert mask_name("阿依古丽·买买提") == "阿******提"
    assert mask_id_number("321183195003120011") == "3211**********0011"


def test_repr_and_str_never_show_full_name_or_number() -> None:
    card = IdCard.from_record(RECORD)
    for text in (repr(card), str(card), f"{card}", repr([card])):
        assert "321183195003120011" not in text and "张三" not in text
        assert "3211**********0011" in text and "张*" in text


def test_masked_record_has_no_address_or_full_number() -> None:
    record = IdCard.from_record(RECORD).masked_record()
    assert record["id_number"] == "3211**********0011" and record["name"] == "张*"
    assert "address" not in record and "18号" not in str(record)


def test_sample_cards_have_the_promised_ages() -> None:
    today = dt.date(2026, 11, 23)
    assert sample_card("elderly", today).age_on(today) == 76
    assert sample_card("adult", today).age_on(today) == 30
    validate_id_number(sample_card("elderly", today).id_number)


def test_text_block_of_wrong_size_is_refused() -> None:
    with pytest.raises(CardDataError, match="255 bytes"):
        decode_text_block(bytes(255))


def test_text_block_with_bad_sex_code() -> None:
    block = bytearray(encode_text_block(IdCard.from_record(RECORD)))
    block[30:32] = "7".encode("utf-16-le")
    with pytest.raises(CardDataError, match="sex code"):
        decode_text_block(bytes(block))

"""The second-generation resident ID card's data (居民身份证, GA 467 / GB 11643 / GB 3304).

`decode_text_block(bytes)` reads the 256-byte UTF-16LE text block a reader returns; `IdCard` holds
it, validates the ID number (GB 11643 check digit, birth date agrees with the card), computes the
age on a date and gives masked forms for display. Its repr never shows the full name or number.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

TEXT_BLOCK_SIZE = 256
# (field, bytes) in the order of the text block; each UTF-16LE padded with spaces
TEXT_LAYOUT: tuple[tuple[str, int], ...] = (
    ("name", 30),
    ("sex", 2),
    ("nation", 4),
    ("birth", 16),
    ("address", 70),
    ("id_number", 36),
    ("issuer", 30),
    ("valid_from", 16),
    ("valid_to", 16),
    ("reserved", 36),
)
NO_EXPIRY = "长期"

# GB 3304 — 中国各民族名称的罗马字母拼写法和代码 (codes as printed on the card's chip)
NATIONS: dict[str, str] = {
    "01": "汉", "02": "蒙古", "03": "回", "04": "藏", "05": "维吾尔", "06": "苗", "07": "彝", "08": "壮",
    "09": "布依", "10": "朝鲜", "11": "满", "12": "侗", "13": "瑶", "14": "白", "15": "土家", "16": "哈尼",
    "17": "哈萨克", "18": "傣", "19": "黎", "20": "傈僳", "21": "佤", "22": "畲", "23": "高山", "24": "拉祜",
    "25": "水", "26": "东乡", "27": "纳西", "28": "景颇", "29": "柯尔克孜", "30": "土", "31": "达斡尔",
    "32": "仫佬", "33": "羌", "34": "布朗", "35": "撒拉", "36": "毛南", "37": "仡佬", "38": "锡伯",
    "39": "阿昌", "40": "普米", "41": "塔吉克", "42": "怒", "43": "乌孜别克", "44": "俄罗斯", "45": "鄂温克",
    "46": "德昂", "47": "保安", "48": "裕固", "49": "京", "50": "塔塔尔", "51": "独龙", "52": "鄂伦春",
    "53": "赫哲", "54": "门巴", "55": "珞巴", "56": "基诺", "97": "其他", "98": "外国血统中国籍人士",
}  # fmt: skip
SEXES = {"0": "未知", "1": "男", "2": "女", "9": "未说明"}

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK_CHARS = "10X98765432"


class CardDataError(ValueError):
    """The card's text block is not a valid resident ID card record (says which field and why)."""


def gb11643_check_char(first17: str) -> str:
    """The GB 11643 check character (0-9 or X) for the first 17 digits of an ID number."""
    if len(first17) != 17 or not first17.isdigit():
        raise CardDataError("an ID number starts with 17 digits")
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return _CHECK_CHARS[total % 11]


def validate_id_number(id_number: str) -> dt.date:
    """Check an 18-character ID number; return the birth date it encodes. Raises CardDataError."""
    if len(id_number) != 18 or not id_number[:17].isdigit() or id_number[17] not in "0123456789X":
        raise CardDataError("the ID number is not 17 digits and a check character")
    if gb11643_check_char(id_number[:17]) != id_number[17]:
        raise CardDataError("the ID number's check character (GB 11643) is wrong")
    return parse_card_date(id_number[6:14], "the birth date in the ID number")


def parse_card_date(text: str, what: str) -> dt.date:
    try:
        return dt.datetime.strptime(text, "%Y%m%d").date()
    except ValueError:
        raise CardDataError(f"{what} {text!r} is not a date (YYYYMMDD)") from None


def mask_name(name: str) -> str:
    """张三 → 张*, 欧阳明 → 欧*明, 阿依古丽·买买提 → 阿******提."""
    if len(name) <= 1:
        return "*" * len(name)
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_id_number(id_number: str) -> str:
    """321183195003120011 → 3211**********0011 (region prefix and last four kept)."""
    if len(id_number) <= 8:
        return "*" * len(id_number)
    return id_number[:4] + "*" * (len(id_number) - 8) + id_number[-4:]


@dataclasses.dataclass(frozen=True, repr=False)
class IdCard:
    """One card's record. `birth`, `valid_from`, `valid_to` are dates; `valid_to` None = 长期."""

    name: str
    sex: str  # GB/T 2261.1 code: "1" 男, "2" 女
    nation: str  # GB 3304 code, "01" 汉
    birth: dt.date
    address: str
    id_number: str
    issuer: str
    valid_from: dt.date
    valid_to: dt.date | None
    photo: bytes = b""  # the WLT-compressed photo as read; decoding needs the vendor's licensed library

    @property
    def sex_name(self) -> str:
        return SEXES.get(self.sex, "未知")

    @property
    def nation_name(self) -> str:
        return NATIONS.get(self.nation, f"未知({self.nation})")

    @property
    def masked_name(self) -> str:
        return mask_name(self.name)

    @property
    def masked_id(self) -> str:
        return mask_id_number(self.id_number)

    def age_on(self, day: dt.date) -> int:
        """Whole years of age on `day` (someone born on 29 February turns a year older on 1 March)."""
        years = day.year - self.birth.year
        if (day.month, day.day) < (self.birth.month, self.birth.day):
            years -= 1
        return years

    def expired_on(self, day: dt.date) -> bool:
        return self.valid_to is not None and day > self.valid_to

    def as_record(self) -> dict[str, str]:
        """The record as text fields (the vectors' .json shape), full PII: installers only."""
        return {
            "name": self.name,
            "sex": self.sex,
            "nation": self.nation,
            "birth": self.birth.strftime("%Y%m%d"),
            "address": self.address,
            "id_number": self.id_number,
            "issuer": self.issuer,
            "valid_from": self.valid_from.strftime("%Y%m%d"),
            "valid_to": self.valid_to.strftime("%Y%m%d") if self.valid_to else NO_EXPIRY,
        }

    def masked_record(self) -> dict[str, Any]:
        """What may be shown or logged: masked name and number, no address, no photo."""
        return {
            "name": self.masked_name,
            "sex": self.sex_name,
            "nation": self.nation_name,
            "birth_year": self.birth.year,
            "id_number": self.masked_id,
            "issuer": self.issuer,
            "valid_to": self.valid_to.isoformat() if self.valid_to else NO_EXPIRY,
        }

    def ticket_payload(self) -> dict[str, str]:
        """The `id_card` object of the dispatcher's ticket-issue body (sent over HTTPS only)."""
        return {"id_number": self.id_number, "name": self.name, "birth": self.birth.strftime("%Y%m%d")}

    def __repr__(self) -> str:
        return (
            f"IdCard(name={self.masked_name!r}, id={self.masked_id!r}, sex={self.sex_name}, "
            f"birth_year={self.birth.year}, photo={len(self.photo)} bytes)"
        )

    __str__ = __repr__

    @classmethod
    def from_record(cls, record: dict[str, str], photo: bytes = b"") -> IdCard:
        """Build and validate a card from text fields (the vectors' .json shape)."""
        fields = {k: str(record.get(k, "")).strip() for k, _ in TEXT_LAYOUT if k != "reserved"}
        return _validated(fields, photo)


def decode_text_block(block: bytes, photo: bytes = b"") -> IdCard:
    """Decode the 256-byte UTF-16LE text block into a validated IdCard (CardDataError if not valid)."""
    if len(block) != TEXT_BLOCK_SIZE:
        raise CardDataError(f"the text block is {len(block)} bytes, expected {TEXT_BLOCK_SIZE}")
    fields: dict[str, str] = {}
    offset = 0
    for name, size in TEXT_LAYOUT:
        raw = block[offset : offset + size]
        offset += size
        try:
            fields[name] = raw.decode("utf-16-le").rstrip(" \x00")
        except UnicodeDecodeError:
            raise CardDataError(f"the card's {name} field is not UTF-16LE text") from None
    fields.pop("reserved")
    return _validated(fields, photo)


def encode_text_block(card: IdCard) -> bytes:
    """The 256-byte text block for a card (simulators and tests use this)."""
    record = card.as_record()
    out = bytearray()
    for name, size in TEXT_LAYOUT:
        value = record.get(name, "")
        raw = value.encode("utf-16-le")
        if len(raw) > size:
            raise CardDataError(f"{name} is longer than {size // 2} characters")
        out += raw + " ".encode("utf-16-le") * ((size - len(raw)) // 2)
    return bytes(out)


def _validated(fields: dict[str, str], photo: bytes) -> IdCard:
    if not fields["name"]:
        raise CardDataError("the card has no name")
    if fields["sex"] not in SEXES:
        raise CardDataError(f"sex code {fields['sex']!r} is not one of {', '.join(SEXES)}")
    if fields["nation"] not in NATIONS:
        raise CardDataError(f"nation code {fields['nation']!r} is not in GB 3304")
    birth = parse_card_date(fields["birth"], "the birth date")
    id_birth = validate_id_number(fields["id_number"])
    if id_birth != birth:
        raise CardDataError("the birth date on the card differs from the one in the ID number")
    valid_from = parse_card_date(fields["valid_from"], "the start of validity")
    valid_to = None if fields["valid_to"] == NO_EXPIRY else parse_card_date(fields["valid_to"], "the end of validity")
    if valid_to is not None and valid_to < valid_from:
        raise CardDataError("the card's validity ends before it starts")
    return IdCard(
        name=fields["name"],
        sex=fields["sex"],
        nation=fields["nation"],
        birth=birth,
        address=fields["address"],
        id_number=fields["id_number"],
        issuer=fields["issuer"],
        valid_from=valid_from,
        valid_to=valid_to,
        photo=photo,
    )


def make_id_number(region: str, birth: dt.date, sequence: int) -> str:
    """A syntactically valid ID number (region 6 digits, birth, 3-digit sequence, check char)."""
    first17 = f"{region}{birth:%Y%m%d}{sequence % 1000:03d}"
    return first17 + gb11643_check_char(first17)


def sample_card(who: str = "adult", today: dt.date | None = None) -> IdCard:
    """Made-up cards for simulators and demos: "elderly" is 76 today, "adult" 30 (ages stay true)."""
    today = today or dt.date.today()
    ages = {"elderly": 76, "adult": 30, "young": 18, "senior": 60}
    if who not in ages:
        raise ValueError(f"sample card {who!r}: choose one of {', '.join(ages)}")
    birth = _birthday_years_ago(today, ages[who], days_before=40)
    name, sex, sequence = {
        "elderly": ("王建国", "1", 31),
        "adult": ("陈静", "2", 42),
        "young": ("刘洋", "1", 53),
        "senior": ("赵秀兰", "2", 64),
    }[who]
    issued = _birthday_years_ago(today, 2, days_before=0)
    return IdCard(
        name=name,
        sex=sex,
        nation="01",
        birth=birth,
        address="江苏省南京市玄武区中山路100号",
        id_number=make_id_number("320102", birth, sequence),
        issuer="南京市公安局玄武分局",
        valid_from=issued,
        valid_to=None if ages[who] >= 46 else _birthday_years_ago(issued, -20, days_before=0),
        photo=bytes(range(256)) * 4,
    )


def _birthday_years_ago(today: dt.date, years: int, days_before: int) -> dt.date:
    day = today - dt.timedelta(days=days_before)
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)

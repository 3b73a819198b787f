"""Normalisation and hashing per platform, against the platforms' published examples and against
hashlib and phonenumbers as reference implementations (the SQL that runs is the export's own)."""

from __future__ import annotations

import hashlib
import re
import unicodedata

import pandas as pd
import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from streamwise.downstream.audiences.ads_normalise import (
    EMAIL_PATTERN,
    calling_codes,
    normalise_frame,
)
from streamwise.downstream.audiences.ads_platforms import PLATFORMS, Platform, get_platform
from streamwise.errors import ConfigError


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def one(platform: str, hashed: bool = True, **person: object) -> dict:
    frame = pd.DataFrame([{"customer_id": "C1", **person}])
    return normalise_frame(frame, PLATFORMS[platform], hashed=hashed).to_pylist()[0]


# --- published examples ------------------------------------------------------------------------


def test_tiktok_email_example_hash() -> None:
    # TikTok, "List of supported IDs and formats for a customer file": janedoe@gmail.com hashes
    # to d6117306...; upper case and spaces are normalised away first.
    row = one("tiktok", email="  JaneDoe@Gmail.com ")
    assert row["Email_SHA256"] == (
        "d6117306485ed0e50afab3ac871e98f81699151f30281527d63ff5f233656c69"
    )


def test_tiktok_phone_example_hash() -> None:
    # Same page: the international number 374-93-828222 is normalised to "37493828222" (no "+")
    # and its published hash is 65b7e6dc...
    row = one("tiktok", phone="+374 93 828222", country="AM")
    assert row["Phone_SHA256"] == (
        "65b7e6dcf6f4310f8d7cbfbd78289a753062fb054d6664fb9aaac5df66a422d4"
    )


def test_tiktok_us_phone_example_and_plus_tag() -> None:
    # "(657)777-0000 is normalized to 16577770000"; "Remove '+' and any characters following
    # the '+' symbol until '@'".
    row = one("tiktok", hashed=False, phone="(657)777-0000", country="US",
              email="first.last+promo@example.com")  # fmt: skip
    assert row["Phone_SHA256"] == "16577770000"
    assert row["Email_SHA256"] == "first.last@example.com"


def test_google_e164_with_plus_and_gmail_dots() -> None:
    # Google Ads API UserIdentifier: E.164 "for example, +16502531234"; enhanced conversions:
    # "Remove all periods (.) that precede the domain name in gmail.com and googlemail.com".
    row = one("google", hashed=False, phone="(650) 253-1234", country="US",
              email=" Jane.Doe+ads@GoogleMail.com ")  # fmt: skip
    assert row["Phone"] == "+16502531234"
    assert row["Email"] == "janedoe+ads@googlemail.com"  # Google says nothing of "+tags"
    other = one("google", hashed=False, email="jane.doe@example.com")
    assert other["Email"] == "jane.doe@example.com"  # dots stay for other domains
    hashed = one("google", phone="(650) 253-1234", country="US", email="Jane.Doe@gmail.com")
    assert hashed["Phone"] == sha("+16502531234")
    assert hashed["Email"] == sha("janedoe@gmail.com")


def test_meta_rules() -> None:
    # Meta: phone digits with country code, no "+"; fn/ln lower-case letters only, UTF-8;
    # country lower-case ISO 3166-1 alpha-2; doby YYYY; all hashed.
    person = {
        "email": " Ana@Example.COM",
        "phone": "+44 844 412 4653",
        "country": "GB",
        "first_name": " Émilie-Anne ",
        "last_name": "O'Brien",
        "birth_year": 1988,
    }
    row = one("meta", hashed=False, **person)
    assert row == {
        "customer_id": "C1", "email_state": "ok", "phone_state": "ok",
        "email": "ana@example.com", "phone": "448444124653", "fn": "émilieanne",
        "ln": "obrien", "doby": "1988", "country": "gb",
    }  # fmt: skip
    hashed = one("meta", email=" Ana@Example.COM", first_name="Émilie", country="GB")
    assert hashed["email"] == sha("ana@example.com")
    assert hashed["fn"] == sha("émilie")
    assert hashed["country"] == sha("gb")


def test_x_example_hash_is_plain_sha256_of_the_normalised_value() -> None:
    # X's user-data page: sha256("adsapi") = 49e0be2a...; e-mail lower-case and trimmed.
    assert sha("adsapi") == "49e0be2aeccfb51a8dee4c945c8a70a9ac500cf6f5cb08112575f74db9b1470d"
    row = one("x", email="  Support@Twitter.com ")
    assert row["email"] == sha("support@twitter.com")


# --- reference implementations -----------------------------------------------------------------


_LOCAL = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-+",
    min_size=1,
    max_size=20,
)
_DOMAIN = st.sampled_from(["example.com", "gmail.com", "googlemail.com", "mail.example.org"])
_PAD = st.sampled_from(["", " ", "\t", "  "])


def _expected(name: str, key: str) -> str:
    local, domain = key.split("@")
    if name == "google" and domain in ("gmail.com", "googlemail.com"):
        return local.replace(".", "") + "@" + domain
    if name == "tiktok":
        return local.split("+")[0] + "@" + domain
    return key


@settings(max_examples=15, deadline=None)
@given(st.lists(st.tuples(_LOCAL, _DOMAIN, _PAD), min_size=1, max_size=25))
def test_email_hashes_match_hashlib(addresses: list[tuple[str, str, str]]) -> None:
    frame = pd.DataFrame({
        "customer_id": [f"C{i:03d}" for i in range(len(addresses))],
        "email": [f"{pad}{local}@{domain.upper()}{pad}" for local, domain, pad in addresses],
    })  # fmt: skip
    for name in ("meta", "google", "tiktok", "linkedin", "x"):
        column = PLATFORMS[name].columns[0].header
        out = normalise_frame(frame, PLATFORMS[name]).to_pylist()
        for row, (local, domain, _pad) in zip(out, addresses, strict=True):
            expected = _expected(name, f"{local}@{domain}".lower())
            valid = re.fullmatch(EMAIL_PATTERN, expected) is not None
            assert (row["email_state"] == "ok") is valid, (name, local, domain)
            assert row[column] == (sha(expected) if valid else None), (name, local, domain)


def test_names_match_a_python_reference() -> None:
    names = ["Zoë", "  Jean-Luc ", "O'Neil", "Ann Marie", "李小龍", "ÅSA", "x1y", "--", "Dvořák"]

    def reference(name: str) -> str | None:
        text = unicodedata.normalize("NFC", name.strip()).lower()
        kept = "".join(ch for ch in text if unicodedata.category(ch)[0] in "LM")
        return kept or None

    frame = pd.DataFrame({"customer_id": [f"C{i}" for i in range(len(names))], "first_name": names})
    out = normalise_frame(frame, PLATFORMS["meta"], hashed=False).to_pandas()
    expected = [reference(n) for n in names]
    got = out.set_index("customer_id").loc[frame["customer_id"], "fn"].tolist()
    assert got == expected


def _example_numbers() -> pd.DataFrame:
    rows = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE):
            number = phonenumbers.example_number_for_type(region, kind)
            if number is None:
                continue
            for style in (PhoneNumberFormat.NATIONAL, PhoneNumberFormat.INTERNATIONAL):
                rows.append({
                    "customer_id": f"{region}-{kind}-{style}", "country": region,
                    "phone": phonenumbers.format_number(number, style),
                    "reference": phonenumbers.format_number(number, PhoneNumberFormat.E164),
                })  # fmt: skip
    return pd.DataFrame(rows)


def test_phones_match_phonenumbers_for_every_region() -> None:
    """libphonenumber's example numbers of every region, written nationally and
    internationally, normalise to the E.164 that phonenumbers gives. Known exceptions: a
    national prefix that depends on what follows (Argentina's "15", Belarus's "8 0")."""
    numbers = _example_numbers()
    out = normalise_frame(numbers.drop(columns="reference"), PLATFORMS["google"], hashed=False)
    merged = out.to_pandas().merge(numbers, on="customer_id")
    assert len(merged) > 900
    wrong = merged[merged["Phone"] != merged["reference"]]
    assert set(wrong["country"]) <= {"AR", "BY"}, wrong[["customer_id", "phone", "Phone"]]
    assert len(wrong) <= 4


def test_phone_states() -> None:
    frame = pd.DataFrame({
        "customer_id": ["a", "b", "c", "d", "e", "f", "g"],
        "phone": ["0044 20 7183 8750", "07700 900123", "call me", "44 7700 900123", None,
                  "  ", "011 44 20 7183 8750"],
        "country": [None, None, "GB", "GB", "GB", "GB", "US"],
    })  # fmt: skip
    out = normalise_frame(frame, PLATFORMS["google"], hashed=False).to_pandas()
    assert out["phone_state"].tolist() == [
        "ok", "no_country", "invalid", "invalid", "absent", "absent", "ok",
    ]  # fmt: skip
    assert out.loc[0, "Phone"] == "+442071838750"  # 00 is an international prefix anywhere
    assert out.loc[6, "Phone"] == "+442071838750"  # 011 is the US's


def test_calling_codes_come_from_phonenumbers() -> None:
    codes = calling_codes().to_pandas().set_index("country")
    assert len(codes) == len(phonenumbers.SUPPORTED_REGIONS)
    assert codes.loc["DE", "calling_code"] == "49"
    assert codes.loc["US", "national_prefix"] == "1"
    assert codes.loc["US", "international_prefix"] == "011"
    assert codes.loc["FR", "max_length"] == 9


# --- formats -----------------------------------------------------------------------------------

HEADERS = {
    "meta": ["email", "phone", "fn", "ln", "doby", "country"],
    "google": ["Email", "Phone"],
    "tiktok": ["Email_SHA256", "Phone_SHA256"],
    "linkedin": ["email", "firstname", "lastname", "jobtitle", "employeecompany", "country",
                 "googleaid"],
    "x": ["email"],
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(HEADERS))
def test_every_platform_declares_its_documented_headers(name: str) -> None:
    platform = get_platform(name)
    assert platform.headers() == HEADERS[name]
    seed = platform.headers(seed=True)
    assert seed == HEADERS[name] + (["value"] if name == "meta" else [])
    assert platform.header is (name != "x")
    assert all(s.startswith("https://") for s in platform.sources)
    assert Platform.from_config({"name": name.upper()}) is platform


def test_unknown_platform_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError, match="use one of: meta, google, tiktok, linkedin, x"):
        get_platform("myspace")


def test_no_platform_gets_names_in_clear() -> None:
    for platform in PLATFORMS.values():
        for column in platform.columns:
            assert column.hashed or column.field == "blank", (platform.name, column.header)

"""Signature v1 as the SDK computes it: the emulator must reach the same bytes or reject real calls."""

import pytest

from emulator.protocol import parse_params, percent_encode, sign, string_to_sign

# The reference's test vector, computed with the SDK's own composer (fixed nonce and time).
VECTOR_PARAMS = {
    "Action": "BindAxb",
    "Version": "2017-05-25",
    "Format": "JSON",
    "RegionId": "cn-hangzhou",
    "PoolKey": "FC100000000000001",
    "PhoneNoA": "13800000001",
    "PhoneNoB": "13900000002",
    "Expiration": "2025-01-02 12:00:00",
    "IsRecordingEnabled": "True",
    "ExpectCity": "杭州",
    "Timestamp": "2025-01-02T03:04:05Z",
    "SignatureMethod": "HMAC-SHA1",
    "SignatureType": "",
    "SignatureVersion": "1.0",
    "SignatureNonce": "0123456789abcdef0123456789abcdef",
    "AccessKeyId": "testid",
}


def test_the_reference_vector_signs_to_the_sdk_signature():
    assert (
        sign(string_to_sign("POST", VECTOR_PARAMS), "testsecret") == "d3315ywBQ8yJ/aJYqKlO6+VTa5I="
    )


def test_dropping_the_blank_signature_type_changes_the_signature():
    without_blank = {k: v for k, v in VECTOR_PARAMS.items() if k != "SignatureType"}

    assert (
        sign(string_to_sign("POST", without_blank), "testsecret") == "WBsx44MtdTk5Waon2XHxmEI0EZ4="
    )


def test_the_signature_itself_is_not_signed():
    signed = {**VECTOR_PARAMS, "Signature": "anything"}

    assert string_to_sign("POST", signed) == string_to_sign("POST", VECTOR_PARAMS)


def test_the_string_to_sign_names_the_method_and_root_path():
    assert string_to_sign("GET", {"A": "1"}).startswith("GET&%2F&A%3D1")


@pytest.mark.parametrize(
    ("raw", "encoded"),
    [
        ("a b", "a%20b"),
        ("a*b", "a%2Ab"),
        ("a~b", "a~b"),
        ("a+b", "a%2Bb"),
        ("2025-01-02 12:00:00", "2025-01-02%2012%3A00%3A00"),
        ("杭州", "%E6%9D%AD%E5%B7%9E"),
    ],
)
def test_percent_encoding_follows_rfc_3986_like_the_sdk(raw, encoded):
    assert percent_encode(raw) == encoded


def test_blank_values_survive_parsing_from_query_and_form_body():
    params = parse_params(
        "SignatureType=&Action=BindAxb",
        b"ExpectCity=%E6%9D%AD%E5%B7%9E",
        "application/x-www-form-urlencoded",
    )

    assert params == {"SignatureType": "", "Action": "BindAxb", "ExpectCity": "杭州"}


def test_an_encoded_ampersand_stays_inside_its_value():
    assert parse_params("OutId=a%26b%3Dc&City=", b"", "") == {"OutId": "a&b=c", "City": ""}

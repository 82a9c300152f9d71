"""SM3/SM4 and masking."""

import pytest

from anjian.core.crypto import FieldCipher, hmac_sm3, mask_id_number, mask_name, mask_phone, sm3


def test_sm3_standard_vector() -> None:
    # GB/T 32905-2016 Appendix A, example 1: "abc".
    assert sm3(b"abc") == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"


def test_hmac_sm3_depends_on_key() -> None:
    assert hmac_sm3(b"k1", b"data") != hmac_sm3(b"k2", b"data")
    assert len(hmac_sm3(b"k1", b"data")) == 64


def test_sm4_round_trip_fresh_nonce_and_tamper_detection() -> None:
    cipher = FieldCipher(bytes(range(32)))
    a, b = cipher.encrypt("13912345678"), cipher.encrypt("13912345678")
    assert a != b  # fresh nonce each time: equal values do not look equal at rest
    assert "13912345678" not in a
    assert cipher.decrypt(a) == "13912345678"
    tampered = a[:-4] + ("AAAA" if not a.endswith("AAAA") else "BBBB")
    with pytest.raises(ValueError, match="altered"):
        cipher.decrypt(tampered)
    with pytest.raises(ValueError):
        FieldCipher(bytes(32)).decrypt(a)  # another key
    assert cipher.encrypt(None) is None and cipher.decrypt(None) is None


@pytest.mark.parametrize(
    ("fn", "value", "masked"),
    [
        (mask_phone, "13912345678", "139****5678"),
        (mask_phone, "03497654321", "034****4321"),
        (mask_phone, "12345", "1****"),
        (mask_id_number, "140622198001011234", "140622********1234"),
        (mask_name, "王建国", "王*国"),
        (mask_name, "李四", "李*"),
    ],
)
def test_masks(fn, value, masked) -> None:
    assert fn(value) == masked

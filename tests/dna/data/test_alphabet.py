"""One-hot encoding, IUPAC spreading, reverse complement and RC-safe windowing."""

from __future__ import annotations

import numpy as np
import pytest
from gdl_dna.data.alphabet import IUPAC, encode, fit_to_window, reverse_complement


def _rc_one_hot(x: np.ndarray) -> np.ndarray:
    return x[::-1, ::-1]


def test_one_hot_order_is_acgt_and_lowercase_is_accepted():
    x = encode("ACGTacgt")
    assert np.array_equal(x[:, :4], np.eye(4, dtype=np.float32))
    assert np.array_equal(x[:, 4:], x[:, :4])


def test_iupac_codes_spread_over_their_bases():
    x = encode("NRB")
    assert np.allclose(x[:, 0], 0.25)
    assert np.allclose(x[:, 1], [0.5, 0, 0.5, 0])  # R = A/G
    assert np.allclose(x[:, 2], [0, 1 / 3, 1 / 3, 1 / 3])  # B = C/G/T
    assert np.allclose(encode("".join(IUPAC)).sum(axis=0), 1.0)


def test_unknown_character_names_it_and_its_position():
    with pytest.raises(ValueError, match=r"unknown character 'X' at position 4"):
        encode("ACGXT")
    with pytest.raises(ValueError, match="position 2"):
        encode("Aé")


def test_reverse_complement_of_text_matches_the_flip_of_one_hot():
    seq = "ACGTNRYKMSWBDHVacgtn"
    assert np.allclose(encode(reverse_complement(seq)), _rc_one_hot(encode(seq)))
    assert reverse_complement(reverse_complement(seq)) == seq


@pytest.mark.parametrize("length", [5, 10, 11, 12, 13, 20, 21])
def test_windowing_commutes_with_rc_for_even_and_odd_differences(length):
    rng = np.random.default_rng(length)
    seq = "".join(rng.choice(list("ACGTN"), size=length))
    for window in (10, 11):
        a = fit_to_window(encode(reverse_complement(seq)), window)
        b = _rc_one_hot(fit_to_window(encode(seq), window))
        assert a.shape == (4, window)
        assert np.allclose(a, b)


def test_windowing_crops_and_pads_at_the_centre():
    x = fit_to_window(encode("AAACCCGGG"), 3)  # even difference: the middle CCC
    assert np.array_equal(x.argmax(axis=0), [1, 1, 1])
    padded = fit_to_window(encode("CC"), 6)
    assert np.array_equal(padded.sum(axis=0), [0, 0, 1, 1, 0, 0])

"""Numbers on pages: the fast formatting gives exactly what Django's localized number_format gives."""
from hypothesis import given, settings, strategies as st
from django.utils import formats, translation

from klimainnkjop.web.formatting import number


def django_number(value: float, decimals: int) -> str:
    rounded = round(float(value), decimals) or 0.0
    return formats.number_format(rounded, decimal_pos=decimals, use_l10n=True, force_grouping=True)


@settings(derandomize=True, max_examples=300, deadline=None)
@given(value=st.floats(min_value=-1e15, max_value=1e15, allow_nan=False) | st.integers(-10**12, 10**12),
       decimals=st.sampled_from([0, 1, 2]), language=st.sampled_from(["nb", "en"]))
def test_a_number_is_written_as_django_writes_it_in_bokmal_and_english(value, decimals, language):
    with translation.override(language):
        assert number(value, decimals) == django_number(value, decimals)


def test_bokmal_groups_thousands_with_a_non_breaking_space_and_never_writes_minus_zero():
    with translation.override("nb"):
        assert number(-1234567.891) == "-1\u00a0234\u00a0567,9"
        assert number(-0.04) == "0,0"
        assert number(None) == "–"
    with translation.override("en"):
        assert number(1234567.891, 2) == "1,234,567.89"

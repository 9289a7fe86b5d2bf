def test_reference_data_loads_a_published_provisional_factor_set(reference):
    assert reference.factors.count() >= 20
    assert reference.status == "published"

"""A task's data as restoring its state gives it: picycle's one-pass ``as_restored`` must
be what SpiffWorkflow's own restore makes of the stored delta, value, kind and order."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st
from picycle.engine.spiff.serializer import as_restored
from SpiffWorkflow.util.deep_merge import DeepMerge

NAMES = st.sampled_from(["a", "b", "c", "count", "gaps", "flag", "notes"])
PLAIN = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-3, 3)
    | st.sampled_from([0.0, 1.0, 2.5])
    | st.text(max_size=3),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(NAMES, inner, max_size=3),
    max_leaves=12,
)
DATA = st.dictionaries(NAMES, PLAIN, max_size=6)


def spiffs_restore(data: dict, inherited: dict) -> dict:
    """SpiffWorkflow's serializer: the delta it stores, and the data it restores from it."""
    restored = DeepMerge.merge({}, inherited)
    restored.update(DeepMerge.get_updated_keys(inherited, data))
    for name in DeepMerge.get_deleted_keys(inherited, data):
        del restored[name]
    return restored


def as_written(data: dict) -> str:
    # Kinds too: True and 1, 1.0 and 1 are equal but written apart.
    return json.dumps(data)


def other_kind(value):
    """An equal value of another kind, where there is one (1 and 1.0 and True)."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return float(value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


@st.composite
def a_step_after(draw, inherited: dict) -> dict:
    """What a step leaves of its parent's data: values kept, rewritten equal but of another
    kind, replaced, or deleted; new names; names in another order."""
    data = {}
    for name, value in inherited.items():
        change = draw(st.sampled_from(["keep", "kind", "replace", "delete"]))
        if change == "keep":
            data[name] = value
        elif change == "kind":
            data[name] = other_kind(value)
        elif change == "replace":
            data[name] = draw(PLAIN)
    data.update(draw(DATA))
    names = draw(st.permutations(list(data)))
    return {name: data[name] for name in names}


@given(st.data(), DATA)
def test_restored_as_spiffworkflow_restores_it(draw, inherited):
    data = draw.draw(a_step_after(inherited))
    assert as_written(as_restored(data, inherited)) == as_written(spiffs_restore(data, inherited))


@given(inherited=DATA)
def test_a_value_equal_to_the_parents_is_a_copy_of_the_parents(inherited):
    restored = as_restored(json.loads(json.dumps(inherited)), inherited)
    for name, value in inherited.items():
        if isinstance(value, (dict, list)):
            assert restored[name] == value and restored[name] is not value

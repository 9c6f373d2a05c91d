"""The component schemas seen from Python: libgrid.schema() and the tables built from it."""
import os

import pytest

import libgrid

DATA = os.path.join(os.path.dirname(__file__), "..", "data")
KINDS = ["bus", "line", "trafo", "switch", "shunt", "load", "sgen", "storage", "gen", "ext_grid", "branch"]


def test_schema_lists_fields_with_units():
    fields = {f["name"]: f for f in libgrid.schema("trafo")}
    assert fields["vn_hv_kv"]["unit"] == "kV" and fields["vn_hv_kv"]["required"]
    assert fields["df"]["range"] == "in (0, 1]"
    assert fields["tap_side"]["kind"] == "enum" and (1, "hv") in fields["tap_side"]["labels"]
    assert fields["oltc_bus"]["default"] == "-1"
    with pytest.raises(libgrid.ValidationError, match="unknown component kind"):
        libgrid.schema("nope")


@pytest.mark.parametrize("kind", KINDS)
def test_every_stored_field_is_a_column(kind):
    net = libgrid.Network.from_json(os.path.join(DATA, "cigre", "cigre_mv_all.input.json"))
    stored = [f["name"] for f in libgrid.schema(kind) if f["stored"]]
    table = net.table(kind)
    assert list(table.columns) == [c for c in stored if c != "id"]


def test_trafo_columns_once_missing_are_there_and_writable():
    net = libgrid.Network.from_json(os.path.join(DATA, "cigre", "cigre_lv.input.json"))
    t = net.trafo
    for col in ("df", "tap_step_deg", "oltc_bus"):
        assert col in t.columns
    net.set("trafo", "df", [0.5] * len(t))
    assert (net.trafo["df"] == 0.5).all()
    net.set("trafo", "df", [-1.0] * len(t))
    with pytest.raises(libgrid.ValidationError, match="field 'df'"):
        net.validate()

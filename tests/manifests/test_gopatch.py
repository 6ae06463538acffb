"""go-patch ops semantics, checked against the examples of docs-bosh content/cli-ops-files.md and the
go-patch docs/examples.md (expected results as documented for `bosh interpolate`)."""
from __future__ import annotations

import pytest
import yaml

from inception.manifests.gopatch import OpsError, apply_ops, parse_ops, parse_path, Key, Match, Index, AfterLast

BASE = yaml.safe_load("""
key: 1

key2:
  nested:
    super_nested: 2
  other: 3

array: [4,5,6]

items:
- name: item7
- name: item8
- name: item8
""")


def run(ops_yaml: str, doc=None):
    return apply_ops(BASE if doc is None else doc, parse_ops(yaml.safe_load(ops_yaml), "ops.yml"))


def test_docs_example_replace_name():
    assert run("- {type: replace, path: /name, value: other-cf}", {"name": "my-cf"}) == {"name": "other-cf"}


@pytest.mark.parametrize("ops, check", [
    ("- {type: replace, path: /key, value: 10}", lambda d: d["key"] == 10),
    ("- {type: remove, path: /key}", lambda d: "key" not in d),
    ("- {type: replace, path: '/new_key?', value: 10}", lambda d: d["new_key"] == 10),
    ("- {type: replace, path: /key2/nested/super_nested, value: 10}", lambda d: d["key2"]["nested"]["super_nested"] == 10),
    ("- {type: remove, path: /key2/nested/super_nested}", lambda d: d["key2"]["nested"] == {}),
    ("- {type: replace, path: '/key2/nested?/another_nested/super_nested', value: 10}",
     lambda d: d["key2"] == {"nested": {"super_nested": 2, "another_nested": {"super_nested": 10}}, "other": 3}),
    ("- {type: replace, path: /array/0, value: 10}", lambda d: d["array"] == [10, 5, 6]),
    ("- {type: remove, path: /array/0}", lambda d: d["array"] == [5, 6]),
    ("- {type: replace, path: /array/-, value: 10}", lambda d: d["array"] == [4, 5, 6, 10]),
    ("- {type: replace, path: '/array2?/-', value: 10}", lambda d: d["array2"] == [10]),
    ("- {type: replace, path: '/array/1:prev', value: 10}", lambda d: d["array"] == [10, 5, 6]),
    ("- {type: replace, path: '/array/0:next', value: 10}", lambda d: d["array"] == [4, 10, 6]),
    ("- {type: replace, path: '/array/0:after', value: 10}", lambda d: d["array"] == [4, 10, 5, 6]),
    ("- {type: replace, path: '/array/0:before', value: 10}", lambda d: d["array"] == [10, 4, 5, 6]),
    ("- {type: remove, path: /items/name=item7}", lambda d: d["items"] == [{"name": "item8"}, {"name": "item8"}]),
    ("- {type: replace, path: '/items/name=item9?/count', value: 10}",
     lambda d: d["items"] == [{"name": "item7"}, {"name": "item8"}, {"name": "item8"}, {"name": "item9", "count": 10}]),
    ("- {type: replace, path: '/items/name=item7:before', value: {name: item6}}",
     lambda d: [i["name"] for i in d["items"]] == ["item6", "item7", "item8", "item8"]),
])
def test_documented_results(ops, check):
    result = run(ops)
    assert check(result), yaml.safe_dump(result)
    assert BASE["array"] == [4, 5, 6] and BASE["key"] == 1  # the input document is never modified


@pytest.mark.parametrize("ops, words", [
    ("- {type: replace, path: /key_not_there, value: 10}", "map key 'key_not_there'"),
    ("- {type: remove, path: /key_not_there}", "map key 'key_not_there'"),
    ("- {type: replace, path: /items/name=item8/count, value: 10}", "exactly one matching array item for path /items/name=item8 but found 2"),
    ("- {type: replace, path: /array/3, value: 10}", "array index 3 but found array of length 3"),
    ("- {type: replace, path: /key/sub, value: 10}", "expected to find a hash at path /key"),
    ("- {type: replace, path: /key2/0, value: 10}", "expected to find an array at path /key2"),
    ("- {type: replace, path: /array/-/x, value: 10}", "after last index token to be last"),
    ("- {type: remove, path: /}", "cannot remove the entire document"),
])
def test_documented_errors(ops, words):
    with pytest.raises(OpsError, match="ops.yml operation 1") as err:
        run(ops)
    assert words in str(err.value)


def test_optional_removes_are_noops_and_negative_indices():
    assert run("- {type: remove, path: '/nope?/deeper'}") == BASE
    assert run("- {type: remove, path: '/items/name=nope?'}") == BASE
    assert run("- {type: replace, path: /array/-1, value: 9}")["array"] == [4, 5, 9]
    assert run("- {type: replace, path: '/array/-1:after', value: 9}")["array"] == [4, 5, 6, 9]


def test_root_replace_and_sequence_of_ops():
    ops = """
- {type: replace, path: /, value: {a: [1]}}
- {type: replace, path: /a/-, value: 2}
- {type: replace, path: '/b?/c=d?/e', value: 3}
"""
    assert run(ops) == {"a": [1, 2], "b": [{"c": "d", "e": 3}]}


def test_matching_compares_strings_only():
    doc = {"items": [{"name": 1}, {"name": "1"}]}
    assert run("- {type: replace, path: '/items/name=1/x?', value: y}", doc)["items"][1] == {"name": "1", "x": "y"}


def test_escapes_and_parse():
    assert parse_path("/a~1b/c~0d/e~2~3f") == [Key("a/b", False), Key("c~d", False), Key("e?=f", False)]
    assert parse_path("/k=v?/x") == [Match("k", "v", True), Key("x", True)]
    assert parse_path("/0:prev/-") == [Index(0, ("prev",)), AfterLast()]
    doc = {"a/b": {"c": 1}}
    assert run("- {type: replace, path: /a~1b/c, value: 2}", doc) == {"a/b": {"c": 2}}
    with pytest.raises(OpsError, match="must start with '/'"):
        parse_path("key")
    with pytest.raises(OpsError, match="unknown modifier ':later'"):
        parse_path("/a/0:later")


@pytest.mark.parametrize("data, words", [
    ({"type": "replace"}, "must be a YAML list"),
    ([{"type": "patch", "path": "/a"}], "type must be replace or remove"),
    ([{"type": "replace", "path": "/a"}], "replace needs a value"),
    ([{"type": "remove", "path": "/a", "value": 1}], "remove takes no value"),
    ([{"type": "remove"}], "missing path"),
    ([{"type": "remove", "path": "/a", "vaule": 1}], "unknown keys vaule"),
])
def test_malformed_ops_files(data, words):
    with pytest.raises(OpsError, match=words):
        parse_ops(data, "ops.yml")


def test_custom_error_message():
    with pytest.raises(OpsError, match="no such key, please upgrade"):
        run("- {type: remove, path: /missing, error: 'no such key, please upgrade'}")

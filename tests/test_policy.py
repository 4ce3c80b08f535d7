import pytest

from redactor import Policy, PolicyError
from redactor.types import CATEGORIES


def test_default_protects_everything_with_safe_actions():
    p = Policy.default()
    assert p.protect == frozenset(CATEGORIES)
    assert p.actions["face"] == "blur"
    assert all(p.actions[c] == "fill" for c in CATEGORIES if c != "face")
    assert p.reversible_text_actions() == []


@pytest.mark.parametrize(
    "toml, key",
    [
        ("colour = 1", "colour"),
        ("[actions]\nphone = 'smudge'", "actions.phone"),
        ("[actions]\nfoo = 'fill'", "actions.foo"),
        ("protect = ['face', 'tattoo']", "tattoo"),
        ("[thresholds]\ntext = 1.5", "thresholds.text"),
        ("[thresholds]\ntext = 'high'", "thresholds.text"),
        ("[lists]\ndeny_patterns = ['(unclosed']", "deny_patterns"),
        ("[render]\nfill_color = [0, 0]", "render.fill_color"),
        ("version = 2", "version"),
        ("[padding]\ntext = -1", "padding.text"),
    ],
)
def test_invalid_policy_names_the_key(toml, key):
    with pytest.raises(PolicyError, match=key.replace(".", r"\.").replace("(", r"\(")):
        Policy.from_toml(toml, source="mine.toml")


@pytest.mark.parametrize("toml, says", [
    ("[actions]\ndefault = 'smudge'", "actions.default = 'smudge'"),  # not a category that inherits it
    ("[thresholds]\ntext = 1.5", "from 0 to 1"),
    ("[padding]\ntext = -1", "from 0 to 2"),
])
def test_error_says_what_is_wrong_where_it_was_written(toml, says):
    with pytest.raises(PolicyError) as err:
        Policy.from_toml(toml, source="mine.toml")
    assert says in str(err.value), str(err.value)


def test_error_names_the_file(tmp_path):
    f = tmp_path / "p.toml"
    f.write_text("protect = [", encoding="utf-8")
    with pytest.raises(PolicyError, match="p.toml"):
        Policy.load(f)
    with pytest.raises(PolicyError, match="cannot read"):
        Policy.load(tmp_path / "missing.toml")


def test_partial_policy_keeps_defaults_and_face_stays_blur():
    p = Policy.from_toml("protect = ['phone', 'face']\n[actions]\ndefault = 'pixelate'")
    assert p.protect == {"phone", "face"}
    assert p.actions["phone"] == "pixelate"
    assert p.actions["face"] == "blur"
    assert p.reversible_text_actions() == ["phone"]


def test_fingerprint_tracks_meaning_not_source():
    a = Policy.from_toml("[lists]\ndeny = ['x']", source="a.toml")
    b = Policy.from_toml("[lists]\ndeny = ['x']", source="b.toml")
    c = Policy.from_toml("[lists]\ndeny = ['y']", source="a.toml")
    assert a.fingerprint() == b.fingerprint() != c.fingerprint()
    assert Policy.from_dict(a.to_dict()).fingerprint() == a.fingerprint()


def test_policy_survives_pickling_for_worker_processes():
    """`--jobs N` sends the policy to each worker: read-only mappings must come back as they were."""
    import pickle
    from types import MappingProxyType

    policy = Policy.from_toml('[padding]\ntext = 0.2\n[actions]\nname = "blur"\n', source="p.toml")
    back = pickle.loads(pickle.dumps(policy))
    assert back == policy and back.fingerprint() == policy.fingerprint()
    assert isinstance(back.actions, MappingProxyType) and isinstance(back.padding, MappingProxyType)
    assert back.padding["text"] == 0.2 and back.actions["name"] == "blur"

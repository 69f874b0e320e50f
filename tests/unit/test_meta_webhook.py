"""The Meta Page webhook's split: one lead-queue message per leadgen change, ids as text, everything else
acknowledged without a message (no database, no SDK on this path)."""

from __future__ import annotations

import json

from clawgate.meta.meta_webhook import leadgen_messages


def page_update(*changes: dict[str, object], object_type: str = "page") -> bytes:
    return json.dumps(
        {"object": object_type, "entry": [{"id": "153125381133", "time": 1, "changes": list(changes)}]}
    ).encode()


def test_each_leadgen_change_is_one_message_keyed_by_its_leadgen_id() -> None:
    value = {"leadgen_id": 123123123123, "page_id": 153125381133, "form_id": 12312312312, "adgroup_id": 1,
             "ad_id": 12312312312, "created_time": 1440120384}  # fmt: skip
    other = {"leadgen_id": 555, "form_id": 7}
    messages = leadgen_messages(page_update({"field": "leadgen", "value": value}, {"field": "leadgen", "value": other}))
    assert [m.dedup_id for m in messages] == ["123123123123", "555"]
    first, second = (json.loads(m.body) for m in messages)
    assert first == {**value, "page_id": "153125381133"}
    assert second == {"leadgen_id": 555, "form_id": 7, "page_id": "153125381133"}  # page from the entry


def test_other_fields_other_objects_and_unreadable_bodies_give_no_message() -> None:
    assert leadgen_messages(page_update({"field": "feed", "value": {"item": "post"}})) == []
    assert leadgen_messages(page_update({"field": "leadgen", "value": {"leadgen_id": 1}}, object_type="user")) == []
    assert leadgen_messages(page_update({"field": "leadgen", "value": {}}, "not a change")) == []  # type: ignore[arg-type]
    assert leadgen_messages(b"{not json") == []
    assert leadgen_messages(b'{"object": "page"}') == []

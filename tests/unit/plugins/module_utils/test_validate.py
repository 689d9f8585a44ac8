"""The validation engine on its own: rules built here for a made-up payload (a library's books)."""
from __future__ import annotations

import re

import pytest

from ansible_collections.jiraops.integration.plugins.module_utils import _validate as v

SHELF = v.Obj({"room": v.Str(max_length=10), "level": v.Int(minimum=0, maximum=5)}, required=("room", "level"))
BOOK = v.Obj(
    {
        "isbn": v.Str(max_length=13, pattern=re.compile(r"^[0-9]+$"), pattern_text="digits only"),
        "title": v.Str(max_length=20),
        "copies": v.Int(minimum=v.INT32_MIN, maximum=v.INT32_MAX, bits=32),
        "rating": v.Num(0, 5),
        "lent": v.Bool(),
        "tags": v.List(v.Str(enum=["new", "old", "rare"]), 1, 3, unique=True, noun="tags"),
        "added": v.Str(fmt="date-time"),
        "link": v.Str(fmt="url"),
        "shelf": SHELF,
        "notes": v.StringMap(max_items=2, max_length=8, no_prefix="$", no_chars="=;"),
        "holder": v.AnyOf(lambda value: v.Str() if isinstance(value, str) else SHELF),
    },
    required=("isbn", "title"),
)


def book(**kw):
    out = {"isbn": "9780000000001", "title": "Pink logos", "copies": 2, "tags": ["new"],
           "shelf": {"room": "A", "level": 1}}
    out.update(kw)
    return out


def test_a_valid_list_passes_and_every_problem_of_an_invalid_one_is_listed_with_its_place():
    books = [book(), book(isbn="97x"), book(title="t" * 21, shelf={"room": "A", "level": -1}),
             book(tags=["new", "new"])]
    del books[1]["title"]
    assert v.check_items(BOOK, [book()], "books") == []
    assert v.check_items(BOOK, books, "books") == [
        "books[1].title: is required",
        "books[1].isbn: '97x' does not match digits only",
        "books[2].title: is 21 characters long, the limit is 20",
        "books[2].shelf.level: -1 must be between 0 and 5",
        "books[3].tags: 'new' is listed more than once",
    ]


def test_types_formats_and_nested_objects():
    errors = v.check_items(BOOK, [book(rating=7, lent="yes", added="yesterday", link="example.com/x", tags=[],
                                       shelf={"room": ""}, holder={"room": "B", "level": 9}, copies=2 ** 40)], "b")
    assert errors == [
        "b[0].copies: 1099511627776 does not fit a 32-bit integer",
        "b[0].tags: needs at least 1 tags, got 0",
        "b[0].shelf.level: is required",
        "b[0].shelf.room: must not be empty",
        "b[0].rating: 7 must be between 0 and 5",
        "b[0].lent: 'yes' must be true or false",
        "b[0].added: 'yesterday' is not an RFC 3339 date-time (for example 2024-05-01T12:30:00Z)",
        "b[0].link: 'example.com/x' is not an absolute URL (for example https://ci.example.com/job/1)",
        "b[0].holder.level: 9 must be between 0 and 5",
    ]
    assert v.check_items(BOOK, [book(added="2024-02-30T00:00:00Z")], "b") == [
        "b[0].added: '2024-02-30T00:00:00Z' is not a valid date-time (day is out of range for month)"]
    assert v.check_items(BOOK, [book(added="2024-02-03T00:00:00+24:00")], "b") == [
        "b[0].added: '2024-02-03T00:00:00+24:00' has an invalid UTC offset"]


def test_digit_strings_become_integers_in_place_and_nulls_are_left_out():
    items = [book(copies="12", rating=None)]
    assert v.check_items(BOOK, items, "b") == []
    assert items[0]["copies"] == 12 and items[0]["rating"] is None
    assert v.check_items(BOOK, [book(copies=True)], "b") == ["b[0].copies: true must be an integer"]


def test_unknown_fields_are_warnings_with_the_nearest_name_and_say_what_happens_to_them():
    errors = v.check_items(BOOK, [book(titel="x", zzz=1)], "b", unknown="kept for later")
    assert errors == []
    assert errors.warnings == ["b[0].titel: unknown field, kept for later (did you mean title?)",
                               "b[0].zzz: unknown field, kept for later (closest known field: title)"]
    assert v.check_items(BOOK, [book(titel="x")], "b").warnings == [
        "b[0].titel: unknown field, kept as given (did you mean title?)"]


def test_a_repeated_key_is_refused_once_everything_else_is_valid():
    def key(item):
        return (item["isbn"], item["shelf"]["room"])

    items = [book(), book(title="Other"), book(isbn="1")]
    assert v.check_items(BOOK, items, "books", key=key) == [
        "books[1]: same key as books[0] (9780000000001, A); send each entity once"]
    # A problem elsewhere hides the repeat: the key may be made of the very fields that are wrong.
    items = [book(), book(title="t" * 30)]
    assert v.check_items(BOOK, items, "books", key=key) == ["books[1].title: is 30 characters long, the limit is 20"]


def test_string_maps():
    errors = v.Problems()
    value = {"$a": "1", "b=c;": "2", "n": 3, "x": "much too long"}
    v.StringMap(max_items=2, max_length=8, no_prefix="$", no_chars="=;").check(value, "notes", None, errors)
    assert errors == ["notes: has 4 entries, the limit is 2", "notes.$a: keys must not start with '$'",
                      "notes.b=c;: keys must not contain '='", "notes.b=c;: keys must not contain ';'",
                      "notes.x: the value is 13 characters long, the limit is 8"]
    assert value["n"] == "3"


def test_subset_keeps_the_field_rules_of_the_named_paths_all_required():
    rule = BOOK.subset([("isbn",), ("shelf", "room")], also={"tags": BOOK.fields["tags"]})
    assert v.check_items(rule, [{"isbn": "1", "shelf": {"room": "A"}, "title": 5}], "b") == []
    assert v.check_items(rule, [{"shelf": {}}, {"isbn": "x", "shelf": {"room": "A"}, "tags": ["bad"]}], "b") == [
        "b[0].isbn: is required", "b[0].shelf.room: is required",
        "b[1].isbn: 'x' does not match digits only", "b[1].tags[0]: 'bad' is not one of new, old, rare"]
    with pytest.raises(ValueError):
        BOOK.subset([("missing",)])


def test_show_keeps_messages_short():
    assert v.show("x" * 100) == "'" + "x" * 56 + "..."
    assert [v.show(x) for x in (True, None, {}, [], 1.5, "it's")] == ["true", "null", "an object", "a list", "1.5",
                                                                      '"it\'s"']

"""The generator's documents (half the shipped model's training windows) checked against SPEC.md."""
from __future__ import annotations

from collections import Counter

import pytest

from zhibiao.generate import generate_documents
from zhibiao.model.decoding import is_date_or_duration
from zhibiao.quantity import parse_quantity
from zhibiao.records import INDICATOR, QUANTITY
from zhibiao.sentences import sentence_of, split_sentences
from zhibiao.taxonomy import Taxonomy
from zhibiao.validate import validate_document


@pytest.fixture(scope="module")
def generated():
    taxonomy = Taxonomy.load()
    return taxonomy, [d for seed in (7, 11) for d in generate_documents(400, taxonomy, seed=seed)]


def test_every_generated_document_validates(generated):
    _, docs = generated
    problems = [(d.id, p.message) for d in docs for p in validate_document(d)]
    assert problems == []
    assert len({d.id for d in docs}) == len(docs)


def test_generated_quantities_parse_with_a_unit_and_are_no_dates(generated):
    _, docs = generated
    n = 0
    for d in docs:
        for e in d.entities:
            assert d.text[e.start:e.end] == e.text
            if e.label == QUANTITY:
                q = parse_quantity(e.text)  # raises QuantityParseError if it does not parse
                assert q.unit is not None or q.approximate, e.text  # SPEC: a quantity has a unit
                assert not is_date_or_duration(e.text, d.text[e.end:e.end + 3]), (e.text, d.text)
                n += 1
    assert n > 1000


def test_generated_links_follow_the_spec(generated):
    taxonomy, docs = generated
    aliases = taxonomy.aliases()
    n_links = 0
    for d in docs:
        ents = {e.id: e for e in d.entities}
        sents = split_sentences(d.text)
        per_quantity = Counter(q for q, _ in d.relations)
        assert max(per_quantity.values(), default=0) <= 1, d.text  # at most one link per quantity
        for q, i in d.relations:
            assert (ents[q].label, ents[i].label) == (QUANTITY, INDICATOR)
            assert sentence_of(sents, ents[q].start) == sentence_of(sents, ents[i].start), d.text
            n_links += 1
        for e in d.entities:
            if e.label == INDICATOR:
                assert e.text in aliases, e.text  # indicators come from the taxonomy
    assert n_links > 500


def test_generation_is_deterministic_per_seed(generated):
    taxonomy, _ = generated
    a, b = generate_documents(20, taxonomy, seed=3), generate_documents(20, taxonomy, seed=3)
    assert [(d.text, d.entities, d.relations) for d in a] == [(d.text, d.entities, d.relations) for d in b]
    c = generate_documents(20, taxonomy, seed=4)
    assert [d.text for d in a] != [d.text for d in c]


def test_an_empty_taxonomy_is_refused():
    empty = Taxonomy.from_dict({"types": []})
    with pytest.raises(ValueError, match="no aliases"):
        generate_documents(1, empty)

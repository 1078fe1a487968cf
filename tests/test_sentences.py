from zhibiao.sentences import sentence_of, split_sentences, windows


def texts(t):
    return [t[a:b] for a, b in split_sentences(t)]


def test_split_on_end_marks_and_newlines_not_commas():
    t = "监测户94户190人,其中:新增66户;排查24户。脱贫户776户!\n下一行？好的"
    assert texts(t) == ["监测户94户190人,其中:新增66户;排查24户。", "脱贫户776户!", "下一行？", "好的"]


def test_decimals_and_percent_never_split():
    assert texts("资金31.1万元,占87.25%。") == ["资金31.1万元,占87.25%。"]


def test_closing_quote_stays_with_sentence():
    assert texts("他说“好。”然后走了") == ["他说“好。”", "然后走了"]


def test_offsets_and_sentence_of():
    t = "  甲。\r\n乙乙！  "
    spans = split_sentences(t)
    assert [t[a:b] for a, b in spans] == ["甲。", "乙乙！"]
    assert sentence_of(spans, t.index("乙")) == 1
    assert sentence_of(spans, 0) is None


def test_long_sentence_windows_cut_at_commas():
    t = "甲" * 50 + "," + "乙" * 50 + "," + "丙" * 10
    pieces = windows(t, 0, len(t), 60)
    assert "".join(t[a:b] for a, b in pieces) == t
    assert all(b - a <= 60 for a, b in pieces)
    assert t[pieces[0][1] - 1] == ","
    hard = windows("甲" * 130, 0, 130, 60)
    assert [b - a for a, b in hard] == [60, 60, 10]

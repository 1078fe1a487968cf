"""The indicator taxonomy: bundled vocabulary, mention -> type mapping, extension, validation."""
import re

import pytest
import yaml

from zhibiao.errors import TaxonomyError
from zhibiao.taxonomy import OTHER, IndicatorType, Taxonomy, load_taxonomy, normalize_mention

# representative mentions of every family the taxonomy must cover -> expected type id
REQUIRED = {
    # population groups
    "脱贫户": "poverty_exited", "脱贫人口": "poverty_exited", "已脱贫户": "poverty_exited",
    "脱贫": "poverty_exited", "实现脱贫": "poverty_exited",
    "监测对象": "monitored", "监测户": "monitored", "三类人员": "monitored", "防止返贫监测对象": "monitored",
    "脱贫不稳定户": "monitored_unstable", "边缘易致贫户": "monitored_marginal", "边缘户": "monitored_marginal",
    "突发严重困难户": "monitored_sudden_hardship",
    "建档立卡贫困户": "registered_poor", "贫困人口": "registered_poor", "贫困发生率": "registered_poor",
    "消除返贫致贫风险": "poverty_risk", "已消除风险": "poverty_risk", "返贫": "poverty_risk",
    "农村低收入人口": "low_income_population",
    "贫困村": "poor_village", "脱贫村": "poor_village", "贫困村出列": "poor_village", "重点帮扶村": "poor_village",
    # relocation, social protection
    "易地扶贫搬迁": "relocation", "易迁户": "relocation", "集中安置点": "relocation",
    "农村低保": "minimum_living", "低保户": "minimum_living",
    "特困供养": "extreme_poverty_support", "特困人员": "extreme_poverty_support",
    "临时救助": "temporary_assistance",
    "雨露计划": "yulu", "春季雨露计划": "yulu",
    "学生资助": "education_aid", "助学金": "education_aid", "营养餐": "education_aid", "教育资助": "education_aid",
    # jobs
    "公益性岗位": "public_welfare_jobs", "环保公益性岗位": "public_welfare_jobs", "光伏公益性岗位": "public_welfare_jobs",
    "人社公益性岗位": "public_welfare_jobs", "公岗": "public_welfare_jobs", "光伏公岗": "public_welfare_jobs",
    "务工就业": "employment", "劳动力转移": "employment", "外出务工": "employment",
    "交通补贴": "travel_subsidy", "外出务工补助": "travel_subsidy", "省外交通补贴": "travel_subsidy",
    "一次性外出务工交通补贴": "travel_subsidy",
    "扶贫车间": "assistance_workshops", "就业帮扶车间": "assistance_workshops",
    "技能培训": "training", "培训": "training", "致富带头人": "training",
    # money, credit, insurance
    "产业奖补": "industry_subsidy", "到户产业资金": "industry_subsidy", "到户奖补": "industry_subsidy",
    "小额信贷": "microcredit", "小额贷款": "microcredit", "扶贫小额信贷": "microcredit", "存量贷款": "microcredit",
    "衔接资金": "linkage_fund_projects", "衔接资金项目": "linkage_fund_projects",
    "财政衔接推进乡村振兴补助资金": "linkage_fund_projects", "产业发展项目": "linkage_fund_projects",
    "帮扶资金": "assistance_funds", "财政资金": "assistance_funds",
    "扶贫资产": "poverty_assets",
    "防返贫基金": "anti_poverty_insurance", "防贫保": "anti_poverty_insurance", "产业保": "anti_poverty_insurance",
    "村集体经济收入": "collective_economy", "集体分红": "collective_economy",
    "光伏电站": "pv_station", "屋顶光伏电站": "pv_station", "光伏收益": "pv_station", "装机容量": "pv_station",
    # health, housing, water, infrastructure
    "医保缴纳": "medical_security", "参保": "medical_security", "慢性病认定": "medical_security",
    "家庭医生签约": "medical_security", "大病救治": "medical_security",
    "养老保险": "pension_insurance",
    "生活补贴": "disability_subsidy", "护理补贴": "disability_subsidy", "两项补贴": "disability_subsidy",
    "残疾人": "disability_subsidy",
    "住房安全": "housing_safety", "危房改造": "housing_safety",
    "集中供水工程": "drinking_water", "分散饮水设施": "drinking_water", "打井": "drinking_water",
    "安全饮水": "drinking_water",
    "道路": "infrastructure", "硬化路": "infrastructure", "桥梁": "infrastructure",
    "基础设施建设项目": "infrastructure",
    "人居环境": "living_environment", "厕所改造": "living_environment",
    # forces, monitoring, warnings
    "驻村第一书记": "resident_support", "驻村工作队员": "resident_support", "帮扶责任人": "resident_support",
    "结对帮扶": "resident_support",
    "集中排查": "monitoring_checks",
    "预警": "risk_warning", "风险": "risk_warning", "大病风险": "risk_warning", "住房风险": "risk_warning",
    "就业风险": "risk_warning", "预警信息": "risk_warning",
    # markets, outside support
    "消费帮扶": "consumption_support", "消费扶贫": "consumption_support", "脱贫户农产品": "consumption_support",
    "电商": "ecommerce", "东西部协作": "east_west_cooperation", "捐赠": "social_assistance",
    "社会帮扶": "social_assistance", "招商引资": "investment_attraction",
    # basics, industry, land, income
    "户籍人口": "population_basics", "总人口": "population_basics", "农户": "population_basics",
    "一般农户": "population_basics", "行政村": "population_basics", "村民小组": "population_basics",
    "种植面积": "industry_scale", "蓝莓基地": "industry_scale", "产量": "industry_scale", "养殖": "industry_scale",
    "耕地": "grain_farmland", "撂荒地": "grain_farmland",
    "人均纯收入": "income", "人均可支配收入": "income",
    "乡村旅游": "rural_tourism", "积分超市": "rural_civility",
}


@pytest.fixture(scope="module")
def tax():
    return Taxonomy.load()


def write(tmp_path, name, body):
    p = tmp_path / name
    p.write_text(body, encoding="utf-8")
    return p


# ---- the bundled vocabulary ---------------------------------------------------------------------

def test_bundled_types_are_complete_and_well_formed(tax):
    assert len(tax) >= 36
    for t in tax:
        assert isinstance(t, IndicatorType)
        assert re.fullmatch(r"[a-z][a-z0-9_]*", t.id), t.id
        assert t.name and t.description and t.aliases, t.id
        assert len(t.aliases) >= 2, t.id
        assert len(set(t.aliases)) == len(t.aliases), t.id
    assert OTHER not in tax
    # aliases are stored normalised (simplified) and each maps exactly to its own type
    amap = tax.aliases()
    assert len(amap) == sum(len(t.aliases) for t in tax)
    for alias, tid in amap.items():
        assert normalize_mention(alias) == alias
        assert tax.classify_scored(alias) == (tid, 1.0, "exact")


@pytest.mark.parametrize("mention, type_id", sorted(REQUIRED.items()))
def test_required_families(tax, mention, type_id):
    assert tax.classify(mention) == type_id


def test_generator_type_ids_exist(tax):
    from zhibiao.generate import TYPE_UNITS

    assert set(TYPE_UNITS) <= set(tax.ids())


# ---- classification ---------------------------------------------------------------------------

def test_methods_exact_contains_similar_none(tax):
    assert tax.classify_scored("雨露计划") == ("yulu", 1.0, "exact")
    tid, score, method = tax.classify_scored("春季雨露计划补助名单")
    assert (tid, method) == ("yulu", "contains") and 0 < score < 1
    tid, score, method = tax.classify_scored("监测对像")  # a typo: no alias is contained
    assert (tid, method) == ("monitored", "similar") and 0.6 <= score < 1
    tid, score, method = tax.classify_scored("天气晴朗")
    assert (tid, method) == (OTHER, "none") and score < 0.6
    assert tax.classify("") == OTHER and tax.classify("   ") == OTHER
    assert tax.classify("xyz123") == OTHER


def test_similarity_threshold_is_configurable(tax):
    assert tax.classify_scored("监测对像", threshold=0.9)[0] == OTHER
    strict = Taxonomy.load(threshold=0.95)
    assert strict.classify("监测对像") == OTHER
    assert strict.classify("监测对象") == "monitored"
    with pytest.raises(ValueError):
        Taxonomy.load(threshold=1.5)


def test_longest_contained_alias_wins(tax):
    assert tax.classify("全镇环保公益性岗位人数") == "public_welfare_jobs"
    assert tax.classify("小额扶贫贷款贴息金额") == "microcredit"
    assert tax.classify("屋顶光伏电站收益分配") == "pv_station"
    assert tax.classify("农村集中供水工程") == "drinking_water"
    assert tax.classify("省外交通补贴资金") == "travel_subsidy"
    # coordinations: the longest alias, ties go to the type listed first
    assert tax.classify("脱贫户、监测户") == "poverty_exited"
    assert tax.classify_scored("脱贫户、监测户")[2] == "contains"
    assert tax.classify("脱贫户、突发严重困难户") == "monitored_sudden_hardship"


def test_traditional_fullwidth_and_pinyin_artefacts(tax):
    assert tax.classify_scored("監測對象") == ("monitored", 1.0, "exact")
    assert tax.classify_scored("監(jiān)測對象") == ("monitored", 1.0, "exact")
    assert tax.classify("突發(fā)嚴重困難戶") == "monitored_sudden_hardship"
    assert tax.classify("鄉(xiāng)村公益性崗位") == "public_welfare_jobs"
    assert tax.classify("發(fā)布監(jiān)測對象名單") == "monitored"
    assert tax.classify("省外交通補貼") == "travel_subsidy"
    assert tax.classify("銜接資金項目") == "linkage_fund_projects"
    assert tax.classify("駐村第一書記") == "resident_support"
    assert tax.classify("（雨露计划）") == "yulu"          # full-width brackets
    assert tax.classify(" 脱贫 户\u3000") == "poverty_exited"  # stray spaces
    assert tax.classify("“三类人员”") == "monitored"
    assert tax.classify("脱贫户和“三类人员”") == "monitored"


def test_normalize_mention():
    assert normalize_mention("鎮(zhèn)") == "镇"
    assert normalize_mention("發(fā)布") == "发布"
    assert normalize_mention("ＡＢＣ１２") == "ABC12"
    assert normalize_mention("脱贫(户)") == "脱贫(户)"  # only latin runs are artefacts
    assert normalize_mention("(zhen)") == "(zhen)"      # and only right after a Han char


@pytest.mark.parametrize("text", [
    "鄉里藉助東西部協作平臺",  # OpenCC's phrase table gave 借助; the model's text keeps 藉助
    "全鎮(zhèn)監(jiān)測對象",
    "萬（wàn）元",                # full-width brackets
    "項目(ppp)",                  # no tone mark: not a pinyin artefact for normalize either
    "脫貧戶",
])
def test_normalize_mention_is_the_model_text_normalisation(text):
    """Pinyin stripping and traditional -> simplified are written once (zhibiao.normalize): a
    mention is classified on the characters the model sees."""
    from zhibiao.normalize import normalize

    assert normalize_mention(text) == normalize(text).text.replace(" ", "")


# ---- extension, snapshots, cache ----------------------------------------------------------------

def test_user_extension_adds_and_overrides(tmp_path, tax):
    f = write(tmp_path, "mine.yaml",
              "version: 1\ntypes:\n"
              "  - id: tea_gardens\n    name: 茶园\n    description: tea\n    aliases: [生态茶园, 有机茶园, 茶園基地]\n"
              "  - id: yulu\n    name: 雨露计划\n    description: replaced\n    aliases: [雨露计划, 雨露补助]\n")
    ext = Taxonomy.load(extend=f)
    assert ext.classify("有机茶园") == "tea_gardens"
    assert ext.classify("全村有机茶园面积") == "tea_gardens"
    assert ext.classify("茶园基地") == "tea_gardens"  # traditional alias normalised
    assert ext.classify("雨露补助") == "yulu"
    assert ext.classify("雨露计划补助资金") == "yulu"  # contains; the old alias list is gone
    assert ext.get("yulu").description == "replaced"
    assert ext.ids().index("yulu") == tax.ids().index("yulu")  # keeps its position
    assert ext.ids()[-1] == "tea_gardens"
    assert len(ext) == len(tax) + 1
    assert len(tax.aliases()) != len(ext.aliases())  # the bundled instance is untouched
    # a list of files and plain dicts work too
    both = Taxonomy.load(extend=[f, {"types": [{"id": "bees", "name": "蜂", "aliases": ["蜜蜂养殖"]}]}])
    assert both.classify("蜜蜂养殖") == "bees" and both.classify("有机茶园") == "tea_gardens"


def test_snapshot_round_trip(tmp_path, tax):
    again = Taxonomy.from_dict(yaml.safe_load(tax.to_yaml()))
    assert again.aliases() == tax.aliases() and again.ids() == tax.ids()
    saved = tax.save(tmp_path / "taxonomy.yaml")
    assert Taxonomy.load(saved).aliases() == tax.aliases()
    assert Taxonomy.load(tmp_path).ids() == tax.ids()  # a folder means its taxonomy.yaml


def test_load_taxonomy_is_cached_and_sees_edits(tmp_path):
    assert load_taxonomy() is load_taxonomy()
    f = write(tmp_path, "ext.yaml", "types:\n  - {id: aa, name: A, aliases: [甲乙丙]}\n")
    first = load_taxonomy(extend=f)
    assert first is load_taxonomy(extend=str(f)) and first.classify("甲乙丙") == "aa"
    import os
    write(tmp_path, "ext.yaml", "types:\n  - {id: bb, name: B, aliases: [甲乙丙]}\n")
    st = f.stat()
    os.utime(f, (st.st_atime, st.st_mtime + 5))
    assert load_taxonomy(extend=f).classify("甲乙丙") == "bb"


# ---- validation -------------------------------------------------------------------------------

@pytest.mark.parametrize("body, msg", [
    ("types:\n  - {id: a, name: A, aliases: [x]}\n  - {id: a, name: B, aliases: [y]}\n", "duplicate type id 'a'"),
    ("types:\n  - {id: a, name: A, aliases: [x]}\n  - {id: b, name: B, aliases: [x]}\n",
     "alias 'x' of type 'b' is already an alias of type 'a'"),
    ("types:\n  - {id: a, name: A, aliases: [監測]}\n  - {id: b, name: B, aliases: [监测]}\n",
     "alias '监测' of type 'b' is already an alias of type 'a'"),  # clash after t2s
    ("types:\n  - {id: a, aliases: [x]}\n", "type 'a' lacks required field 'name'"),
    ("types:\n  - {name: A, aliases: [x]}\n", r"types\[0\] lacks required field 'id'"),
    ("types:\n  - {id: a, name: A}\n", "type 'a' lacks required field 'aliases'"),
    ("types:\n  - {id: a, name: A, aliases: []}\n", "type 'a' needs a non-empty list of aliases"),
    ("types:\n  - {id: a, name: A, aliases: 甲}\n", "type 'a' needs a non-empty list of aliases"),
    ("types:\n  - {id: a, name: A, aliases: [x, 12]}\n", "type 'a' has a non-string alias 12"),
    ("types:\n  - {id: a, name: A, aliases: [x, '  ']}\n", "type 'a' has an empty alias"),
    ("types:\n  - {id: Bad-Id, name: A, aliases: [x]}\n", "snake_case"),
    ("types:\n  - {id: other, name: A, aliases: [x]}\n", "reserved"),
    ("types:\n  - {id: a, name: '', aliases: [x]}\n", "empty or non-string name"),
    ("types: [\n", "invalid YAML at line"),
    ("types:\n  - id: a\n   name: A\n", "invalid YAML"),
    ("hello: 1\n", "'types' list"),
    ("types: 3\n", "'types' must be a list"),
    ("types:\n  - just a string\n", r"types\[0\] is not a mapping"),
    ("", "'types' list"),
])
def test_bad_files_name_the_file(tmp_path, body, msg):
    f = write(tmp_path, "bad.yaml", body)
    with pytest.raises(TaxonomyError, match=msg) as ei:
        Taxonomy.load(f)
    assert str(ei.value).startswith(str(f) + ":")
    # the same file used as an extension fails the same way
    with pytest.raises(TaxonomyError, match="bad.yaml"):
        Taxonomy.load(extend=f)


def test_alias_clash_is_one_check_with_one_message(tmp_path):
    """The same clash gives the same message from a constructor, a file and an extension."""
    from zhibiao.taxonomy import alias_owners

    a, b = IndicatorType("a", "A", "", ("监测",)), IndicatorType("b", "B", "", ("监测",))
    msg = "alias '监测' of type 'b' is already an alias of type 'a'"
    with pytest.raises(TaxonomyError, match=f"<x>: {msg}$"):
        alias_owners([a, b], "<x>")
    with pytest.raises(TaxonomyError, match=f"<taxonomy>: {msg}$"):
        Taxonomy([a, b])
    assert alias_owners([a, IndicatorType("a", "A", "", ("监测",))], "<x>") == {"监测": "a"}
    base = write(tmp_path, "base.yaml", "types:\n  - {id: a, name: A, aliases: [监测]}\n")
    ext = write(tmp_path, "ext.yaml", "types:\n  - {id: b, name: B, aliases: [監測]}\n")
    with pytest.raises(TaxonomyError, match=f"ext.yaml: {msg} \\(override 'a' too"):
        Taxonomy.load(base, extend=ext)


def test_missing_file_and_dict_source(tmp_path):
    with pytest.raises(TaxonomyError, match="nope.yaml: cannot read"):
        Taxonomy.load(tmp_path / "nope.yaml")
    with pytest.raises(TaxonomyError, match="<dict>: duplicate type id 'a'"):
        Taxonomy.from_dict({"types": [{"id": "a", "name": "A", "aliases": ["x"]},
                                      {"id": "a", "name": "A", "aliases": ["y"]}]})


def test_duplicate_alias_within_one_type_is_harmless():
    t = Taxonomy.from_dict({"types": [{"id": "a", "name": "A", "aliases": ["監測", "监测", "监测"]}]})
    assert t.get("a").aliases == ("监测",)


def test_extension_alias_clash_with_another_type_names_both_ids(tmp_path):
    f = write(tmp_path, "clash.yaml", "types:\n  - {id: mine, name: M, aliases: [甲乙, 脱贫户]}\n")
    with pytest.raises(TaxonomyError, match=r"clash\.yaml: alias '脱贫户' of type 'mine' .*'poverty_exited'"):
        Taxonomy.load(extend=f)
    # traditional spelling of an existing alias clashes as well
    g = write(tmp_path, "clash2.yaml", "types:\n  - {id: mine, name: M, aliases: [監測對象]}\n")
    with pytest.raises(TaxonomyError, match=r"clash2\.yaml: alias '监测对象' .*'monitored'"):
        Taxonomy.load(extend=g)


def test_extension_moves_an_alias_by_overriding_its_owner(tmp_path, tax):
    owner = tax.get("disability_subsidy")
    kept = [a for a in owner.aliases if a != "生活补贴"]
    body = {"types": [
        {"id": "disability_subsidy", "name": owner.name, "description": owner.description, "aliases": kept},
        {"id": "living_allowance", "name": "生活补贴", "aliases": ["生活补贴"]},
    ]}
    f = write(tmp_path, "move.yaml", yaml.safe_dump(body, allow_unicode=True))
    ext = Taxonomy.load(extend=f)
    assert ext.classify("生活补贴") == "living_allowance"
    assert ext.classify("护理补贴") == "disability_subsidy"


def test_every_type_has_a_chinese_name_including_other():
    from zhibiao.extract import default_model_path
    from zhibiao.taxonomy import OTHER_ZH

    sources = [Taxonomy.load()]
    if (default_model_path() / "taxonomy.yaml").exists():
        sources.append(Taxonomy.load(default_model_path() / "taxonomy.yaml"))
    for tax in sources:
        for t in tax:
            assert re.search(r"[\u4e00-\u9fff]", tax.name_zh(t.id) or ""), t.id
            assert tax.name_zh(t.id) == t.name
        assert tax.name_zh(OTHER) == OTHER_ZH == "其他"
        assert tax.name_zh(None) is None and tax.name_zh("no_such_type") is None
    assert Taxonomy.load().name_zh("monitored") == "监测对象"

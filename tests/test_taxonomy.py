import pytest

from zhibiao.errors import TaxonomyError
from zhibiao.taxonomy import OTHER, Taxonomy

REQUIRED = {
    "脱贫户": "poverty_exited", "脱贫人口": "poverty_exited", "监测对象": "monitored", "监测户": "monitored",
    "脱贫不稳定户": "monitored_unstable", "边缘易致贫户": "monitored_marginal", "突发严重困难户": "monitored_sudden_hardship",
    "建档立卡贫困户": "registered_poor", "贫困村": "poor_village", "易地扶贫搬迁": "relocation", "农村低保": "minimum_living",
    "特困供养": "extreme_poverty_support", "雨露计划": "yulu", "学生资助": "education_aid",
    "环保公益性岗位": "public_welfare_jobs", "光伏公岗": "public_welfare_jobs", "人社公益性岗位": "public_welfare_jobs",
    "务工就业": "employment", "劳动力转移": "employment", "省外交通补贴": "travel_subsidy", "外出务工补助": "travel_subsidy",
    "产业奖补": "industry_subsidy", "到户产业资金": "industry_subsidy", "小额贷款": "microcredit",
    "衔接资金项目": "linkage_fund_projects", "防返贫基金": "anti_poverty_insurance", "防贫保": "anti_poverty_insurance",
    "村集体经济收入": "collective_economy", "屋顶光伏电站": "pv_station", "慢性病认定": "medical_security",
    "护理补贴": "disability_subsidy", "危房改造": "housing_safety", "集中供水工程": "drinking_water",
    "驻村第一书记": "resident_support", "预警信息": "risk_warning", "消费帮扶": "consumption_support",
    "技能培训": "training", "总人口": "population_basics", "种植面积": "industry_scale", "硬化路": "infrastructure",
}


@pytest.fixture(scope="module")
def tax():
    return Taxonomy.load()


def test_at_least_thirty_types_with_names_and_aliases(tax):
    assert len(tax) >= 30
    for t in tax.types.values():
        assert t.id and t.name and t.description and t.aliases


@pytest.mark.parametrize("mention, type_id", sorted(REQUIRED.items()))
def test_required_families(tax, mention, type_id):
    assert tax.classify(mention) == type_id


def test_methods_exact_contains_similar_none(tax):
    assert tax.classify_scored("雨露计划")[2] == "exact"
    tid, score, method = tax.classify_scored("春季雨露计划补助名单")
    assert (tid, method) == ("yulu", "contains") and 0 < score < 1
    assert tax.classify_scored("监测对像")[0:3:2] == ("monitored", "similar")  # a typo still lands
    assert tax.classify_scored("天气晴朗")[0] == OTHER
    assert tax.classify("") == OTHER


def test_traditional_and_pinyin_artefacts(tax):
    assert tax.classify("監測對象") == "monitored"
    assert tax.classify("監(jiān)測對象") == "monitored"
    assert tax.classify("“三类人员”") == "monitored"


def test_longest_contained_alias_wins(tax):
    assert tax.classify("全镇环保公益性岗位人数") == "public_welfare_jobs"
    assert tax.classify("小额扶贫贷款贴息金额") == "microcredit"


def test_user_extension(tmp_path, tax):
    f = tmp_path / "mine.yaml"
    f.write_text("types:\n  - id: tea_gardens\n    name: 茶园\n    description: tea\n    aliases: [生态茶园, 有机茶园]\n"
                 "  - id: yulu\n    name: 雨露计划\n    description: replaced\n    aliases: [雨露计划, 雨露补助]\n", encoding="utf-8")
    ext = Taxonomy.load(extend=f)
    assert ext.classify("有机茶园") == "tea_gardens"
    assert ext.classify("雨露补助") == "yulu"
    assert len(ext) == len(tax) + 1
    again = Taxonomy.from_dict(yaml_load(ext.to_yaml()))
    assert again.aliases() == ext.aliases()


def yaml_load(s):
    import yaml

    return yaml.safe_load(s)


@pytest.mark.parametrize("body, msg", [
    ("types:\n  - {id: a, name: A, aliases: [x]}\n  - {id: a, name: B, aliases: [y]}\n", "duplicate type id 'a'"),
    ("types:\n  - {id: a, name: A, aliases: [x]}\n  - {id: b, name: B, aliases: [x]}\n", "alias 'x' of type 'b'"),
    ("types:\n  - {id: a, aliases: [x]}\n", "lacks required field 'name'"),
    ("types:\n  - {id: a, name: A, aliases: []}\n", "non-empty list of aliases"),
    ("types: [\n", "invalid YAML"),
    ("hello: 1\n", "'types' list"),
])
def test_bad_files_name_the_file(tmp_path, body, msg):
    f = tmp_path / "bad.yaml"
    f.write_text(body, encoding="utf-8")
    with pytest.raises(TaxonomyError, match=msg) as ei:
        Taxonomy.load(f)
    assert "bad.yaml" in str(ei.value)


def test_extension_alias_clash_with_another_type_is_an_error(tmp_path):
    f = tmp_path / "clash.yaml"
    f.write_text("types:\n  - {id: mine, name: M, aliases: [脱贫户]}\n", encoding="utf-8")
    with pytest.raises(TaxonomyError, match="clash.yaml.*脱贫户.*poverty_exited"):
        Taxonomy.load(extend=f)

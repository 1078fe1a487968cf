"""Place names are never indicators.

SPEC: an indicator names what a quantity counts or measures. A village, town, township or street
named as the place of a figure (``其中:某某村61户、247人``, ``某某镇2户10人``) is where it is
counted, not what: a quantity is never linked to it. A category of places is an indicator
(``贫困村5个``, ``行政村17个``, ``建档立卡贫困村``): its stem says what kind of place it is.
The pointer linker (:mod:`zhibiao.model.pointer`) decodes again, without the place name, when its
best span for a quantity is one (``ModelConfig.skip_place_names``).
"""
from __future__ import annotations

#: administrative suffixes of a place name (normalised, simplified text)
SUFFIXES = ("街道", "社区", "村", "镇", "乡")
#: the longest stem (characters before the suffix) a place name is taken to have
MAX_STEM = 4
#: words that make a stem a kind of place rather than a name (贫困村, 行政村, 示范村, 乡镇 ...)
KIND_WORDS = ("贫困", "脱贫", "扶贫", "行政", "自然", "小康", "薄弱", "重点", "帮扶", "定点", "省定", "省级",
              "市级", "县级", "深度", "出列", "退出", "示范", "试点", "搬迁", "安置", "集体", "美丽", "宜居",
              "特色", "文明", "中心", "移民", "建档", "民族", "边境", "老区", "空心", "传统", "旅游", "产业",
              "经济", "先进", "达标", "振兴", "乡", "非", "未", "已", "各", "全", "本", "该", "每", "其他", "所有")


def is_place_name(text: str) -> bool:
    """Whether ``text`` (a candidate indicator, normalised) is the name of one place, not a kind of place."""
    for suffix in SUFFIXES:
        if text.endswith(suffix):
            stem = text[: -len(suffix)]
            return 0 < len(stem) <= MAX_STEM and not any(w in stem for w in KIND_WORDS)
    return False

"""The indicator taxonomy: canonical indicator types, their aliases, and the mention -> type map.

``Taxonomy.load()`` reads the bundled ``resources/indicators.yaml`` (schema documented at the
top of that file); ``extend=`` adds user YAML files of the same schema, where a user type that
re-uses an existing id replaces that type whole. :meth:`Taxonomy.classify` maps an indicator
mention to a type id:

1. ``exact``: the normalised mention is an alias (:func:`normalize_mention`: NFKC, whitespace
   and quote marks removed, then :func:`zhibiao.normalize.normalize`: pinyin artefacts such as
   ``鎮(zhèn)`` dropped, traditional -> simplified);
2. ``contains``: else the longest alias contained in the mention (ties: the type listed first),
   so a coordination ``脱贫户、监测户`` or a modified form ``全镇环保公益性岗位人数`` lands;
3. ``similar``: else the alias with the highest character-bigram Dice similarity, when it
   reaches the threshold (default 0.6);
4. else ``"other"`` (method ``none``).

Every invalid file raises :class:`~zhibiao.errors.TaxonomyError` whose message starts with the
file (or ``<dict>`` source) and names the offending type id / alias.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence, Union

import yaml

from .errors import TaxonomyError
from .normalize import normalize

__all__ = ["IndicatorType", "Taxonomy", "OTHER", "OTHER_ZH", "DEFAULT_THRESHOLD", "load_taxonomy",
           "normalize_mention", "alias_owners"]

OTHER = "other"
#: the Chinese name of :data:`OTHER` (``Record.indicator_type_zh`` of a mention no type fits)
OTHER_ZH = "其他"
DEFAULT_THRESHOLD = 0.6
BUNDLED = "zhibiao/resources/indicators.yaml"

_ID = re.compile(r"[a-z][a-z0-9_]*\Z")
_QUOTES = str.maketrans("", "", "“”‘’\"'「」『』《》〈〉")
_SPACE = re.compile(r"\s+")

PathLike = Union[str, Path]


@lru_cache(maxsize=65536)
def normalize_mention(text: str) -> str:
    """The light normalisation applied to both aliases and mentions before matching.

    Not offset-preserving (it is only used for lookup): NFKC (full-width -> half-width and the
    other compatibility forms), whitespace and quote marks removed, then
    :func:`zhibiao.normalize.normalize` (pinyin artefacts dropped, traditional -> simplified
    character by character: the text the model sees).
    """
    s = unicodedata.normalize("NFKC", text or "")
    s = _SPACE.sub("", s).translate(_QUOTES)
    return normalize(s).text if s else s


def _bigrams(s: str) -> frozenset[str]:
    return frozenset(s[i:i + 2] for i in range(len(s) - 1)) if len(s) > 1 else frozenset((s,))


@dataclass(frozen=True)
class IndicatorType:
    id: str
    name: str
    description: str
    aliases: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "description": self.description, "aliases": list(self.aliases)}


class Taxonomy:
    """Indicator types (in file order) and the alias index built from them."""

    def __init__(self, types: Sequence[IndicatorType] | Mapping[str, IndicatorType] = (), *,
                 threshold: float = DEFAULT_THRESHOLD, source: str = "<taxonomy>"):
        if not 0.0 <= threshold <= 1.0:
            raise ValueError(f"similarity threshold must lie in [0, 1], got {threshold}")
        seq = list(types.values()) if isinstance(types, Mapping) else list(types)
        self.types: dict[str, IndicatorType] = {}
        for t in seq:
            if t.id in self.types:
                raise TaxonomyError(f"{source}: duplicate type id {t.id!r}")
            self.types[t.id] = t
        self.threshold = threshold
        self.source = source
        self._index(source)

    # ---- index ------------------------------------------------------------------------------
    def _index(self, source: str) -> None:
        alias = alias_owners(self.types.values(), source)
        self._alias = alias
        self._order = {tid: k for k, tid in enumerate(self.types)}
        # longest first, then the type listed first: the first contained alias wins
        self._by_length = sorted(alias.items(), key=lambda kv: (-len(kv[0]), self._order[kv[1]]))
        self._grams = [(a, tid, _bigrams(a)) for a, tid in sorted(alias.items(), key=lambda kv: self._order[kv[1]])]
        self._cache: dict[tuple[str, float], tuple[str, float, str]] = {}

    # ---- reading ----------------------------------------------------------------------------
    @staticmethod
    def _parse(data: Any, source: str) -> list[IndicatorType]:
        """Validate one file's data (mapping with a ``types`` list) into types, in order."""
        if not isinstance(data, Mapping) or "types" not in data:
            raise TaxonomyError(f"{source}: expected a mapping with a 'types' list (and an optional 'version')")
        items = data["types"]
        if not isinstance(items, list):
            raise TaxonomyError(f"{source}: 'types' must be a list of mappings, got {type(items).__name__}")
        out: list[IndicatorType] = []
        seen: dict[str, str] = {}
        for k, item in enumerate(items):
            if not isinstance(item, Mapping):
                raise TaxonomyError(f"{source}: types[{k}] is not a mapping")
            where = f"type {item['id']!r}" if isinstance(item.get("id"), str) else f"types[{k}]"
            for key in ("id", "name", "aliases"):
                if key not in item or item[key] is None:
                    raise TaxonomyError(f"{source}: {where} lacks required field {key!r}")
            tid = item["id"]
            if not isinstance(tid, str) or not _ID.match(tid):
                raise TaxonomyError(f"{source}: types[{k}] has id {tid!r}; ids are snake_case ascii ([a-z][a-z0-9_]*)")
            if tid == OTHER:
                raise TaxonomyError(f"{source}: type id {OTHER!r} is reserved for mentions no type fits")
            if tid in seen:
                raise TaxonomyError(f"{source}: duplicate type id {tid!r} (types[{seen[tid]}] and types[{k}])")
            seen[tid] = str(k)
            name = item["name"]
            if not isinstance(name, str) or not name.strip():
                raise TaxonomyError(f"{source}: type {tid!r} has an empty or non-string name")
            desc = item.get("description", "")
            if desc is None:
                desc = ""
            if not isinstance(desc, str):
                raise TaxonomyError(f"{source}: type {tid!r} has a non-string description")
            raw = item["aliases"]
            if not isinstance(raw, list) or not raw:
                raise TaxonomyError(f"{source}: type {tid!r} needs a non-empty list of aliases")
            aliases: list[str] = []
            for a in raw:
                if not isinstance(a, str):
                    raise TaxonomyError(f"{source}: type {tid!r} has a non-string alias {a!r} (quote it in YAML)")
                norm = normalize_mention(a)
                if not norm:
                    raise TaxonomyError(f"{source}: type {tid!r} has an empty alias {a!r}")
                if norm not in aliases:
                    aliases.append(norm)
            out.append(IndicatorType(tid, name.strip(), " ".join(desc.split()), tuple(aliases)))
        return out

    @staticmethod
    def _read(path: PathLike) -> tuple[str, Any]:
        p = Path(path)
        if p.is_dir():
            p = p / "taxonomy.yaml"
        try:
            text = p.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise TaxonomyError(f"{p}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
        except OSError as exc:
            raise TaxonomyError(f"{p}: cannot read taxonomy file ({exc.strerror or exc})") from None
        return str(p), Taxonomy._yaml(text, str(p))

    @staticmethod
    def _yaml(text: str, source: str) -> Any:
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            raise TaxonomyError(f"{source}: invalid YAML{at}: {problem}") from None

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "<dict>", threshold: float = DEFAULT_THRESHOLD) -> "Taxonomy":
        """A taxonomy from already-parsed data of the file schema (``{"types": [...]}``)."""
        return cls(cls._parse(data, source), threshold=threshold, source=source)

    @classmethod
    def load(cls, path: PathLike | None = None, *,
             extend: PathLike | Mapping | Sequence[PathLike | Mapping] | None = None,
             threshold: float = DEFAULT_THRESHOLD) -> "Taxonomy":
        """The bundled taxonomy (or the file ``path``; a folder means its ``taxonomy.yaml``),
        extended in order by the user files (or dicts) in ``extend``.

        A user type whose id exists replaces that type whole and keeps its position; new types
        are appended. An alias that ends up under two different ids is a TaxonomyError naming
        the user file, the alias and both ids.
        """
        if path is None:
            text = resources.files("zhibiao").joinpath("resources/indicators.yaml").read_text(encoding="utf-8")
            source, data = BUNDLED, cls._yaml(text, BUNDLED)
        else:
            source, data = cls._read(path)
        tax = cls.from_dict(data, source=source, threshold=threshold)
        for k, ext in enumerate(_as_list(extend)):
            if isinstance(ext, Mapping):
                src, edata = f"<extend[{k}]>", ext
            else:
                src, edata = cls._read(ext)
            tax = tax._merged(cls._parse(edata, src), src)
        return tax

    def _merged(self, user: Sequence[IndicatorType], source: str) -> "Taxonomy":
        types = dict(self.types)
        for t in user:
            types[t.id] = t  # replaces in place (dict keeps the first position) or appends
        user_ids = {t.id for t in user}
        # report the clash from the user type's side
        alias_owners(sorted(types.values(), key=lambda t: t.id in user_ids), source,
                     hint=" (override {owner!r} too, without that alias, to move it)")
        return Taxonomy(list(types.values()), threshold=self.threshold, source=source)

    # ---- use --------------------------------------------------------------------------------
    def aliases(self) -> dict[str, str]:
        """alias (normalised, simplified) -> type id."""
        return dict(self._alias)

    def name_zh(self, type_id: str | None) -> str | None:
        """The Chinese name of a type id (its ``name`` in the taxonomy file, which the schema asks to
        be Chinese; ``其他`` for ``"other"``; None for None or an id the taxonomy does not hold)."""
        if type_id == OTHER:
            return OTHER_ZH
        t = self.types.get(type_id) if type_id is not None else None
        return t.name if t is not None else None

    def classify(self, mention: str) -> str:
        """The type id of ``mention``, or ``"other"``."""
        return self.classify_scored(mention)[0]

    def classify_scored(self, mention: str, *, threshold: float | None = None) -> tuple[str, float, str]:
        """(type id, score 0..1, method): method is ``exact`` (score 1), ``contains`` (score =
        alias length / mention length), ``similar`` (bigram Dice score) or ``none``
        (``"other"``, with the best similarity seen)."""
        thr = self.threshold if threshold is None else threshold
        key = (mention or "", thr)
        hit = self._cache.get(key)
        if hit is None:
            hit = self._classify(normalize_mention(mention or ""), thr)
            if len(self._cache) < 100_000:
                self._cache[key] = hit
        return hit

    def _classify(self, m: str, thr: float) -> tuple[str, float, str]:
        if not m:
            return OTHER, 0.0, "none"
        tid = self._alias.get(m)
        if tid is not None:
            return tid, 1.0, "exact"
        for alias, tid in self._by_length:
            if len(alias) < len(m) and alias in m:
                return tid, round(len(alias) / len(m), 6), "contains"
        grams = _bigrams(m)
        best, best_tid = 0.0, OTHER
        for _alias, tid, g in self._grams:
            s = 2 * len(grams & g) / (len(grams) + len(g))
            if s > best:
                best, best_tid = s, tid
        best = round(best, 6)
        if best_tid != OTHER and best >= thr:
            return best_tid, best, "similar"
        return OTHER, best, "none"

    # ---- container / output -----------------------------------------------------------------
    def get(self, type_id: str) -> IndicatorType | None:
        return self.types.get(type_id)

    def ids(self) -> list[str]:
        return list(self.types)

    def __len__(self) -> int:
        return len(self.types)

    def __iter__(self) -> Iterator[IndicatorType]:
        return iter(self.types.values())

    def __contains__(self, type_id: object) -> bool:
        return type_id in self.types

    def __repr__(self) -> str:
        return f"Taxonomy({len(self)} types, {len(self._alias)} aliases, source={self.source!r})"

    def to_dict(self) -> dict[str, Any]:
        return {"version": 1, "types": [t.to_dict() for t in self.types.values()]}

    def to_yaml(self) -> str:
        """The taxonomy in the file schema (a snapshot loadable with :meth:`load`)."""
        head = "# zhibiao indicator taxonomy snapshot (schema: see zhibiao/resources/indicators.yaml)\n"
        return head + yaml.safe_dump(self.to_dict(), allow_unicode=True, sort_keys=False, width=1000)

    def save(self, path: PathLike) -> Path:
        """Write :meth:`to_yaml` to ``path`` (a folder means ``folder/taxonomy.yaml``)."""
        p = Path(path)
        if p.is_dir():
            p = p / "taxonomy.yaml"
        p.write_text(self.to_yaml(), encoding="utf-8")
        return p


def alias_owners(types: Iterable[IndicatorType], source: str, hint: str = "") -> dict[str, str]:
    """alias -> type id over ``types`` (in order); the one check that no alias belongs to two
    types: a clash is a :class:`TaxonomyError` naming ``source``, the alias and both ids
    (``hint`` is appended, formatted with ``owner``, the id that had the alias first)."""
    owner: dict[str, str] = {}
    for t in types:
        for a in t.aliases:
            prev = owner.get(a)
            if prev is not None and prev != t.id:
                raise TaxonomyError(f"{source}: alias {a!r} of type {t.id!r} is already an alias of type {prev!r}"
                                    + hint.format(owner=prev))
            owner[a] = t.id
    return owner


def _as_list(extend: Any) -> list[Any]:
    if extend is None:
        return []
    if isinstance(extend, (str, Path, Mapping)):
        return [extend]
    return list(extend)


def _key(p: PathLike) -> tuple[str, float]:
    q = Path(p)
    try:
        return str(q.resolve()), q.stat().st_mtime
    except OSError:
        return str(q), -1.0


@lru_cache(maxsize=16)
def _cached(path: tuple[str, float] | None, extend: tuple[tuple[str, float], ...]) -> Taxonomy:
    return Taxonomy.load(None if path is None else path[0], extend=[e[0] for e in extend] or None)


def load_taxonomy(path: PathLike | None = None, extend: PathLike | Sequence[PathLike] | None = None) -> Taxonomy:
    """A cached :meth:`Taxonomy.load` (keyed on the files and their modification times)."""
    ext = tuple(_key(e) for e in _as_list(extend))
    return _cached(None if path is None else _key(path), ext)

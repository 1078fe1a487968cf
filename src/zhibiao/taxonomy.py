"""The indicator taxonomy: canonical indicator types, their aliases, and the mention -> type map.

``Taxonomy.load()`` reads the bundled ``resources/indicators.yaml``; ``extend=`` adds user YAML
files of the same schema (a user type with an existing id replaces it). :meth:`Taxonomy.classify`
maps a mention to a type id:

1. exact alias (after light normalisation: whitespace, full-width, traditional -> simplified,
   pinyin artefacts, surrounding quotes);
2. else the longest alias contained in the mention (ties: the type listed first);
3. else character-bigram similarity to the closest alias, above a threshold;
4. else ``"other"``.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Iterable, Sequence

import yaml

from .errors import TaxonomyError

__all__ = ["IndicatorType", "Taxonomy", "OTHER", "load_taxonomy"]

OTHER = "other"
_QUOTES = "“”‘’\"'「」『』《》"


@dataclass(frozen=True)
class IndicatorType:
    id: str
    name: str
    description: str
    aliases: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "description": self.description, "aliases": list(self.aliases)}


def _clean(mention: str) -> str:
    from .normalize import normalize

    return normalize(mention).text.strip().strip(_QUOTES).replace(" ", "")


def _bigrams(s: str) -> set[str]:
    return {s[i:i + 2] for i in range(len(s) - 1)} if len(s) > 1 else {s}


class Taxonomy:
    def __init__(self, types: Sequence[IndicatorType], *, threshold: float = 0.6, source: str = "<taxonomy>"):
        self.types: dict[str, IndicatorType] = {}
        self.threshold = threshold
        self._alias: dict[str, str] = {}
        for t in types:
            self._add(t, source)
        self._by_length = sorted(self._alias.items(), key=lambda kv: -len(kv[0]))
        self._order = {tid: k for k, tid in enumerate(self.types)}

    def _add(self, t: IndicatorType, source: str, replace: bool = False) -> None:
        if t.id in self.types and not replace:
            raise TaxonomyError(f"{source}: duplicate type id {t.id!r}")
        if replace and t.id in self.types:
            for a in self.types[t.id].aliases:
                self._alias.pop(a, None)
        for a in t.aliases:
            owner = self._alias.get(a)
            if owner is not None and owner != t.id:
                raise TaxonomyError(f"{source}: alias {a!r} of type {t.id!r} is already an alias of type {owner!r}")
            if owner == t.id and not replace:
                raise TaxonomyError(f"{source}: alias {a!r} listed twice in type {t.id!r}")
        self.types[t.id] = t
        for a in t.aliases:
            self._alias[a] = t.id

    # ---- reading ----------------------------------------------------------------------------
    @staticmethod
    def _parse(data: Any, source: str) -> list[IndicatorType]:
        if not isinstance(data, dict) or not isinstance(data.get("types"), list):
            raise TaxonomyError(f"{source}: expected a mapping with a 'types' list")
        out = []
        for k, item in enumerate(data["types"]):
            if not isinstance(item, dict):
                raise TaxonomyError(f"{source}: types[{k}] is not a mapping")
            for key in ("id", "name", "aliases"):
                if key not in item:
                    raise TaxonomyError(f"{source}: type {item.get('id', f'#{k}')!r} lacks required field {key!r}")
            tid = item["id"]
            if not isinstance(tid, str) or not tid.strip():
                raise TaxonomyError(f"{source}: types[{k}] has an empty or non-string id")
            aliases = item["aliases"]
            if not isinstance(aliases, list) or not aliases:
                raise TaxonomyError(f"{source}: type {tid!r} needs a non-empty list of aliases")
            for a in aliases:
                if not isinstance(a, str) or not a.strip():
                    raise TaxonomyError(f"{source}: type {tid!r} has a non-string or empty alias {a!r}")
            out.append(IndicatorType(tid, str(item["name"]), str(item.get("description", "")),
                                     tuple(_clean(a) for a in aliases)))
        return out

    @staticmethod
    def _read(path: str | Path) -> Any:
        path = Path(path)
        try:
            return yaml.safe_load(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise TaxonomyError(f"{path}: cannot read taxonomy file ({exc.strerror or exc})") from None
        except yaml.YAMLError as exc:
            raise TaxonomyError(f"{path}: invalid YAML ({exc})") from None

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "<dict>") -> "Taxonomy":
        return cls(cls._parse(data, source), source=source)

    @classmethod
    def load(cls, path: str | Path | None = None, *,
             extend: str | Path | Iterable[str | Path] | None = None) -> "Taxonomy":
        """The bundled taxonomy (or ``path``), extended by the user files in ``extend``."""
        if path is None:
            text = resources.files("zhibiao").joinpath("resources/indicators.yaml").read_text(encoding="utf-8")
            source = "zhibiao/resources/indicators.yaml"
            try:
                data = yaml.safe_load(text)
            except yaml.YAMLError as exc:
                raise TaxonomyError(f"{source}: invalid YAML ({exc})") from None
        else:
            source, data = str(path), cls._read(path)
        tax = cls.from_dict(data, source=source)
        if extend:
            files = [extend] if isinstance(extend, (str, Path)) else list(extend)
            for f in files:
                for t in cls._parse(cls._read(f), str(f)):
                    tax._add(t, str(f), replace=True)
            tax._by_length = sorted(tax._alias.items(), key=lambda kv: -len(kv[0]))
            tax._order = {tid: k for k, tid in enumerate(tax.types)}
        return tax

    # ---- use --------------------------------------------------------------------------------
    def aliases(self) -> dict[str, str]:
        """alias -> type id."""
        return dict(self._alias)

    def classify(self, mention: str) -> str:
        return self.classify_scored(mention)[0]

    def classify_scored(self, mention: str) -> tuple[str, float, str]:
        """(type id, score 0..1, method: "exact" | "contains" | "similar" | "none")."""
        m = _clean(mention or "")
        if not m:
            return OTHER, 0.0, "none"
        hit = self._alias.get(m)
        if hit:
            return hit, 1.0, "exact"
        best: tuple[int, int, str] | None = None
        for alias, tid in self._by_length:
            if best is not None and len(alias) < best[0]:
                break
            if alias in m:
                cand = (len(alias), -self._order[tid], tid)
                if best is None or cand > best:
                    best = cand
        if best is not None:
            return best[2], best[0] / len(m), "contains"
        grams = _bigrams(m)
        score, tid = 0.0, OTHER
        for alias, t in self._alias.items():
            g = _bigrams(alias)
            s = 2 * len(grams & g) / (len(grams) + len(g))
            if s > score or (s == score and tid != OTHER and self._order[t] < self._order[tid]):
                score, tid = s, t
        if score >= self.threshold:
            return tid, score, "similar"
        return OTHER, score, "none"

    def to_dict(self) -> dict[str, Any]:
        return {"version": 1, "types": [t.to_dict() for t in self.types.values()]}

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), allow_unicode=True, sort_keys=False)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.to_yaml(), encoding="utf-8")

    def __len__(self) -> int:
        return len(self.types)


@lru_cache(maxsize=8)
def _cached(path: str | None, extend: tuple[str, ...]) -> Taxonomy:
    return Taxonomy.load(path, extend=list(extend) or None)


def load_taxonomy(path: str | Path | None = None, extend: str | Path | Sequence[str | Path] | None = None) -> Taxonomy:
    """A cached :meth:`Taxonomy.load`."""
    ext = () if not extend else ((str(extend),) if isinstance(extend, (str, Path)) else tuple(map(str, extend)))
    return _cached(None if path is None else str(path), ext)

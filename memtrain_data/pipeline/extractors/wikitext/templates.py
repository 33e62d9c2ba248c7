"""The inline templates that stand for words of a sentence, their renderers and the template table.

`_INLINE_TEMPLATES` maps a template name to its renderer; `_drop_templates` cuts every other
template before parsing and `_render_template` renders the ones left.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from mwparserfromhell.nodes import Template
from mwparserfromhell.wikicode import Wikicode

from memtrain_data.pipeline.extractors.wikitext.markup import (
    _REMOVED_BLOCK,
    _TEMPLATE_EDGE,
    _TEMPLATE_NAME,
    _TEXT_PARSER_FUNCTIONS,
    _template_key,
)

_text_of: Callable[[Wikicode | None, str], str]
_items_of: Callable[[Wikicode | None, str], list[str]]


def use_renderer(text_of: Callable[[Wikicode | None, str], str], items_of: Callable[[Wikicode | None, str], list[str]]) -> None:
    """Render template arguments with `render.py`'s functions, which it hands over when imported.

    Templates nest inside their arguments, so the two modules recurse into each other; handing
    the functions over keeps the imports one way (render imports templates, never back).
    """
    global _text_of, _items_of
    _text_of, _items_of = text_of, items_of


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")  # fmt: skip
_RANGE_WORDS = {"-": "–", "–": "–", "to": " to ", "and": " and ", "or": " or ", "&": " & ", "x": " × ", "by": " by ", "+/-": " ± ", "±": " ± "}
_UNITS = {"km2": "km²", "m2": "m²", "mi2": "sq mi", "sqmi": "sq mi", "ft2": "sq ft", "sqft": "sq ft", "km3": "km³",
          "m3": "m³", "C": "°C", "F": "°F", "e6km2": "million km²", "e6sqmi": "million sq mi", "acre": "acres"}  # fmt: skip


def _args(template: Template, title: str) -> list[str]:
    """Rendered positional parameters."""
    return [_text_of(param.value, title) for param in template.params if not param.showkey]


def _named(template: Template, name: str, title: str) -> str:
    return _text_of(template.get(name).value, title) if template.has(name) else ""


def _first(template: Template, title: str) -> str:
    args = _args(template, title)
    return args[0] if args else ""


def _last(template: Template, title: str) -> str:
    args = _args(template, title)
    return args[-1] if args else ""


def _format_date(parts: list[str], day_first: bool) -> str:
    """'1950', '3', '4' → 'March 4, 1950' (or '4 March 1950'); anything unusual is joined as given."""
    parts = [p for p in parts[:3] if p]
    if not parts:
        return ""
    if len(parts) == 1:
        return parts[0]
    if not parts[1].isdecimal() or not 1 <= int(parts[1]) <= 12:
        return " ".join(parts)
    month = _MONTHS[int(parts[1]) - 1]
    if len(parts) == 2:
        return f"{month} {parts[0]}"
    return f"{parts[2]} {month} {parts[0]}" if day_first else f"{month} {parts[2]}, {parts[0]}"


def _date_template(template: Template, title: str) -> str:
    day_first = _named(template, "df", title).lower() in {"y", "yes", "1", "true"}
    return _format_date(_args(template, title), day_first)


# Conversions that {{convert}} shows in brackets: unit → (factor, shown unit, other unit's name).
# Only the common ones; any other unit is shown as given, without a conversion.
_CONVERSIONS: dict[str, tuple[float, str, str]] = {
    "km": (0.621371, "km", "mi"), "mi": (1.609344, "mi", "km"), "m": (3.28084, "m", "ft"), "ft": (0.3048, "ft", "m"),
    "cm": (0.393701, "cm", "in"), "in": (2.54, "in", "cm"), "mm": (0.0393701, "mm", "in"),
    "kg": (2.20462, "kg", "lb"), "lb": (0.453592, "lb", "kg"), "t": (1.10231, "t", "short tons"),
    "km2": (0.386102, "km²", "sq mi"), "sqmi": (2.58999, "sq mi", "km²"), "mi2": (2.58999, "sq mi", "km²"),
    "ha": (2.47105, "ha", "acres"), "acre": (0.404686, "acres", "ha"), "m2": (10.7639, "m²", "sq ft"),
    "km/h": (0.621371, "km/h", "mph"), "mph": (1.609344, "mph", "km/h"), "l": (0.264172, "L", "US gal"),
    "L": (0.264172, "L", "US gal"),
}  # fmt: skip
_TEMPERATURES = {"C": ("°C", "°F", lambda c: c * 9 / 5 + 32), "F": ("°F", "°C", lambda f: (f - 32) * 5 / 9)}
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def _converted(value: str, unit: str) -> str:
    """'10', 'km' → '10 km (6.2 mi)'; a unit or value it cannot convert is shown as given."""
    number = value.replace(",", "")
    if unit in _TEMPERATURES and _NUMBER.fullmatch(number):
        shown, other, convert = _TEMPERATURES[unit]
        return f"{value} {shown} ({_round_like(convert(float(number)), number)} {other})"
    if unit in _CONVERSIONS and _NUMBER.fullmatch(number):
        factor, shown, other = _CONVERSIONS[unit]
        return f"{value} {shown} ({_round_like(float(number) * factor, number)} {other})"
    return f"{value} {_UNITS.get(unit, unit)}"


def _round_like(number: float, written: str) -> str:
    """Round to as many significant digits as the value was written with (at least two)."""
    digits_written = written.lstrip("-")
    digits_written = digits_written.replace(".", "").lstrip("0") if "." in digits_written else digits_written.strip("0")
    digits = max(2, len(digits_written))  # trailing zeros of a whole number are not significant
    rounded = float(f"{number:.{digits}g}")
    return f"{rounded:,.0f}" if rounded.is_integer() and abs(rounded) >= 1 else f"{rounded:,g}"


def _convert(template: Template, title: str) -> str:
    args = _args(template, title)
    if len(args) >= 4 and args[1].lower() in _RANGE_WORDS:
        return f"{args[0]}{_RANGE_WORDS[args[1].lower()]}{args[2]} {_UNITS.get(args[3], args[3])}"
    if len(args) >= 2:
        return _converted(args[0], args[1])
    return args[0] if args else ""


_HEMISPHERES = {"N", "S", "E", "W"}


def _coordinate(template: Template, title: str) -> str:
    """{{coord|28|31|N|80|39|W}} → '28°31′N 80°39′W'; {{coord|28.5|-80.6}} → '28.5°N 80.6°W'."""
    args = [arg for arg in _args(template, title) if ":" not in arg and "=" not in arg]  # drop display/type args
    letters = [i for i, arg in enumerate(args) if arg.upper() in _HEMISPHERES]
    if len(letters) >= 2:
        first, second = letters[0], letters[1]
        latitude = _dms(args[:first]) + args[first].upper()
        longitude = _dms(args[first + 1 : second]) + args[second].upper()
        return f"{latitude} {longitude}"
    numbers = [arg for arg in args if _NUMBER.fullmatch(arg)]
    if len(numbers) >= 2:
        lat, lon = float(numbers[0]), float(numbers[1])
        return f"{abs(lat):g}°{'N' if lat >= 0 else 'S'} {abs(lon):g}°{'E' if lon >= 0 else 'W'}"
    return ""


def _dms(parts: list[str]) -> str:
    return "".join(f"{part}{mark}" for part, mark in zip(parts[:3], ("°", "′", "″"), strict=False))


def _flag_athlete(template: Template, title: str) -> str:
    args = _args(template, title)
    return f"{args[0]} ({args[1]})" if len(args) >= 2 else _first(template, title)


def _joined(separator: str) -> Callable[[Template, str], str]:
    return lambda template, title: separator.join(arg for arg in _args(template, title) if arg)


def _list_items(template: Template, title: str) -> str:
    """{{hlist|A|B}}, {{plainlist|* A * B}} and {{ubl|A<br>B}} all show the items A and B: 'A, B'."""
    return ", ".join(item for param in template.params if not param.showkey for item in _items_of(param.value, title))


def _wrapped(before: str, after: str) -> Callable[[Template, str], str]:
    return lambda template, title: f"{before}{_first(template, title)}{after}"


def _nuclide(template: Template, title: str) -> str:
    args = _args(template, title)
    return f"{args[0]}-{args[1]}" if len(args) >= 2 else _first(template, title)


def _music(template: Template, title: str) -> str:
    symbol = _first(template, title).lower()
    return {"flat": "♭", "b": "♭", "sharp": "♯", "#": "♯", "natural": "♮"}.get(symbol, symbol)


def _gauge(template: Template, title: str) -> str:
    """{{RailGauge|1435mm}} → '1435 mm'; a named gauge ('ussg') is shown as written."""
    return re.sub(r"(\d)(mm|m|ft|in)\b", r"\1 \2", _first(template, title))


def _height(template: Template, title: str) -> str:
    """{{height|m=1.8}} → '1.8 m'; {{height|ft=5|in=11}} → '5 ft 11 in'."""
    return " ".join(f"{_text_of(param.value, title)} {param.name.strip()}" for param in template.params if param.showkey)


def _fraction(template: Template, title: str) -> str:
    args = _args(template, title)
    if len(args) == 1:
        return f"1/{args[0]}"
    if len(args) == 2:
        return f"{args[0]}/{args[1]}"
    return f"{args[0]} {args[1]}/{args[2]}" if args else ""


def _as_of(template: Template, title: str) -> str:
    date = _format_date(_args(template, title), day_first=True)
    return f"as of {date}" if _named(template, "lc", title) else f"As of {date}"


def _value(template: Template, title: str) -> str:
    number = _first(template, title)
    exponent = _named(template, "e", title)
    unit = _named(template, "u", title) or _named(template, "ul", title)
    return number + (f"×10^{exponent}" if exponent else "") + (f" {unit}" if unit else "")


def _quote(template: Template, title: str) -> str:
    return _named(template, "text", title) or _named(template, "quote", title) or _first(template, title)


def _constant(text: str) -> Callable[[Template, str], str]:
    return lambda template, title: text


def _prefixed(prefix: str) -> Callable[[Template, str], str]:
    return lambda template, title: prefix + _first(template, title)


_INLINE_TEMPLATES: dict[str, Callable[[Template, str], str]] = {
    **dict.fromkeys(["convert", "cvt"], _convert),
    **dict.fromkeys(["birth date", "birth date and age", "death date", "death date and age", "start date",
                     "end date", "start date and age", "birth year and age", "death year and age", "dob"],
                    _date_template),
    **dict.fromkeys(["nowrap", "nobr", "small", "smaller", "big", "larger", "nobold", "noitalic", "abbr",
                     "vanchor", "tooltip", "not a typo", "as written", "em", "strong", "ill",
                     "interlanguage link", "interlanguage link multi", "sup", "sub", "mvar", "math", "var",
                     "flag", "flagcountry", "nihongo", "abbrlink", "sic", "small caps", "smallcaps", "lang-x"],
                    _first),
    **dict.fromkeys(["lang", "langx", "transl", "transliteration", "wikt-lang", "resize"], _last),
    **dict.fromkeys(["quote", "cquote", "quotation", "blockquote"], _quote),
    **dict.fromkeys(["frac", "sfrac"], _fraction),
    "as of": _as_of,
    "val": _value,
    "chem": lambda template, title: "".join(_args(template, title)),
    "sortname": lambda template, title: " ".join(_args(template, title)[:2]),
    "e": lambda template, title: f"×10^{_first(template, title)}",
    "circa": _prefixed("c. "),
    "c.": _prefixed("c. "),
    "us$": _prefixed("US$"),
    "£": _prefixed("£"),
    "€": _prefixed("€"),
    "¥": _prefixed("¥"),
    "coord": _coordinate,
    **dict.fromkeys(["angbr", "angle bracket", "angle brackets"], _wrapped("⟨", "⟩")),
    **dict.fromkeys(["bracket", "brackets"], _wrapped("[", "]")),
    **dict.fromkeys(["flagu", "flag country", "flagg", "flag icon link"], _first),
    **dict.fromkeys(["flagathlete", "flagsport"], _flag_athlete),
    **dict.fromkeys(["hlist", "flatlist", "ubl", "unbulleted list", "plainlist"], _list_items),
    **dict.fromkeys(["keypress", "key press"], _joined("+")),
    **dict.fromkeys(["nuclide2", "simplenuclide2", "nuclide", "simplenuclide"], _nuclide),
    **dict.fromkeys(["railgauge", "rail gauge", "track gauge"], _gauge),
    **dict.fromkeys(["nts", "ntsh", "nowrap begin", "overline", "underline", "strikethrough", "gaps",
                     "no wrap", "nobreak", "lang-rtl", "script", "ipa", "center"], _first),
    **dict.fromkeys(["sort", "sortname-lf"], _last),
    "music": _music,
    "height": _height,
    "vol.": _prefixed("vol. "),
    "p.": _prefixed("p. "),
    "pp.": _prefixed("pp. "),
    **{name: _constant(text) for name, text in {
        "eqm": " ⇌ ", "!": "|", "pipe": "|", "zwsp": "", "shy": "", "-": "", "bull": " • ", "•": " • ", "times": "×",
        "degree": "°", "minus": "−", "plusminus": "±", "=)": "", "en dash": "–", "em dash": "—",
        "ndash": "–", "mdash": "—", "mdashb": "—", "snd": " – ", "spnd": " – ", "spaced ndash": " – ",
        "spaced en dash": " – ", "dot": " · ", "middot": "·", "·": " · ", "'": "'", "'s": "'s",
        "nbsp": " ", "thinsp": " ", "pi": "π", "okina": "ʻ", "=": "=",
    }.items()},
}  # fmt: skip


_PAGE_NAME_TEMPLATES = frozenset({"pagename", "fullpagename", "pagenamebase"})


def _render_template(template: Template, title: str) -> str:
    name = _template_key(str(template.name))
    render = _INLINE_TEMPLATES.get(name)
    if render is not None:
        return render(template, title)
    if name.startswith("lang-"):  # {{lang-de|Tarnwik}}: the foreign-language text
        return _first(template, title)
    if name in _PAGE_NAME_TEMPLATES:
        return title
    function, colon, _ = name.partition(":")
    if colon and function in _TEXT_PARSER_FUNCTIONS:
        text = str(template.name).partition(":")[2].strip()
        if function == "formatnum" and text.isdecimal():
            return f"{int(text):,}"
        return text.upper() if function == "uc" else text.lower() if function == "lc" else text
    return ""


def _is_inline_template(key: str) -> bool:
    return (
        key in _INLINE_TEMPLATES
        or key.startswith("lang-")
        or key in _PAGE_NAME_TEMPLATES
        or key.partition(":")[0] in _TEXT_PARSER_FUNCTIONS
    )


def _drop_templates(text: str) -> str:
    """Cut every outermost `{{…}}` except the inline templates that render as words.

    Building template nodes (with all their parameters) is most of what is left of the parse
    time, and almost all of them (infoboxes, navboxes, citations, hatnotes) are dropped anyway.
    An unclosed `{{` is left in place; the parser and `_tidy` deal with it.
    """
    kept: list[str] = []
    keep_from = 0
    depth = 0
    template_start = 0
    for edge in _TEMPLATE_EDGE.finditer(text):
        if edge.group() == "{{":
            if depth == 0:
                template_start = edge.start()
            depth += 1
        elif depth:
            depth -= 1
            if depth == 0:
                name = _TEMPLATE_NAME.match(text, template_start)
                if name is None or not _is_inline_template(_template_key(name.group(1))):
                    kept.append(text[keep_from:template_start])
                    if template_start and text[template_start - 1] == "\n":  # a block template: its line is gone
                        kept.append(_REMOVED_BLOCK)
                    keep_from = edge.end()
    kept.append(text[keep_from:])
    return "".join(kept)

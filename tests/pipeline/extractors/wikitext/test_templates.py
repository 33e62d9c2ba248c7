"""Templates that carry words of a sentence are rendered so the sentence still reads."""

from __future__ import annotations

import pytest

from memtrain_data.pipeline.extractors.wikitext import (
    clean_wikitext,
)

# --------------------------------------------------------------------------- templates that carry words


@pytest.mark.parametrize(
    ("wikitext", "clean"),
    [
        (
            "It impacted the Atlantic Ocean at {{coord|8|7.5|N|165|1.2|W|type:landmark}} and the S-II second stage at "
            "{{Coord|31|50|N|37|17|W|display=inline}}.",
            "It impacted the Atlantic Ocean at 8°7.5′N 165°1.2′W and the S-II second stage at 31°50′N 37°17′W.",
        ),
        ("The pad is at {{coord|28.608|-80.604|display=inline,title}}.", "The pad is at 28.608°N 80.604°W."),
        ("The pair (after {{angbr|x}} and {{angbr|y}}) is ordered.", "The pair (after ⟨x⟩ and ⟨y⟩) is ordered."),
        (
            "{{flagicon|UK}} '''[[Ann Hale]]''' ({{flagu|UK}}) beat {{flag|France}}'s {{flagathlete|[[Jo Marr]]|USA}}.",
            "Ann Hale (UK) beat France's Jo Marr (USA).",
        ),
        (
            "It is {{convert|10|km}} long, {{convert|1200|ft|m}} high and {{convert|25|C}} in summer.",
            "It is 10 km (6.2 mi) long, 1200 ft (370 m) high and 25 °C (77 °F) in summer.",
        ),
        ("Hold {{keypress|Ctrl|C}}; {{chem|CH|3|COOH}} {{eqm}} {{chem|H|2|O}}.", "Hold Ctrl+C; CH3COOH ⇌ H2O."),
        ("The {{RailGauge|1435mm}} line; notes A{{Music|flat}} and D.", "The 1435 mm line; notes A♭ and D."),
        ("{{nuclide2|einsteinium|254|link=y}} + {{nuclide2|calcium|48}} fuse.", "einsteinium-254 + calcium-48 fuse."),
        ("About {{formatnum:1234567}} people, {{sfrac|1|2}} of them in {{lang|fr|Le Havre}}.", "About 1,234,567 people, 1/2 of them in Le Havre."),
        ("He was {{height|m=1.8}} tall ({{nowrap|10 May}}).", "He was 1.8 m tall (10 May)."),
        ("Smith, ''Dictionary'', {{vol.|3}}, {{p.|88}}.", "Smith, Dictionary, vol. 3, p. 88."),
    ],
)
def test_content_bearing_templates_keep_the_sentence(wikitext: str, clean: str) -> None:
    assert clean_wikitext(wikitext) == clean

"""Small, realistic passage pools for episode tests, written with the pool's real schema."""

from __future__ import annotations

from pathlib import Path

PAGES: dict[str, list[str]] = {
    "Lyon": [
        "Lyon is the third-largest city of France. It lies at the confluence of the Rhône and the Saône, about 470 kilometres south of Paris.",
        "The Romans founded Lugdunum in 43 BC. Under Emperor Claudius, who was born there, Lyon became the capital of the province of Gallia Lugdunensis.",
        "In 1998 the historic centre of Lyon was listed as a UNESCO World Heritage Site. The Basilica of Notre-Dame de Fourvière overlooks the old town.",
        "The Lumière brothers, Auguste and Louis Lumière, invented the cinematograph in Lyon in 1895. Their first film showed workers leaving a factory.",
    ],
    "Barack Obama": [
        "Barack Obama was born on August 4, 1961, in Honolulu, Hawaii. Obama graduated from Columbia University in 1983 and later from Harvard Law School.",
        "Obama represented Illinois in the United States Senate from 2005 to 2008. He won the presidential election against John McCain in November 2008.",
        "As president, Barack Obama signed the Affordable Care Act in March 2010. Obama was awarded the Nobel Peace Prize in 2009.",
        "Michelle Obama met Barack at the Chicago law firm Sidley Austin in 1989. The couple married in 1992 and have two daughters, Malia and Sasha.",
    ],
    "Danube": [
        "The Danube is the second-longest river in Europe after the Volga. It rises in the Black Forest of Germany and flows into the Black Sea.",
        "The Danube passes through ten countries, including Austria, Slovakia, Hungary, Croatia, Serbia and Romania. Vienna, Budapest and Belgrade lie on its banks.",
        "Johann Strauss II composed The Blue Danube waltz in 1866. The piece was first performed in Vienna by the Vienna Men's Choral Association.",
        "The Danube Delta in Romania covers about 4,150 square kilometres. Since 1991 it has been protected as a UNESCO World Heritage Site.",
    ],
    "Marie Curie": [
        "Marie Curie was born Maria Skłodowska in Warsaw in 1867. She moved to Paris in 1891 to study physics and mathematics at the Sorbonne.",
        "With her husband Pierre Curie she discovered polonium and radium in 1898. Polonium was named after Poland, the country of her birth.",
        "Marie Curie won the Nobel Prize in Physics in 1903 and the Nobel Prize in Chemistry in 1911. She was the first person to win two Nobel Prizes.",
        "During the First World War, Curie developed mobile radiography units for the French Army. Soldiers called them petites Curies.",
    ],
    "Mount Kilimanjaro": [
        "Mount Kilimanjaro is the highest mountain in Africa, rising 5,895 metres above sea level. It stands in Tanzania, near the border with Kenya.",
        "Hans Meyer and Ludwig Purtscheller first reached the summit of Kilimanjaro in October 1889. Their guide was Yohani Lauwo of the Chagga people.",
        "Kilimanjaro National Park was established in 1973. About 30,000 climbers attempt the mountain every year, most of them from the town of Moshi.",
        "The glaciers on Kibo, the highest of the three volcanic cones of Kilimanjaro, lost more than 80 percent of their area during the twentieth century.",
    ],
    "Apollo 11": [
        "Apollo 11 was the first crewed mission to land on the Moon. Neil Armstrong and Buzz Aldrin landed the lunar module Eagle on July 20, 1969.",
        "Michael Collins stayed in lunar orbit aboard the command module Columbia while Armstrong and Aldrin walked on the surface for about two hours.",
        "The mission was launched by a Saturn V rocket from the Kennedy Space Center in Florida. NASA broadcast the landing to about 600 million people.",
        "The astronauts returned to Earth on July 24, 1969, splashing down in the Pacific Ocean. The USS Hornet recovered the crew.",
    ],
    "Toyota": [
        "Toyota Motor Corporation is a Japanese carmaker headquartered in Toyota City, Aichi Prefecture. Kiichiro Toyoda founded the company in 1937.",
        "The Toyota Corolla, introduced in 1966, became the best-selling car in the world. More than 50 million Corollas have been sold.",
        "In 1997 Toyota launched the Prius, the first mass-produced hybrid car. The Prius was first sold in Japan and reached the United States in 2000.",
        "Toyota developed the Toyota Production System with Taiichi Ohno. The method influenced factories of General Motors and Ford.",
    ],
    "Amazon River": [
        "The Amazon River in South America carries more water than any other river. It flows from the Andes of Peru through Colombia and Brazil to the Atlantic Ocean.",
        "Francisco de Orellana was the first European to travel the length of the Amazon, in 1542. He named the river after the warriors of Greek myth.",
        "Manaus, a city of more than two million people in Brazil, lies near the meeting of the Rio Negro and the Solimões.",
        "The Amazon rainforest covers about 5.5 million square kilometres. Scientists estimate that it holds around 390 billion individual trees.",
    ],
    "William Shakespeare": [
        "William Shakespeare was born in Stratford-upon-Avon in April 1564. He married Anne Hathaway in 1582 and moved to London a few years later.",
        "Shakespeare wrote about 39 plays, including Hamlet, Macbeth and Romeo and Juliet. Many were first performed at the Globe Theatre in Southwark.",
        "The Lord Chamberlain's Men, Shakespeare's company, became the King's Men after James I came to the throne in 1603.",
        "Shakespeare died on 23 April 1616 and was buried in Holy Trinity Church. The First Folio of his plays was published in 1623.",
    ],
    "Great Barrier Reef": [
        "The Great Barrier Reef lies off the coast of Queensland in Australia. It stretches for more than 2,300 kilometres in the Coral Sea.",
        "James Cook ran his ship HMS Endeavour aground on the reef in June 1770. The crew repaired the ship at the mouth of the Endeavour River.",
        "The Great Barrier Reef Marine Park was created in 1975. UNESCO added the reef to the World Heritage List in 1981.",
        "Mass coral bleaching struck the reef in 1998, 2002, 2016 and 2017. Rising sea temperatures are the main cause, according to the Australian Institute of Marine Science.",
    ],
    "Ludwig van Beethoven": [
        "Ludwig van Beethoven was born in Bonn in December 1770. He studied with Joseph Haydn after moving to Vienna in 1792.",
        "Beethoven began to lose his hearing in his late twenties. By 1818 he was almost completely deaf and talked with visitors through conversation books.",
        "The Ninth Symphony was first performed in Vienna on 7 May 1824. Its final movement sets the poem Ode to Joy by Friedrich Schiller.",
        "Beethoven died in Vienna in March 1827. An estimated 10,000 people attended his funeral procession at the Währing cemetery.",
    ],
    "Istanbul": [
        "Istanbul is the largest city of Turkey, with about 15 million inhabitants. It spans the Bosphorus strait between Europe and Asia.",
        "Constantine the Great refounded the city as Constantinople in 330. It remained the capital of the Byzantine Empire until 1453.",
        "Sultan Mehmed II captured Constantinople on 29 May 1453. The city then served as the capital of the Ottoman Empire until 1922.",
        "The Hagia Sophia was completed in 537 under Emperor Justinian I. It was the largest cathedral in the world for nearly a thousand years.",
    ],
}


def page_ids(count: int) -> list[int]:
    """Page ids for `count` pages: the first three hash to test, the next three to validation
    (default fractions), the rest to train, so a tiny pool still fills a 'mini' document of
    12 passages from each split's own pages."""
    from memtrain_data.episodes.splits import split_of_page

    chosen: list[int] = []
    for wanted in ("test", "test", "test", "validation", "validation", "validation"):
        chosen.append(next(i for i in range(100, 100_000) if i not in chosen and split_of_page(i, 0.1, 0.1) == wanted))
    candidate = 100
    while len(chosen) < count:
        if candidate not in chosen and split_of_page(candidate, 0.1, 0.1) == "train":
            chosen.append(candidate)
        candidate += 1
    return chosen[:count]


def passage_id(title: str, n: int, pages: dict[str, list[str]] = PAGES) -> str:
    """The id `pool_rows` gives paragraph `n` of page `title`."""
    return f"{page_ids(len(pages))[list(pages).index(title)]}-{n}"


def pool_rows(pages: dict[str, list[str]] = PAGES, source: str = "invented-test-wiki") -> list[dict[str, object]]:
    """Passage records for `pages` (page ids from `page_ids`; passage ids '{page_id}-{n}')."""
    rows: list[dict[str, object]] = []
    for (title, paragraphs), page_id in zip(pages.items(), page_ids(len(pages)), strict=True):
        for n, text in enumerate(paragraphs):
            rows.append(
                {
                    "id": f"{page_id}-{n}",
                    "page_id": page_id,
                    "title": title,
                    "text": text,
                    "n_words": len(text.split()),
                    "revision_id": 1000 + page_id,
                    "timestamp": "2016-01-01T00:00:00Z",
                    "source": source,
                }
            )
    return rows


def write_pool(output: Path, rows: list[dict[str, object]] | None = None, shards: int = 2) -> Path:
    """Write `rows` (default: PAGES) as `output/pool/passages-*.parquet` with the pool's schema."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from memtrain_data.features import passage_arrow_schema

    rows = pool_rows() if rows is None else rows
    folder = output / "pool"
    folder.mkdir(parents=True, exist_ok=True)
    for shard in range(shards):
        part = rows[shard::shards]
        pq.write_table(pa.Table.from_pylist(part, schema=passage_arrow_schema()), folder / f"passages-{shard:05d}.parquet")
    return folder


# A hand-written alias table in the pool's contract format (target, alias, kind, count): what
# the pool stage would collect from links and redirects of the invented pages above.
ALIASES: list[tuple[str, str, str, int]] = [
    ("Barack Obama", "Barack Obama", "anchor", 5),
    ("Barack Obama", "Obama", "anchor", 3),
    ("Barack Obama", "Barack Hussein Obama", "redirect", 1),
    ("Barack Obama", "President Obama", "redirect", 1),
    ("Canada", "Canada", "anchor", 6),
    ("Canada", "Canadian", "anchor", 4),
    ("Canadians", "Canadian", "anchor", 1),
    ("Ayn Rand", "Rand", "anchor", 2),
    ("Ayn Rand", "Ayn Rand", "anchor", 2),
    ("United States", "United States", "anchor", 9),
    ("United States", "USA", "redirect", 1),
    ("USA", "U.S.A.", "redirect", 1),
    ("United States", "U.S.", "anchor", 4),
    ("United States", "American", "anchor", 5),
    ("Americans", "American", "anchor", 1),
    ("United States Declaration of Independence", "Declaration of Independence", "anchor", 3),
    ("United States Declaration of Independence", "the Declaration", "anchor", 1),
    ("Executive (government)", "executive", "anchor", 4),
    ("Danube", "Danube", "anchor", 2),
    ("Danube", "Donau", "redirect", 1),
    ("Mercury (planet)", "Mercury", "anchor", 3),
    ("Mercury (element)", "Mercury", "anchor", 3),
]


def write_aliases(output: Path, rows: list[tuple[str, str, str, int]] | None = None, shards: int = 2) -> list[Path]:
    """Write `rows` (default: ALIASES) as `output/pool/aliases-*.parquet`, sorted per shard."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = ALIASES if rows is None else rows
    folder = output / "pool"
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for shard in range(shards):
        part = sorted(rows[shard::shards])
        table = pa.table(
            {
                "target": pa.array([r[0] for r in part], pa.string()),
                "alias": pa.array([r[1] for r in part], pa.string()),
                "kind": pa.array([r[2] for r in part], pa.string()),
                "count": pa.array([r[3] for r in part], pa.int64()),
            }
        )
        path = folder / f"aliases-{shard:05d}-of-{shards:05d}.parquet"
        pq.write_table(table, path)
        written.append(path)
    return written

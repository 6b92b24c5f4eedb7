//! The errata classify every disagreement: the source's error, or a convention it used.

use crate::harness::{text_of, Wiki};

#[test]
fn each_family_of_disagreement_is_classified() {
    let wiki = Wiki::empty();
    wiki.write("driftless.yaml", "title: Errata test\n");
    wiki.write(
        "data/cards.yaml",
        r#"title: Cards
origin: Table 1
key: id
columns:
  id: { type: text }
  price: { unit: USD, range: mid }
  vram: { unit: GB }
  printed_per_gb: { unit: USD/GB, precision: 0 }
  per_gb: { unit: USD/GB, precision: 0, formula: price / vram, printed: printed_per_gb }
  kv_bytes: { unit: B/tok }
  printed_kv: { unit: MB/Ktok, precision: 1 }
  kv: { unit: MB/Ktok, precision: 1, formula: kv_bytes, printed: printed_kv }
rows:
  # The low end of the price range gives the printed 80 (the wiki uses the midpoint).
  - { id: ranged, price: 1600-2200, vram: 20, printed_per_gb: 80, kv_bytes: 1000, printed_kv: 1.0 }
  # 1,000 / 10 is 100, not 150: the source's error.
  - { id: wrong, price: 1000, vram: 10, printed_per_gb: 150, kv_bytes: 1000, printed_kv: 1.0 }
  # The source printed ~90: within the 10% an approximate figure is allowed of 95.
  - { id: approx, price: 1900, vram: 20, printed_per_gb: ~90, kv_bytes: 1000, printed_kv: 1.0 }
  # 131,072 bytes per token is 128 MiB per 1,024 tokens (131.1 MB per 1,000).
  - { id: binary, price: 100, vram: 1, printed_per_gb: 100, kv_bytes: 131072, printed_kv: 128.0 }
"#,
    );
    wiki.write(
        "content/index.md",
        "---\ntitle: Errata\n---\n{{ errata() }}\n",
    );
    let run = wiki.run_in(&["build"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let page = text_of(&wiki.main_of("index.html"))
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        page.contains("4 printed figures disagree: 1 error and 0 figures that no single input explains; 3 figures that a convention of the source explains."),
        "{page}"
    );
    let html = wiki.read("site/index.html");
    let (errors, conventions) = html
        .split_once("Explained by a convention")
        .expect("two tables");
    assert!(
        errors.contains(r#"row "wrong""#.replace('"', "&quot;").as_str()),
        "{errors}"
    );
    assert!(
        errors.contains("any one of: price = $1,500 (data: $1,000); vram = 6.67 GB (data: 10 GB)"),
        "{errors}"
    );
    assert!(
        conventions.contains("the low end of price ($1,600-2,200), where the wiki uses $1,900"),
        "{conventions}"
    );
    assert!(
        conventions.contains("binary prefixes: `MB/Ktok` as MiB per 1,024 tokens read with 1 K = 1,024 instead of 1,000 (-2.3%)"),
        "{conventions}"
    );
    assert!(
        conventions.contains("an approximate figure: the source prints ~$90/GB, and the recomputed figure is within the 10% such a figure allows"),
        "{conventions}"
    );
    assert!(!conventions.contains("&quot;wrong&quot;"), "{conventions}");
}

#[test]
fn a_figure_the_source_printed_otherwise_links_to_its_errata_row() {
    let wiki = Wiki::empty();
    wiki.write("driftless.yaml", "title: Errata links\n");
    wiki.write(
        "data/cards.yaml",
        "title: Cards\nkey: id\ncolumns:\n  id: { type: text }\n  price: { unit: USD }\n  vram: { unit: GB }\n  printed_per_gb: { unit: USD/GB, precision: 0 }\n  per_gb: { unit: USD/GB, precision: 0, formula: price / vram, printed: printed_per_gb }\nrows:\n  - { id: wrong, price: 1000, vram: 10, printed_per_gb: 150 }\n  - { id: right, price: 1000, vram: 10, printed_per_gb: 100 }\n",
    );
    wiki.write(
        "content/index.md",
        "---\ntitle: Home\n---\nSee the [errata](errata.md).\n",
    );
    wiki.write(
        "content/errata.md",
        "---\ntitle: Errata\n---\n{{ errata() }}\n",
    );
    wiki.write(
        "content/cards.md",
        "---\ntitle: Cards\n---\nA gigabyte costs {{ cards[\"wrong\"].per_gb }} or {{ cards[\"right\"].per_gb }}.\n\n{{ table(cards, columns=[\"id\", \"per_gb\"]) }}\n",
    );
    let run = wiki.run_in(&["build"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let cards = wiki.main_of("cards/index.html");
    let mark = "<a class=\"erratum-mark\" href=\"../errata/#erratum-cards-wrong-per-gb\" title=\"the source printed $150/GB; see the errata\"";
    // Once in the sentence, once in the table; the figure that agrees has no mark.
    assert_eq!(cards.matches(mark).count(), 2, "{cards}");
    assert_eq!(cards.matches("erratum-mark").count(), 2, "{cards}");
    let errata = wiki.read("site/errata/index.html");
    assert!(
        errata.contains("id=\"erratum-cards-wrong-per-gb\""),
        "{errata}"
    );
    // The link and its fragment pass check.
    let check = wiki.run_in(&["check"]);
    assert_eq!(check.code, 0, "{}", check.stdout);
}

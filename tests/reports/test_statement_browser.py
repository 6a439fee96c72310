"""A partner statement in headless Chromium: no id or rule name breaks across lines, even on a
narrow page; the alerts and the negative closing balance stand out."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from cosell.pay.statements import statement
from cosell.reports.html import render_html

from .conftest import OpenedPage

sys.path.insert(0, str(Path(__file__).parents[1] / "pay"))
from test_statement_lines import world

# For every text node of an id cell, of a value kept whole, and of every word holding a hyphen in the
# table's free text: the tops of the line boxes it is drawn on (one top: it is on one line).
_LINES_OF_WHOLE_TEXT = """
() => {
  const out = [];
  const cells = document.querySelectorAll("#section-entries td");
  for (const cell of cells) {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const whole = node.parentElement.closest(".nw") !== null
        || (node.parentElement === cell && cell.classList.contains("id"));
      for (const match of node.textContent.matchAll(/\\S+/g)) {
        if (!whole && !match[0].includes("-")) continue;
        const range = document.createRange();
        range.setStart(node, match.index);
        range.setEnd(node, match.index + match[0].length);
        const tops = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
        out.push([match[0], tops.size]);
      }
    }
  }
  return out;
}
"""


def test_no_id_breaks_across_lines_on_a_narrow_page(open_html: Callable[[str], OpenedPage]) -> None:
    report = statement(world().ws.con, "partner", "P1", "2026-10", "USD")
    opened = open_html(render_html(report))
    page = opened.page
    for width in (1280, 640, 420):
        page.set_viewport_size({"width": width, "height": 900})
        words = page.evaluate(_LINES_OF_WHOLE_TEXT)
        texts = {w for w, _ in words}
        assert {"LE-00000004", "LE-00000001", "O1", "sourcer-pct", "plan@1", "dispute:D-000001:"} <= texts
        assert [w for w, lines in words if lines != 1] == [], width
    # The alerts come first and the closing balance card is red.
    alert = page.locator("#alert-negative_closing_balance")
    assert alert.is_visible() and "-1,000.00 USD" in alert.inner_text()
    card = page.locator("#figure-summary-closing_balance .value")
    assert card.evaluate("e => getComputedStyle(e).color") == "rgb(179, 38, 30)"

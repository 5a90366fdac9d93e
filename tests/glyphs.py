"""Missing glyphs in a real browser page: Chinese text drawn as empty boxes (tofu) when no CJK font is installed.

Each character is drawn on a canvas in its element's own font and compared with a code point that no font has
(U+0378, unassigned): when both give the same pixels, the character fell back to the missing-glyph box.
"""

from __future__ import annotations

from playwright.sync_api import Page

# Han, CJK punctuation, kana, full-width forms: what the pages' Chinese and Japanese text is made of.
CJK = r"[\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]"
UNASSIGNED = "\u0378"

_FIND_MISSING = """
([pattern, unassigned]) => {
  const canvas = document.createElement("canvas");
  canvas.width = 48; canvas.height = 48;
  const pen = canvas.getContext("2d", {willReadFrequently: true});
  const pixels = (text, font) => {
    pen.clearRect(0, 0, 48, 48);
    pen.font = font;
    pen.fillText(text, 4, 36);
    return pen.getImageData(0, 0, 48, 48).data.join(",");
  };
  const wanted = new RegExp(pattern, "gu");
  const missing = new Set();
  let shown = 0;
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const text = walker.currentNode.data;
    const element = walker.currentNode.parentElement;
    const chars = text.match(wanted);
    if (!chars || !element || !element.getClientRects().length) continue;  // only what is on show
    shown += chars.length;
    const style = getComputedStyle(element);
    const font = `${style.fontStyle} ${style.fontWeight} 28px ${style.fontFamily}`;
    const box = pixels(unassigned, font);
    for (const char of chars) if (pixels(char, font) === box) missing.add(char);
  }
  return {missing: [...missing], shown};
}
"""


def glyphs(page: Page, pattern: str = CJK) -> tuple[list[str], int]:
    """The characters of `pattern` on show in `page` that render as the missing-glyph box, and how many such
    characters are on show."""
    found = page.evaluate(_FIND_MISSING, [pattern, UNASSIGNED])
    return found["missing"], found["shown"]


def missing_glyphs(page: Page, pattern: str = CJK) -> list[str]:
    return glyphs(page, pattern)[0]


def assert_cjk_renders(page: Page, expect_some: bool = False) -> None:
    """No Chinese text on show is drawn as empty boxes (and, with `expect_some`, there is Chinese text to check)."""
    missing, shown = glyphs(page)
    assert shown or not expect_some, f"{page.url} shows no Chinese text to check"
    assert not missing, (
        f"{page.url} draws {''.join(missing)!r} as empty boxes: no CJK font is installed"
        " (Debian: apt-get install fonts-noto-cjk; scripts/test.sh installs it)"
    )

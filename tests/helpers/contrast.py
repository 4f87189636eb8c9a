"""Colour contrast measured from computed styles in the browser (WCAG 1.4.3 and 1.4.11)."""

from __future__ import annotations

# The colours an element is seen in: its text colour, and the background under it, found by
# laying each ancestor's background colour over the ones beneath (transparent ones let the
# next one through). Returns RGB triples.
SEEN_COLOURS = """(el) => {
  const parse = (value) => {
    const m = value.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return [0, 0, 0, 0];
    const parts = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number);
    return [parts[0], parts[1], parts[2], parts.length > 3 ? parts[3] : 1];
  };
  const layers = [];
  for (let node = el; node; node = node.parentElement) {
    layers.push(parse(getComputedStyle(node).backgroundColor));
  }
  let bg = [255, 255, 255];
  for (const [r, g, b, a] of layers.reverse()) {
    bg = [r * a + bg[0] * (1 - a), g * a + bg[1] * (1 - a), b * a + bg[2] * (1 - a)];
  }
  const style = getComputedStyle(el);
  const [r, g, b, a] = parse(style.color);
  const text = [r * a + bg[0] * (1 - a), g * a + bg[1] * (1 - a), b * a + bg[2] * (1 - a)];
  const border = parse(style.borderTopColor);
  const outline = parse(style.outlineColor);
  return {
    text: text, background: bg, border: border.slice(0, 3), borderWidth: parseFloat(style.borderTopWidth),
    outline: outline.slice(0, 3), outlineWidth: style.outlineStyle === 'none' ? 0 : parseFloat(style.outlineWidth),
    boxShadow: style.boxShadow,
  };
}"""


def luminance(rgb: list[float]) -> float:
    def channel(value: float) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(v) for v in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def ratio(first: list[float], second: list[float]) -> float:
    """The WCAG contrast ratio of two colours (1 to 21)."""
    light, dark = sorted((luminance(first), luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def seen(locator) -> dict:  # noqa: ANN001
    """Text and background colours of the element as it is seen now."""
    return locator.evaluate(SEEN_COLOURS)


def text_contrast(locator) -> float:  # noqa: ANN001
    colours = seen(locator)
    return ratio(colours["text"], colours["background"])


def background_under(locator) -> list[float]:  # noqa: ANN001
    """The background an element sits on: its parent's, as seen."""
    return locator.evaluate("(el) => (" + SEEN_COLOURS + ")(el.parentElement).background")

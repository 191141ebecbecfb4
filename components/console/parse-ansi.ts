/* eslint-disable no-control-regex -- an ANSI parser matches control characters by design */
/**
 * A small ANSI escape parser: SGR (colours, bold, …) becomes style objects, every other escape sequence is
 * dropped. The text it returns is rendered as React text nodes, so program output is never HTML.
 */
export type AnsiStyle = {
  fg?: string;
  bg?: string;
  bold?: boolean;
  dim?: boolean;
  italic?: boolean;
  underline?: boolean;
  inverse?: boolean;
  strike?: boolean;
};

export type AnsiSegment = { text: string; style: AnsiStyle };

const BASIC_NAMES = ["black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"];

/** The 16 basic colours follow the theme through CSS variables (globals.css). */
const basicColour = (index: number) => `var(--ansi-${index >= 8 ? "bright-" : ""}${BASIC_NAMES[index % 8]})`;

function colour256(index: number): string | undefined {
  if (!Number.isInteger(index) || index < 0 || index > 255) return undefined;
  if (index < 16) return basicColour(index);
  if (index >= 232) {
    const level = 8 + (index - 232) * 10;
    return `rgb(${level},${level},${level})`;
  }
  const cube = index - 16;
  const level = (step: number) => (step === 0 ? 0 : 55 + step * 40);
  return `rgb(${level(Math.floor(cube / 36))},${level(Math.floor(cube / 6) % 6)},${level(cube % 6)})`;
}

const byte = (value: number | undefined) => (value !== undefined && Number.isInteger(value) && value >= 0 && value <= 255 ? value : undefined);

/** Applies one SGR parameter list (`ESC [ … m`) to a style; returns the new style. */
export function applySgr(style: AnsiStyle, params: number[]): AnsiStyle {
  let next: AnsiStyle = { ...style };
  if (params.length === 0) params = [0];
  for (let index = 0; index < params.length; index++) {
    const code = params[index];
    if (code === 0) next = {};
    else if (code === 1) next.bold = true;
    else if (code === 2) next.dim = true;
    else if (code === 3) next.italic = true;
    else if (code === 4) next.underline = true;
    else if (code === 7) next.inverse = true;
    else if (code === 9) next.strike = true;
    else if (code === 22) next.bold = next.dim = undefined;
    else if (code === 23) next.italic = undefined;
    else if (code === 24) next.underline = undefined;
    else if (code === 27) next.inverse = undefined;
    else if (code === 29) next.strike = undefined;
    else if (code >= 30 && code <= 37) next.fg = basicColour(code - 30);
    else if (code === 39) next.fg = undefined;
    else if (code >= 40 && code <= 47) next.bg = basicColour(code - 40);
    else if (code === 49) next.bg = undefined;
    else if (code >= 90 && code <= 97) next.fg = basicColour(code - 90 + 8);
    else if (code >= 100 && code <= 107) next.bg = basicColour(code - 100 + 8);
    else if (code === 38 || code === 48) {
      const mode = params[index + 1];
      let colour: string | undefined;
      if (mode === 5) {
        colour = colour256(params[index + 2]);
        index += 2;
      } else if (mode === 2) {
        const [r, g, b] = [byte(params[index + 2]), byte(params[index + 3]), byte(params[index + 4])];
        if (r !== undefined && g !== undefined && b !== undefined) colour = `rgb(${r},${g},${b})`;
        index += 4;
      } else break; // malformed: ignore the rest
      if (code === 38) next.fg = colour;
      else next.bg = colour;
    }
  }
  return next;
}

// CSI: ESC [ params intermediates final; OSC: ESC ] … (BEL | ESC \); other: ESC + one char.
const ESCAPE = /\x1b(?:\[([0-?]*)[ -/]*([@-~])|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])/g;
// An escape sequence cut off at the end of a chunk: keep it for the next chunk.
const INCOMPLETE_TAIL = /\x1b(?:\[[0-?]*[ -/]*|\][^\x07\x1b]*|)$/;

/** Stateful across chunks: colours carry over, and an escape split between two chunks is still understood. */
export class AnsiParser {
  private style: AnsiStyle = {};
  private carry = "";

  feed(input: string): AnsiSegment[] {
    let text = this.carry + input;
    this.carry = "";
    const tail = INCOMPLETE_TAIL.exec(text);
    if (tail && tail[0].length < 256) {
      this.carry = tail[0];
      text = text.slice(0, tail.index);
    }
    const segments: AnsiSegment[] = [];
    let last = 0;
    ESCAPE.lastIndex = 0;
    for (let match = ESCAPE.exec(text); match; match = ESCAPE.exec(text)) {
      if (match.index > last) segments.push({ text: stripControls(text.slice(last, match.index)), style: this.style });
      if (match[2] === "m") {
        const params = (match[1] ?? "")
          .split(/[;:]/)
          .filter((part, index, all) => part !== "" || all.length > 1)
          .map((part) => (part === "" ? 0 : Number.parseInt(part, 10)));
        this.style = applySgr(
          this.style,
          params.filter((value) => Number.isFinite(value)),
        );
      }
      last = ESCAPE.lastIndex;
    }
    if (last < text.length) segments.push({ text: stripControls(text.slice(last)), style: this.style });
    return segments.filter((segment) => segment.text.length > 0);
  }
}

/** Other C0 controls (bell, backspace, a lone ESC) have no meaning in a web console; newline, tab and CR stay. */
function stripControls(text: string): string {
  return text.replace(/[\x00-\x08\x0b\x0c\x0e-\x1a\x1c-\x1f\x7f\x1b]/g, "");
}

/** The inline style for a segment (a plain object: React sets it through the CSSOM, never as markup). */
export function cssForStyle(style: AnsiStyle): React.CSSProperties | undefined {
  if (!style.fg && !style.bg && !style.bold && !style.dim && !style.italic && !style.underline && !style.inverse && !style.strike) return undefined;
  const css: React.CSSProperties = {};
  let fg = style.fg;
  let bg = style.bg;
  if (style.inverse) [fg, bg] = [bg ?? "var(--console-bg)", fg ?? "var(--console-fg)"];
  if (fg) css.color = fg;
  if (bg) css.backgroundColor = bg;
  if (style.bold) css.fontWeight = 700;
  if (style.dim) css.opacity = 0.7;
  if (style.italic) css.fontStyle = "italic";
  const lines = [style.underline && "underline", style.strike && "line-through"].filter(Boolean);
  if (lines.length) css.textDecoration = lines.join(" ");
  return css;
}

import type { OutputStream, RunChunkEvent } from "@/lib/realtime/events";
import { AnsiParser, type AnsiStyle } from "./parse-ansi";

export type OutputSegment = { text: string; style: AnsiStyle; stream: OutputStream };
export type OutputRow = { segments: OutputSegment[]; length: number };

/** A row longer than this is continued on the next row, so one huge line cannot make one huge DOM node. */
export const MAX_ROW_CHARS = 4000;

/**
 * The console's rows, built incrementally from chunks in seq order: stdout and stderr interleave as they
 * came, each with its own ANSI state. Rows are only appended (or the open last row rewritten on `\r`).
 */
export class OutputModel {
  readonly rows: OutputRow[] = [{ segments: [], length: 0 }];
  private consumed = 0;
  private parsers: Record<OutputStream, AnsiParser> = { stdout: new AnsiParser(), stderr: new AnsiParser() };
  private pendingCarriageReturn = false;
  /** Bumped on every change, so a memoised view can tell. */
  revision = 0;

  /** Feeds the chunks not seen yet (idempotent: safe to call on every render). */
  consume(chunks: readonly RunChunkEvent[], count = chunks.length): void {
    if (count <= this.consumed) return;
    for (let index = this.consumed; index < count; index++) this.append(chunks[index].stream, chunks[index].data);
    this.consumed = count;
    this.revision++;
  }

  /** Rows that hold something; the open last row counts once it has text. */
  get visibleRowCount(): number {
    const last = this.rows[this.rows.length - 1];
    return last.length === 0 ? this.rows.length - 1 : this.rows.length;
  }

  private append(stream: OutputStream, data: string): void {
    for (const segment of this.parsers[stream].feed(data)) {
      // "\r\n" is a newline; a lone "\r" rewinds the open row (progress bars redraw themselves that way).
      const pieces = segment.text.split(/(\r\n|\n|\r)/);
      for (const piece of pieces) {
        if (piece === "\n" || piece === "\r\n") {
          this.pendingCarriageReturn = false;
          this.rows.push({ segments: [], length: 0 });
        } else if (piece === "\r") {
          this.pendingCarriageReturn = true;
        } else if (piece) {
          if (this.pendingCarriageReturn) {
            this.rows[this.rows.length - 1] = { segments: [], length: 0 };
            this.pendingCarriageReturn = false;
          }
          this.appendText(piece, segment.style, stream);
        }
      }
    }
  }

  private appendText(text: string, style: AnsiStyle, stream: OutputStream): void {
    let rest = text;
    while (rest.length > 0) {
      let row = this.rows[this.rows.length - 1];
      if (row.length >= MAX_ROW_CHARS) {
        row = { segments: [], length: 0 };
        this.rows.push(row);
      }
      const piece = rest.slice(0, MAX_ROW_CHARS - row.length);
      rest = rest.slice(piece.length);
      const previous = row.segments[row.segments.length - 1];
      // Rows are replaced, not mutated, so React sees the change in the open row.
      const segments =
        previous && previous.style === style && previous.stream === stream
          ? [...row.segments.slice(0, -1), { ...previous, text: previous.text + piece }]
          : [...row.segments, { text: piece, style, stream }];
      this.rows[this.rows.length - 1] = { segments, length: row.length + piece.length };
    }
  }
}

/**
 * The intent as the offline planner reads it: each recognised phrase is taken out (blanked
 * with a marker of the same length) so that later rules cannot read the same words again,
 * e.g. "nginx" in "nginx version" is not also taken as a service to check.
 */
export class IntentText {
  /** Stands in for taken text; host selectors leave it behind so host lists stay visible. */
  static readonly MARK = "\u0001";
  private masked: string;

  constructor(readonly original: string) {
    // One space for any run of whitespace keeps the patterns simple; the length is kept.
    this.masked = original.replace(/\s/g, " ");
  }

  /** The text not yet taken. */
  get rest(): string {
    return this.masked;
  }

  /** Finds `pattern` in the text not yet taken and takes it. Patterns need not be global. */
  take(pattern: RegExp): RegExpExecArray | null {
    const m = new RegExp(pattern.source, pattern.flags.replace("g", "")).exec(this.masked);
    if (m) this.blank(m.index, m[0].length);
    return m;
  }

  /** Every match of `pattern`, each taken. */
  takeAll(pattern: RegExp): RegExpExecArray[] {
    const found: RegExpExecArray[] = [];
    for (let m = this.take(pattern); m && m[0].length > 0; m = this.take(pattern)) found.push(m);
    return found;
  }

  blank(index: number, length: number): void {
    this.masked =
      this.masked.slice(0, index) + IntentText.MARK.repeat(length) + this.masked.slice(index + length);
  }

  /** Words left over once everything understood has been taken. */
  leftoverWords(): string[] {
    return this.masked
      .split(/[^A-Za-z0-9@._-]+/)
      .map((w) => w.replace(/^[._-]+|[._-]+$/g, "").toLowerCase())
      .filter(Boolean);
  }
}

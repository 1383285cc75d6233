/**
 * Codegen templates live in templates/ so the skeleton of generated files changes without
 * touching the compiler. `{{name}}` placeholders are filled with text; a value put on a
 * `//` comment line continues on new comment lines, so no value can end a comment early.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const TEMPLATES_DIR = fileURLToPath(new URL("../../templates/", import.meta.url));
const cache = new Map<string, string>();

export function loadTemplate(name: string): string {
  let text = cache.get(name);
  if (text === undefined) {
    text = readFileSync(`${TEMPLATES_DIR}${name}`, "utf8");
    cache.set(name, text);
  }
  return text;
}

/** Every line terminator ECMAScript knows: any of them would end a `//` comment. */
export const LINE_BREAK = /\r\n|[\r\n\u2028\u2029]/;

/**
 * Lines of at most `width` characters, broken between words (a longer word stays whole);
 * the first line has `firstOffset` fewer characters (text already before it).
 */
export function wrapWords(text: string, width: number, firstOffset = 0): string[] {
  let offset = firstOffset;
  return text.split(LINE_BREAK).flatMap((paragraph) => {
    const lines: string[] = [];
    let line = "";
    for (const word of paragraph.trim().split(/ +/)) {
      if (line && offset + line.length + 1 + word.length > width) {
        offset = 0;
        lines.push(line);
        line = word;
      } else line = line ? `${line} ${word}` : word;
    }
    lines.push(line);
    offset = 0;
    return lines;
  });
}

/** Width of comment text in generated files. */
export const COMMENT_WIDTH = 96;

export function renderTemplate(template: string, values: Record<string, string>): string {
  return template
    .split("\n")
    .map((line) => {
      const comment = /^(\s*\/\/ ?)/.exec(line)?.[1];
      return line.replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
        const value = values[name];
        if (value === undefined) throw new Error(`template value "${name}" is missing`);
        if (!comment) return value;
        const offset = line.indexOf(`{{${name}}}`) - comment.length;
        return wrapWords(value, COMMENT_WIDTH, offset).join(`\n${comment}`);
      });
    })
    .join("\n");
}

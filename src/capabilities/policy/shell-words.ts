/**
 * Splits a shell command line into simple commands (at `;`, `&&`, `||`, `|`, `&` and newlines
 * outside quotes), each a list of words with its redirections set apart. A tokeniser, not a
 * shell: it does not expand anything, it only finds what each command runs.
 */

export type Redirect = { op: string; target: string };
export type SimpleCommand = {
  words: string[];
  /** true when the previous command's output is piped into this one */
  piped: boolean;
  redirects: Redirect[];
};

export function splitCommands(command: string): SimpleCommand[] {
  const commands: SimpleCommand[] = [];
  let words: string[] = [];
  let word = "";
  let inWord = false;
  let quoted = false;
  let quote: "'" | '"' | null = null;
  let pipedIn = false;
  const endWord = () => {
    if (inWord) words.push(quoted ? `\u0000${word}` : word);
    word = "";
    inWord = false;
    quoted = false;
  };
  const endCommand = (nextPiped: boolean) => {
    endWord();
    if (words.length) commands.push(withRedirects(words, pipedIn));
    words = [];
    pipedIn = nextPiped;
  };
  for (let i = 0; i < command.length; i++) {
    const c = command[i]!;
    if (quote) {
      if (c === quote) quote = null;
      else if (c === "\\" && quote === '"' && i + 1 < command.length) word += command[++i];
      else word += c;
      continue;
    }
    if ((c === "$" && command[i + 1] === "(") || c === "`") {
      // A substitution is one word however many operators it holds: `$(a | b)`.
      const end = substitutionEnd(command, i);
      word += command.slice(i, end + 1);
      inWord = true;
      i = end;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
      quoted = true;
    } else if (c === "\\" && i + 1 < command.length) {
      word += command[++i];
      inWord = true;
    } else if (c === " " || c === "\t") endWord();
    else if (c === "&" && (/[<>]$/.test(word) || command[i + 1] === ">")) {
      // `2>&1` and `&>` are redirections, not the background operator.
      word += c;
      inWord = true;
    } else if (c === ";" || c === "\n" || c === "&" || c === "\r") {
      if (command[i + 1] === "&") i++;
      endCommand(false);
    } else if (c === "|") {
      const or = command[i + 1] === "|";
      if (or) i++;
      endCommand(!or);
    } else if ((c === "(" || c === ")" || c === "{" || c === "}") && !inWord) {
      // Grouping: `(a; b)`, `{ a; }` run their contents as ordinary commands.
      endCommand(false);
    } else {
      word += c;
      inWord = true;
    }
  }
  endCommand(false);
  return commands;
}

/** A redirection operator, alone (`>`) or glued to its target (`2>/dev/null`, `>>log`). */
const REDIRECT = /^(\d*|&)(>&|<&|>>?|<<?<?|>\|)(.*)$/;

function withRedirects(raw: string[], piped: boolean): SimpleCommand {
  const words: string[] = [];
  const redirects: Redirect[] = [];
  for (let i = 0; i < raw.length; i++) {
    const w = raw[i]!;
    // Quoted words (marked with a leading NUL by the tokeniser) are never operators.
    if (w.startsWith("\u0000")) {
      words.push(w.slice(1));
      continue;
    }
    // `<(cmd)` and `>(cmd)` are process substitutions: words, not redirections.
    const m = /^[<>]\(/.test(w) ? null : REDIRECT.exec(w);
    if (!m) {
      words.push(w);
      continue;
    }
    const op = `${m[1]}${m[2]}`;
    let target = m[3] ?? "";
    if (target === "" && i + 1 < raw.length) target = unmark(raw[++i]!);
    redirects.push({ op, target });
  }
  return { words, piped, redirects };
}

/** Does this redirection write somewhere that lasts? `>/dev/null` and `2>&1` do not. */
export function writesFile(r: Redirect): boolean {
  if (!r.op.includes(">")) return false;
  if (r.op.endsWith(">&")) return !/^(\d|-)$/.test(r.target);
  return !/^\/dev\/(null|stdout|stderr|fd\/\d)$/.test(r.target);
}

/** Index of the `)` or backquote closing the substitution starting at `start` (or the last index). */
function substitutionEnd(command: string, start: number): number {
  if (command[start] === "`") {
    const end = command.indexOf("`", start + 1);
    return end < 0 ? command.length - 1 : end;
  }
  let level = 0;
  let quote: string | null = null;
  for (let j = start + 1; j < command.length; j++) {
    const c = command[j]!;
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === "'" || c === '"') quote = c;
    else if (c === "(") level++;
    else if (c === ")" && --level === 0) return j;
  }
  return command.length - 1;
}

function unmark(word: string): string {
  return word.startsWith("\u0000") ? word.slice(1) : word;
}

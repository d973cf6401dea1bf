import { isMap, isScalar, isSeq, Scalar, type Document, type Node } from "yaml";

/**
 * Where, in the file's text, the character at `index` of a string value comes from: what an error inside a value (a
 * filter pattern's syntax error) needs to point at its column, whatever the YAML style of the scalar. A scalar's text
 * is not its value: quotes, escapes (`\"`, `\t`, `''`), line folding and a block scalar's indentation sit between
 * them. Undefined when `path` names no string scalar, or when the decoding below does not reproduce the parser's
 * value exactly (then the caller points at the value's start, which is never wrong).
 */
export function sourceOffsetInScalar(
  doc: Document,
  text: string,
  path: readonly (string | number)[],
  index: number,
): number | undefined {
  const node = nodeAt(doc, path);
  if (!isScalar(node) || typeof node.value !== "string" || !node.range) return undefined;
  const decoded = decodeScalar(text, node.range[0], node.range[1], node.type);
  if (decoded === undefined || decoded.value !== node.value) return undefined;
  if (index >= decoded.offsets.length) return decoded.end;
  return decoded.offsets[Math.max(0, index)];
}

function nodeAt(doc: Document, path: readonly (string | number)[]): Node | null | undefined {
  let node: Node | null | undefined = doc.contents;
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && p.key.value === seg);
      node = pair?.value as Node | null | undefined;
    } else if (isSeq(node) && typeof seg === "number") {
      node = node.items[seg] as Node | undefined;
    } else {
      return undefined;
    }
  }
  return node;
}

/** The decoded value with the source offset of each of its characters, and the offset just past the content. */
interface Decoded {
  readonly value: string;
  readonly offsets: number[];
  readonly end: number;
}

/** One source line of a flow scalar's content: its text after the line's indentation, and where that text starts. */
interface Line {
  readonly start: number;
  readonly text: string;
}

export function decodeScalar(
  text: string,
  start: number,
  end: number,
  type: Scalar["type"],
): Decoded | undefined {
  switch (type) {
    case Scalar.PLAIN:
      return foldFlow(text, start, end, (s, e) => plainChars(text, s, e));
    case Scalar.QUOTE_SINGLE:
      return foldFlow(text, start + 1, end - 1, (s, e) => singleQuotedChars(text, s, e));
    case Scalar.QUOTE_DOUBLE:
      return doubleQuoted(text, start + 1, end - 1);
    case Scalar.BLOCK_LITERAL:
    case Scalar.BLOCK_FOLDED:
      return block(text, start, end, type === Scalar.BLOCK_FOLDED);
    default:
      return undefined;
  }
}

type Chars = { value: string; offsets: number[] };

function plainChars(text: string, s: number, e: number): Chars {
  const offsets: number[] = [];
  for (let i = s; i < e; i++) offsets.push(i);
  return { value: text.slice(s, e), offsets };
}

function singleQuotedChars(text: string, s: number, e: number): Chars {
  let value = "";
  const offsets: number[] = [];
  for (let i = s; i < e; i++) {
    value += text[i];
    offsets.push(i);
    // '' is one quote.
    if (text[i] === "'" && text[i + 1] === "'") i++;
  }
  return { value, offsets };
}

/** Splits a flow scalar's content into lines; every line but the first loses its leading white space. */
function lines(text: string, s: number, e: number): Line[] {
  const out: Line[] = [];
  let lineStart = s;
  for (let i = s; i <= e; i++) {
    if (i === e || text[i] === "\n") {
      let from = lineStart;
      if (out.length > 0) while (from < i && (text[from] === " " || text[from] === "\t")) from++;
      let to = i > lineStart && text[i - 1] === "\r" ? i - 1 : i;
      // Trailing white space before a line break is not content.
      if (i < e) while (to > from && (text[to - 1] === " " || text[to - 1] === "\t")) to--;
      out.push({ start: from, text: text.slice(from, to) });
      lineStart = i + 1;
    }
  }
  return out;
}

/**
 * Line folding of plain and single-quoted scalars: a line break between two non-empty lines is one space, and each
 * empty line in between is one newline. `chars` decodes one line's text.
 */
function foldFlow(text: string, s: number, e: number, chars: (from: number, to: number) => Chars): Decoded {
  let value = "";
  const offsets: number[] = [];
  let empties = 0;
  let first = true;
  for (const line of lines(text, s, e)) {
    if (line.text === "" && !first) {
      empties++;
      continue;
    }
    if (!first) {
      const sep = empties === 0 ? " " : "\n".repeat(empties);
      for (const c of sep) {
        value += c;
        offsets.push(line.start);
      }
    }
    const decoded = chars(line.start, line.start + line.text.length);
    value += decoded.value;
    offsets.push(...decoded.offsets);
    empties = 0;
    first = false;
  }
  return { value, offsets, end: e };
}

const ESCAPES: Record<string, string> = {
  "0": "\0",
  a: "\x07",
  b: "\b",
  t: "\t",
  "\t": "\t",
  n: "\n",
  v: "\v",
  f: "\f",
  r: "\r",
  e: "\x1b",
  " ": " ",
  '"': '"',
  "/": "/",
  "\\": "\\",
  N: "\u0085",
  _: "\u00a0",
  L: "\u2028",
  P: "\u2029",
};

/** A double-quoted scalar: escapes, escaped line breaks, and folding. */
function doubleQuoted(text: string, s: number, e: number): Decoded | undefined {
  let value = "";
  const offsets: number[] = [];
  const push = (c: string, at: number) => {
    value += c;
    offsets.push(at);
  };
  let i = s;
  while (i < e) {
    const c = text[i] ?? "";
    if (c === "\\") {
      const n = text[i + 1] ?? "";
      if (n === "\n" || n === "\r") {
        // An escaped line break joins the lines with nothing between them.
        i += n === "\r" && text[i + 2] === "\n" ? 3 : 2;
        while (i < e && (text[i] === " " || text[i] === "\t")) i++;
        continue;
      }
      const hex = n === "x" ? 2 : n === "u" ? 4 : n === "U" ? 8 : 0;
      if (hex > 0) {
        const code = Number.parseInt(text.slice(i + 2, i + 2 + hex), 16);
        if (Number.isNaN(code)) return undefined;
        push(String.fromCodePoint(code), i);
        i += 2 + hex;
        continue;
      }
      const decoded = ESCAPES[n];
      if (decoded === undefined) return undefined;
      push(decoded, i);
      i += 2;
      continue;
    }
    if (c === "\n" || c === "\r") {
      // Folding: trailing white space before the break goes, as does the next lines' indentation.
      // (An escaped space, whose offset is its backslash's, stays.)
      while ((value.endsWith(" ") || value.endsWith("\t")) && text[offsets.at(-1) ?? 0] !== "\\") {
        value = value.slice(0, -1);
        offsets.pop();
      }
      let empties = 0;
      let j = i;
      for (;;) {
        j += text[j] === "\r" && text[j + 1] === "\n" ? 2 : 1;
        while (j < e && (text[j] === " " || text[j] === "\t")) j++;
        if (j < e && (text[j] === "\n" || text[j] === "\r")) {
          empties++;
          continue;
        }
        break;
      }
      for (const f of empties === 0 ? " " : "\n".repeat(empties)) push(f, i);
      i = j;
      continue;
    }
    push(c, i);
    i++;
  }
  return { value, offsets, end: e };
}

/** `|` and `>` block scalars: a header line, then lines at one indentation. */
function block(text: string, start: number, end: number, folded: boolean): Decoded | undefined {
  const headerEnd = text.indexOf("\n", start);
  if (headerEnd < 0 || headerEnd >= end) return { value: "", offsets: [], end };
  const header = text
    .slice(start + 1, headerEnd)
    .replace(/\s+#.*$/, "")
    .trim();
  const chomp = header.includes("-") ? "strip" : header.includes("+") ? "keep" : "clip";
  const explicit = /[1-9]/.exec(header)?.[0];
  const raw: Line[] = [];
  let lineStart = headerEnd + 1;
  for (let i = lineStart; i <= end; i++) {
    if (i === end || text[i] === "\n") {
      if (!(i === end && lineStart === end)) raw.push({ start: lineStart, text: text.slice(lineStart, i) });
      lineStart = i + 1;
    }
  }
  const firstContent = raw.find((l) => l.text.trim() !== "");
  const indent =
    explicit !== undefined
      ? Number(explicit) + leadingSpaces(text.slice(text.lastIndexOf("\n", start) + 1, start))
      : firstContent !== undefined
        ? leadingSpaces(firstContent.text)
        : 0;
  let value = "";
  const offsets: number[] = [];
  const push = (c: string, at: number) => {
    value += c;
    offsets.push(at);
  };
  let previous: "none" | "text" | "more" = "none";
  let pendingBreaks: number[] = [];
  for (const line of raw) {
    const body = line.text.length >= indent ? line.text.slice(indent) : "";
    const at = line.start + Math.min(indent, line.text.length);
    if (line.text.trim() === "") {
      pendingBreaks.push(at);
      continue;
    }
    const more = folded && (body.startsWith(" ") || body.startsWith("\t"));
    if (previous !== "none") {
      // Folding joins two plain lines with a space when no empty line separates them; every other break is kept.
      if (folded && previous === "text" && !more && pendingBreaks.length === 0) push(" ", at);
      else {
        const breaks = folded && previous === "text" && !more ? pendingBreaks : [at, ...pendingBreaks];
        for (const b of breaks) push("\n", b);
      }
    } else {
      for (const b of pendingBreaks) push("\n", b);
    }
    pendingBreaks = [];
    for (let k = 0; k < body.length; k++) push(body[k] ?? "", at + k);
    previous = more ? "more" : "text";
  }
  if (chomp !== "strip" && previous !== "none") {
    push("\n", end);
    if (chomp === "keep") for (const b of pendingBreaks) push("\n", b);
  }
  return { value, offsets, end };
}

function leadingSpaces(s: string): number {
  return s.length - s.trimStart().length;
}

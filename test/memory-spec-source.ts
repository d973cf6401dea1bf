import type { KindDefinition, SpecDocument } from "../controllers/spec/document.ts";
import { crossCheck, parseSpecText } from "../controllers/spec/load.ts";
import { EMPTY_SNAPSHOT, nextRead, type SpecRead, type SpecSource } from "../controllers/spec-source.ts";

/**
 * Spec files in memory, read as the directory source reads its files (`nextRead`: an invalid file keeps its last
 * valid specs), for unit tests of the controller. `write` and `remove` are what a file event followed by a read is
 * for the directory source; changing `files` by hand is seen at the next `load` (the controller's interval).
 */
export class MemorySpecSource implements SpecSource {
  readonly location = "memory";
  readonly files = new Map<string, string>();
  closed = false;
  reads = 0;
  /** Reads as a directory that does not exist does. */
  missing = false;
  private readonly kinds: readonly KindDefinition[];
  private current = EMPTY_SNAPSHOT;
  private onRead: ((read: SpecRead) => void) | undefined;

  constructor(kinds: readonly KindDefinition[]) {
    this.kinds = kinds;
  }

  async load(): Promise<SpecRead> {
    this.reads++;
    const documents: SpecDocument[] = [];
    const diagnostics = [];
    for (const [file, text] of [...this.files].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const parsed = parseSpecText(file, text, this.kinds);
      documents.push(...parsed.documents);
      diagnostics.push(...parsed.diagnostics);
    }
    const cross = crossCheck(documents, this.kinds);
    const rejected = new Set(cross.rejected);
    if (this.missing) {
      diagnostics.push({ file: this.location, line: 1, col: 1, message: "no such file or directory" });
      this.files.clear();
    }
    const read = nextRead(this.current, {
      documents: documents.filter((d) => !rejected.has(d)),
      diagnostics: [...diagnostics, ...cross.diagnostics],
      files: [...this.files.keys()],
    });
    this.current = read.snapshot;
    return read;
  }

  watch(onRead: (read: SpecRead) => void): void {
    this.onRead = onRead;
  }

  close(): void {
    this.closed = true;
  }

  async write(file: string, text: string): Promise<void> {
    this.files.set(file, text);
    await this.reread();
  }

  async remove(file: string): Promise<void> {
    this.files.delete(file);
    await this.reread();
  }

  private async reread(): Promise<void> {
    const read = await this.load();
    if (!this.closed) this.onRead?.(read);
  }
}

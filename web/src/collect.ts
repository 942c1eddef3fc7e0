// Files a person chose or dropped, with the folder path each sits in, so
// that a dropped folder is recreated on the server as it was.

export interface Picked {
  file: File;
  /** Folder names from the drop target down to the file, e.g. ["photos", "2024"]. */
  dirs: string[];
}

/** From an <input type=file>, with or without `webkitdirectory`. */
export function fromInput(files: FileList): Picked[] {
  return Array.from(files, (file) => {
    const path = file.webkitRelativePath || file.name;
    return { file, dirs: path.split('/').slice(0, -1) };
  });
}

/**
 * From a drop. `webkitGetAsEntry` must be called before the event handler
 * returns, so entries are taken at once and walked afterwards.
 */
export async function fromDrop(data: DataTransfer): Promise<Picked[]> {
  const entries = Array.from(data.items, (item) => item.webkitGetAsEntry()).filter(
    (e): e is FileSystemEntry => e !== null,
  );
  if (entries.length === 0) return Array.from(data.files, (file) => ({ file, dirs: [] }));
  const out: Picked[] = [];
  for (const entry of entries) await walk(entry, [], out);
  return out;
}

async function walk(entry: FileSystemEntry, dirs: string[], out: Picked[]): Promise<void> {
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
    out.push({ file, dirs });
    return;
  }
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  const inside = [...dirs, entry.name];
  // readEntries answers in batches until it answers an empty one.
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (batch.length === 0) break;
    for (const child of batch) await walk(child, inside, out);
  }
}

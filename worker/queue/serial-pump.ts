/**
 * A claim loop that runs one at a time: claims are awaited, and two loops could both see a free slot and claim past
 * a limit. A pump while the loop runs makes it look once more when it ends (unless `stopped()`), never twice at once.
 */
export function serialPump(loop: () => Promise<void>, stopped: () => boolean = () => false): () => void {
  let running = false;
  let again = false;
  const pump = (): void => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    again = false;
    void loop().finally(() => {
      running = false;
      if (again && !stopped()) pump();
    });
  };
  return pump;
}

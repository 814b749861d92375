// Names are reserved before anything is made (as containerd does), so two requests for the
// same pod or container name cannot both proceed; a failed request gives its name back.
import { conflict } from '../errors';

export class NameIndex {
  private readonly byName = new Map<string, string>();

  reserve(name: string, id: string): void {
    const owner = this.byName.get(name);
    if (owner !== undefined && owner !== id) throw conflict(`name ${JSON.stringify(name)} is reserved for ${owner}`);
    this.byName.set(name, id);
  }

  release(name: string): void {
    this.byName.delete(name);
  }
}

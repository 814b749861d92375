// Options given before the verb, shared by every command.
export interface Globals {
  root: string;
  debug: boolean;
  systemdCgroup: boolean;
  /** runc's --rootless: true, false or auto (the default: not real root) */
  rootless?: string;
  /** image store root: --store, $TSRUN_STORE, or /var/lib/tsrun */
  store: string;
  /** cri --explain=html DIR: one page per pod, in this language */
  explainHtml?: { dir: string; lang: 'en' | 'ja' };
}

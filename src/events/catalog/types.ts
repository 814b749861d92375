import type { StepKind } from '../types';

/** A step's name and a one- or two-line explanation of the kernel concept behind it. */
export interface StepText {
  title: string;
  explain: string;
  /**
   * The event's detail in this language. Details are data (paths, pids, flags) written by the
   * runtime in one form; the few words in them are said here in the catalog's language.
   */
  detail?: (detail: string) => string;
}

export type Catalog = Record<StepKind, StepText>;

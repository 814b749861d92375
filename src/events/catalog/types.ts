import type { StepKind } from '../types';

/** A step's name and a one- or two-line explanation of the kernel concept behind it. */
export interface StepText {
  title: string;
  explain: string;
}

export type Catalog = Record<StepKind, StepText>;

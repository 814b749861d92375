import type { StepKind } from '../types';

/** A step's name and a one- or two-line explanation of the kernel concept behind it. */
export interface StepText {
  title: string;
  explain: string;
  /** the explanation on a cgroup v1 (or hybrid) host, where the files have their v1 names */
  explainCgroupV1?: string;
  /**
   * The event's detail in this language. Details are data (paths, pids, flags) written by the
   * runtime in one form; the few words in them are said here in the catalog's language.
   */
  detail?: (detail: string) => string;
}

export type Catalog = Record<StepKind, StepText>;

/** What `inspect --explain` says about each part of the kernel's view. */
export interface InspectTexts {
  namespaces: string;
  cgroup: string;
  processes: string;
  capabilities: string;
  seccomp: string;
  mounts: string;
  layers: string;
}

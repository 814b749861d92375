// Where a JSON document is wrong, in the words a user reads: paths as in the document, and a
// schema's first complaint.

/** ["mounts", 2, "destination"] -> "mounts[2].destination" */
export function formatJsonPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out || '(root)';
}

/** A schema issue, as zod reports it. */
export interface SchemaIssue {
  path: readonly PropertyKey[];
  message: string;
  code?: string;
  expected?: unknown;
  received?: unknown;
  /** too_small, too_big: the bound, whether it is allowed, and what is bounded */
  minimum?: unknown;
  maximum?: unknown;
  inclusive?: boolean;
  type?: string;
}

/**
 * "process.user.uid: expected number, received string": the first issue, at its path. Types
 * and numeric bounds are spelt out (zod's own text says only "Required" for a missing field).
 */
export function schemaProblem(error: { issues: readonly SchemaIssue[] }): string {
  const issue = error.issues[0]!;
  let what = issue.message;
  if (issue.code === 'invalid_type') what = `expected ${String(issue.expected)}, received ${String(issue.received)}`;
  else if (issue.code === 'too_small' && issue.type === 'number') what = `expected number ${issue.inclusive ? '>=' : '>'} ${String(issue.minimum)}`;
  else if (issue.code === 'too_big' && issue.type === 'number') what = `expected number ${issue.inclusive ? '<=' : '<'} ${String(issue.maximum)}`;
  else if (issue.code === 'too_big' && issue.type === 'array') what = `more than ${String(issue.maximum)} entries (tsrun's bound)`;
  return `${formatJsonPath(issue.path)}: ${what}`;
}

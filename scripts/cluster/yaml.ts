// Configuration files are written as YAML, as kubeadm writes them, so a reader of the cluster's
// dir sees what the Kubernetes docs show. Only what the configs hold: maps, lists, strings,
// numbers and booleans; strings are always quoted (JSON's quoting is valid YAML).
type Value = string | number | boolean | Value[] | { [k: string]: Value };

function scalar(v: string | number | boolean): string {
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

function emit(v: Value, indent: string): string[] {
  if (Array.isArray(v)) {
    if (v.length === 0) return ['[]'];
    return v.flatMap((item) => {
      const lines = typeof item === 'object' ? emit(item, indent + '  ') : [scalar(item)];
      if (typeof item === 'object' && !Array.isArray(item) && Object.keys(item).length) return [`${indent}- ${lines[0]!.trimStart()}`, ...lines.slice(1)];
      return [`${indent}- ${lines.join(' ')}`];
    });
  }
  if (typeof v === 'object') {
    if (Object.keys(v).length === 0) return ['{}'];
    return Object.entries(v).flatMap(([k, val]) => {
      if (typeof val === 'object' && (Array.isArray(val) ? val.length : Object.keys(val).length))
        return [`${indent}${k}:`, ...emit(val, Array.isArray(val) ? indent : indent + '  ')];
      return [`${indent}${k}: ${typeof val === 'object' ? emit(val, indent)[0] : scalar(val)}`];
    });
  }
  return [scalar(v)];
}

export function toYaml(v: { [k: string]: Value }): string {
  return emit(v, '').join('\n') + '\n';
}
